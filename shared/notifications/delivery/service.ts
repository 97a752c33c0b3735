// The sender on a batch of queue messages: each message is read and delivered by the engine
// (./sender.ts), one rule's messages in order and different rules' at the same time, so one slow or
// broken channel never holds up another. What the engine returns to the queue is made visible again
// when it says, and reported as a partial batch failure.
import { z } from 'zod';
import { logger as sharedLogger } from '#shared/observability';
import { CHANNELS, type DeliveryMessage, TRIGGERS } from '../model';
import type { DeliveryDecision, Sender } from './sender';

/** Time a delivery may take at most: a 3 s pace wait, three 5 s vendor requests, the claim and the settle. */
export const START_RESERVE_MS = 25_000;

/** A message as the queue handed it over. */
export interface ReceivedMessage {
  messageId: string;
  /** Needed to change the message's visibility. */
  receiptHandle: string;
  body: string;
  /** SQS's ApproximateReceiveCount: 1 on the first receive. */
  receiveCount: number;
}

/** What the sender asks of the queue it consumes. */
export interface DeliveryQueue {
  /** Makes a received message visible again after this many seconds (0: at once). */
  returnAfter(receiptHandle: string, seconds: number): Promise<void>;
}

/** The fields the sender relies on; the event's other fields go to the channel as they came. */
const deliveryMessageSchema = z.object({
  key: z.string().min(1).max(1024),
  project_id: z.number().int().positive(),
  rule_id: z.number().int().positive(),
  channel: z.enum(CHANNELS),
  event: z.looseObject({
    id: z.string().min(1),
    trigger: z.enum(TRIGGERS),
    project_id: z.number().int().positive(),
    occurred_at: z.number(),
  }),
  attempt: z.number().int().optional(),
  queued_at: z.number().optional(),
});

export function parseDeliveryMessage(body: string): DeliveryMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = deliveryMessageSchema.safeParse(json);
  return parsed.success ? (parsed.data as unknown as DeliveryMessage) : undefined;
}

export interface DeliveryServiceOptions {
  sender: Sender;
  queue: DeliveryQueue;
  logger?: Pick<typeof sharedLogger, 'error' | 'warn'>;
}

/** Delivers a batch; answers the ids of the messages to keep (the rest are deleted by the event source). */
export function createDeliveryService(options: DeliveryServiceOptions) {
  const logger = options.logger ?? sharedLogger;

  async function deliverOne(
    received: ReceivedMessage,
    message: DeliveryMessage | undefined,
  ): Promise<DeliveryDecision> {
    if (!message) {
      // Never deliverable: straight back, so its receives run out at once and the dead-letter queue keeps it.
      logger.error('not a delivery message: kept for the dead-letter queue', {
        messageId: received.messageId,
      });
      return { ack: false, visibleAfterSeconds: 0 };
    }
    try {
      return await options.sender.deliver(message, { receiveCount: received.receiveCount });
    } catch (error) {
      // DynamoDB refused or throttled: the message comes back after the queue's timeout, by when any
      // claim this attempt made has expired.
      logger.error('delivery could not be carried out', { key: message.key, error });
      return { ack: false, visibleAfterSeconds: undefined };
    }
  }

  /**
   * `remainingMs`: the invocation's time left. A delivery is not started with less than
   * START_RESERVE_MS left (a pace wait, three vendor requests and the settle must fit): it goes back
   * to the queue unclaimed, at once, rather than be cut off after posting and posted again later.
   */
  return async function deliverBatch(
    messages: readonly ReceivedMessage[],
    remainingMs: () => number = () => Number.POSITIVE_INFINITY,
  ): Promise<string[]> {
    // One rule's messages in order (a rule has one destination); different rules' concurrently.
    const byRule = new Map<string, Array<[ReceivedMessage, DeliveryMessage | undefined]>>();
    for (const received of messages) {
      const message = parseDeliveryMessage(received.body);
      const group = message ? `rule ${message.rule_id}` : `message ${received.messageId}`;
      byRule.set(group, [...(byRule.get(group) ?? []), [received, message]]);
    }
    const kept: string[] = [];
    await Promise.all(
      [...byRule.values()].map(async (group) => {
        for (const [received, message] of group) {
          const decision: DeliveryDecision =
            remainingMs() < START_RESERVE_MS
              ? { ack: false, visibleAfterSeconds: 0 }
              : await deliverOne(received, message);
          if (decision.ack) continue;
          kept.push(received.messageId);
          if (decision.visibleAfterSeconds === undefined) continue;
          try {
            await options.queue.returnAfter(received.receiptHandle, decision.visibleAfterSeconds);
          } catch (error) {
            // It still comes back, after the queue's own timeout.
            logger.warn('could not change the visibility of a delivery message', {
              messageId: received.messageId,
              error,
            });
          }
        }
      }),
    );
    return kept;
  };
}
