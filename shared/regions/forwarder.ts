// Forwarding: moves a batch of an ingest queue to the home region's ingest queue, bodies and message
// attributes unchanged. The edge's forwarder does this with every batch; a pipeline region's storing
// worker does it while another region is home. It never reads a body, so nothing is poison to it:
// what it cannot send now waits in its queue, received again later at each failure (see `WaitingMode`).
import {
  ChangeMessageVisibilityBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { logger } from '#shared/observability';

/**
 * SendMessageBatch takes at most 10 entries, and at most 1 MiB (1,048,576 bytes) in all: the sum of
 * each message's body and attributes (names, types and values). A single message may itself be up to
 * 1 MiB, so a large one goes alone.
 */
export const SEND_BATCH_LIMITS = { entries: 10, bytes: 1_048_576 } as const;

/** The first push back of a message that could not be forwarded; doubled at each receive after. */
export const FIRST_RETRY_SECONDS = 10;
/** At most this long between receives while home stays unreachable: receives stay few. */
export const LONGEST_RETRY_SECONDS = 300;

/** The back-off: the first wait, doubled at each failure, never longer than the longest. */
export interface RetrySchedule {
  firstSeconds: number;
  longestSeconds: number;
}

export const RETRY_SCHEDULE: RetrySchedule = {
  firstSeconds: FIRST_RETRY_SECONDS,
  longestSeconds: LONGEST_RETRY_SECONDS,
};

/** How long a message that failed for the `attempt`-th time (1 the first) waits before its next receive. */
export function retryDelaySeconds(attempt: number, schedule: RetrySchedule = RETRY_SCHEDULE): number {
  const doublings = Math.max(0, Math.min(attempt - 1, 16));
  return Math.min(schedule.firstSeconds * 2 ** doublings, schedule.longestSeconds);
}

/**
 * Message attributes a re-sent message carries while it waits (`requeue`), taken off before it is
 * forwarded: how many times it failed to be forwarded, and since when (epoch ms) it has been waiting.
 * The ingest queue's own attributes are two; SQS allows ten.
 */
export const WAITING_ATTRIBUTES = {
  attempts: 'faultline_forward_attempts',
  since: 'faultline_forward_waiting_since',
} as const;

/**
 * How long a re-sent message keeps being re-sent: the ingest queue's retention (14 days), as long as
 * an edge's queue keeps a message. Past it, it fails as any message does, and its queue's dead-letter
 * queue takes it after the declared receives (and keeps it 14 more days).
 */
export const LONGEST_WAIT_MS = 14 * 24 * 3600 * 1000;

/** SQS's longest DelaySeconds. */
const MAX_DELAY_SECONDS = 900;

/** A received message as the forwarder needs it: what to send on, and how to push it back. */
export interface ReceivedMessage {
  messageId: string;
  /** Absent when the message came from elsewhere than a queue (tests): it is then not pushed back. */
  receiptHandle?: string;
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  /** ApproximateReceiveCount: 1 at the first receive. */
  receiveCount: number;
}

/** Lambda's SQS record as the forwarder takes it: its attributes back in SendMessage's shape. */
export function receivedMessageOf(record: SQSRecord): ReceivedMessage {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    attributes[name] = {
      DataType: value.dataType,
      ...(value.stringValue !== undefined ? { StringValue: value.stringValue } : {}),
      // Lambda hands binary values over in base64.
      ...(value.binaryValue !== undefined ? { BinaryValue: Buffer.from(value.binaryValue, 'base64') } : {}),
    };
  }
  return {
    messageId: record.messageId,
    receiptHandle: record.receiptHandle,
    body: record.body,
    attributes,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1,
  };
}

/** A message's size as SQS counts it against the batch's limit. */
export function messageBytes(message: Pick<ReceivedMessage, 'body' | 'attributes'>): number {
  let bytes = Buffer.byteLength(message.body, 'utf8');
  for (const [name, value] of Object.entries(message.attributes)) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

/** The messages in SendMessageBatch calls, in order, each under the entries and size limits. */
export function sendBatchesOf<T extends Pick<ReceivedMessage, 'body' | 'attributes'>>(
  messages: readonly T[],
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (
      current.length > 0 &&
      (current.length >= SEND_BATCH_LIMITS.entries || bytes + size > SEND_BATCH_LIMITS.bytes)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface ForwardReport {
  forwarded: number;
  /** Messages to receive again (pushed back by `retryDelaySeconds`). */
  failedMessageIds: string[];
  /** Messages re-sent to this region's queue to wait there (`requeue`); the received ones are done. */
  requeued?: number;
}

/**
 * How a message that cannot be forwarded now waits in its queue.
 * - `visibility` (an edge's forwarder): its receive is pushed back by the back-off. Its queue has no
 *   dead-letter queue, so receives may pile up for the queue's 14 days.
 * - `requeue` (a pipeline region's storing worker): it is sent again to this region's queue with the
 *   back-off as its delay (`WAITING_ATTRIBUTES` say how long it has waited), and the received copy is
 *   acknowledged. Its queue moves a message to the dead-letter queue at its 6th receive, which a
 *   home outage of 5 minutes would otherwise reach; a new copy starts its receives afresh. A copy too
 *   many (the acknowledgement lost) is harmless: storing is idempotent by the occurrence's uuid. If
 *   even the re-send fails, the message falls back to `visibility`.
 */
export type WaitingMode = 'visibility' | 'requeue';

export interface ForwarderOptions {
  /** The queue the messages were received from (this region's ingest queue): failures are pushed back there. */
  queueUrl: string;
  /** Pipeline region → URL of its ingest queue. */
  pipelineQueues: Readonly<Record<string, string>>;
  /** This region's SQS client, for its own queue. */
  sqs: SQSClient;
  /** A client for another region's queue; one per region, built on first use unless given. */
  sqsFor?: (region: string) => SQSClient;
  /** `visibility` unless told. */
  waiting?: WaitingMode;
  /** Milliseconds since the epoch; for the `requeue` attributes. */
  now?: () => number;
  /** The back-off; `RETRY_SCHEDULE` unless told (the local simulation's shorter steps). */
  retrySchedule?: RetrySchedule;
}

export interface Forwarder {
  /** Sends the messages to `home`'s ingest queue; what could not be sent is pushed back and reported. */
  forward(messages: readonly ReceivedMessage[], home: string): Promise<ForwardReport>;
  /** Lets the messages wait (a promotion toward this region is under way): pushed back or re-sent. */
  holdBack(messages: readonly ReceivedMessage[]): Promise<ForwardReport>;
}

/**
 * A queue in another region is reached by a client of that region: the request is signed for the
 * queue's region. Short timeouts, so an unreachable home costs a few seconds, not the invocation.
 */
function clientOf(region: string): SQSClient {
  return new SQSClient({
    region,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
  });
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const clients = new Map<string, SQSClient>();
  const sqsFor =
    options.sqsFor ??
    ((region: string) => {
      let client = clients.get(region);
      if (!client) {
        client = clientOf(region);
        clients.set(region, client);
      }
      return client;
    });

  const waiting = options.waiting ?? 'visibility';
  const now = options.now ?? Date.now;
  const delayOf = (attempt: number) => retryDelaySeconds(attempt, options.retrySchedule);

  /** Each message is received again after its back-off rather than the queue's visibility timeout. */
  async function pushBack(messages: readonly ReceivedMessage[]): Promise<void> {
    const handled = messages.filter((message) => message.receiptHandle !== undefined);
    for (let start = 0; start < handled.length; start += SEND_BATCH_LIMITS.entries) {
      const batch = handled.slice(start, start + SEND_BATCH_LIMITS.entries);
      try {
        const output = await options.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: batch.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.receiptHandle!,
              VisibilityTimeout: Math.min(delayOf(message.receiveCount), 43_200),
            })),
          }),
        );
        if ((output.Failed ?? []).length > 0) {
          logger.warn('some messages not pushed back; they return after the queue’s visibility timeout', {
            failed: output.Failed?.length,
          });
        }
      } catch (error) {
        // They come back after the queue's own visibility timeout instead: later, never lost.
        logger.warn('messages not pushed back; they return after the queue’s visibility timeout', {
          error: error as Error,
        });
      }
    }
  }

  /**
   * Re-sends the messages to this region's queue, each delayed by its back-off; answers those that
   * must fail instead (the re-send failed, or they have waited as long as a queue keeps a message).
   */
  async function requeue(messages: readonly ReceivedMessage[]): Promise<ReceivedMessage[]> {
    const failed: ReceivedMessage[] = [];
    const resend: Array<ReceivedMessage & { delaySeconds: number }> = [];
    for (const message of messages) {
      const attempts = waitingAttemptsOf(message) + 1;
      const since = waitingSinceOf(message) ?? now();
      if (now() - since > LONGEST_WAIT_MS) {
        logger.error('message waited 14 days to be forwarded; left to the dead-letter queue', {
          messageId: message.messageId,
          waiting_since: new Date(since).toISOString(),
        });
        failed.push(message);
        continue;
      }
      resend.push({
        ...message,
        attributes: {
          ...message.attributes,
          [WAITING_ATTRIBUTES.attempts]: { DataType: 'Number', StringValue: String(attempts) },
          [WAITING_ATTRIBUTES.since]: { DataType: 'Number', StringValue: String(since) },
        },
        delaySeconds: Math.min(delayOf(attempts), MAX_DELAY_SECONDS),
      });
    }
    await Promise.all(
      sendBatchesOf(resend).map(async (batch) => {
        const refused = await sendBatch(options.sqs, options.queueUrl, batch, (message) => ({
          DelaySeconds: message.delaySeconds,
        })).catch((error: unknown) => {
          logger.warn('messages not re-sent to wait in this queue; received again instead', {
            messages: batch.length,
            error: error as Error,
          });
          return batch.map((_, index) => index);
        });
        for (const index of refused) failed.push(batch[index]!);
      }),
    );
    return failed;
  }

  /** Lets messages that cannot be forwarded now wait, as `waiting` says; answers those reported failed. */
  async function letWait(messages: readonly ReceivedMessage[]): Promise<ForwardReport> {
    let failed = [...messages];
    if (waiting === 'requeue' && failed.length > 0) failed = await requeue(failed);
    await pushBack(failed);
    return {
      forwarded: 0,
      failedMessageIds: failed.map((message) => message.messageId),
      ...(waiting === 'requeue' ? { requeued: messages.length - failed.length } : {}),
    };
  }

  async function holdBack(messages: readonly ReceivedMessage[]): Promise<ForwardReport> {
    return letWait(messages);
  }

  async function forward(messages: readonly ReceivedMessage[], home: string): Promise<ForwardReport> {
    if (messages.length === 0) return { forwarded: 0, failedMessageIds: [] };
    const queueUrl = options.pipelineQueues[home];
    if (!queueUrl) {
      logger.error('no ingest queue known for the home region; messages wait in this queue', { home });
      return letWait(messages);
    }
    const sqs = sqsFor(home);
    const unsent: ReceivedMessage[] = [];
    // The waiting attributes are this queue's business: home receives the message as ingest sent it.
    const outgoing = messages.map((message) => ({
      ...message,
      attributes: withoutWaiting(message.attributes),
    }));
    await Promise.all(
      sendBatchesOf(outgoing).map(async (batch) => {
        try {
          for (const index of await sendBatch(sqs, queueUrl, batch)) {
            logger.warn('message not forwarded; it waits in this queue', {
              messageId: batch[index]?.messageId,
            });
            unsent.push(messages[outgoing.indexOf(batch[index]!)]!);
          }
        } catch (error) {
          logger.warn('home region unreachable; messages wait in this queue', {
            home,
            messages: batch.length,
            error: error as Error,
          });
          for (const message of batch) unsent.push(messages[outgoing.indexOf(message)]!);
        }
      }),
    );
    const forwarded = messages.length - unsent.length;
    const report = await letWait(unsent);
    if (forwarded > 0) logger.info('batch forwarded', { home, forwarded, failed: unsent.length });
    return { ...report, forwarded };
  }

  return { forward, holdBack };
}

/** One SendMessageBatch of `batch`; answers the indexes of the entries SQS refused. */
async function sendBatch<T extends ReceivedMessage>(
  sqs: SQSClient,
  queueUrl: string,
  batch: readonly T[],
  more: (message: T) => Partial<SendMessageBatchRequestEntry> = () => ({}),
): Promise<number[]> {
  const output = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: batch.map((message, index) => ({
        Id: String(index),
        MessageBody: message.body,
        ...(Object.keys(message.attributes).length > 0 ? { MessageAttributes: message.attributes } : {}),
        ...more(message),
      })),
    }),
  );
  for (const entry of output.Failed ?? []) {
    logger.warn('message refused by SQS', { code: entry.Code, sender_fault: entry.SenderFault });
  }
  return (output.Failed ?? []).map((entry) => Number(entry.Id));
}

function withoutWaiting(
  attributes: Record<string, MessageAttributeValue>,
): Record<string, MessageAttributeValue> {
  const {
    [WAITING_ATTRIBUTES.attempts]: _attempts,
    [WAITING_ATTRIBUTES.since]: _since,
    ...rest
  } = attributes;
  return rest;
}

/** How many times the message failed to be forwarded before this receive (re-sent copies say so). */
function waitingAttemptsOf(message: ReceivedMessage): number {
  const attempts = Number(message.attributes[WAITING_ATTRIBUTES.attempts]?.StringValue);
  // A message never re-sent has only been received: its receives are its failures so far.
  return Number.isSafeInteger(attempts) && attempts > 0 ? attempts : message.receiveCount - 1;
}

function waitingSinceOf(message: ReceivedMessage): number | undefined {
  const since = Number(message.attributes[WAITING_ATTRIBUTES.since]?.StringValue);
  return Number.isFinite(since) && since > 0 ? since : undefined;
}
