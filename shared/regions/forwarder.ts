// Forwarding: moves a batch of an ingest queue to the home region's ingest queue, bodies and message
// attributes unchanged. The edge's forwarder does this with every batch; a pipeline region's storing
// worker does it while another region is home. It never reads a body, so nothing is poison to it:
// what it cannot send now waits in its queue, pushed back further at each receive.
import {
  ChangeMessageVisibilityBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
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

/** How long a message received for the `receiveCount`-th time waits before its next receive. */
export function retryDelaySeconds(receiveCount: number): number {
  const doublings = Math.max(0, Math.min(receiveCount - 1, 16));
  return Math.min(FIRST_RETRY_SECONDS * 2 ** doublings, LONGEST_RETRY_SECONDS);
}

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
}

export interface ForwarderOptions {
  /** The queue the messages were received from (this region's ingest queue): failures are pushed back there. */
  queueUrl: string;
  /** Pipeline region → URL of its ingest queue. */
  pipelineQueues: Readonly<Record<string, string>>;
  /** This region's SQS client, for its own queue. */
  sqs: SQSClient;
  /** A client for another region's queue; one per region, built on first use unless given. */
  sqsFor?: (region: string) => SQSClient;
}

export interface Forwarder {
  /** Sends the messages to `home`'s ingest queue; what could not be sent is pushed back and reported. */
  forward(messages: readonly ReceivedMessage[], home: string): Promise<ForwardReport>;
  /** Pushes the messages back (a promotion toward this region is under way) and reports them failed. */
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
              VisibilityTimeout: retryDelaySeconds(message.receiveCount),
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

  async function holdBack(messages: readonly ReceivedMessage[]): Promise<ForwardReport> {
    await pushBack(messages);
    return { forwarded: 0, failedMessageIds: messages.map((message) => message.messageId) };
  }

  async function forward(messages: readonly ReceivedMessage[], home: string): Promise<ForwardReport> {
    if (messages.length === 0) return { forwarded: 0, failedMessageIds: [] };
    const queueUrl = options.pipelineQueues[home];
    if (!queueUrl) {
      logger.error('no ingest queue known for the home region; messages wait in this queue', { home });
      return holdBack(messages);
    }
    const sqs = sqsFor(home);
    const failed: ReceivedMessage[] = [];
    let forwarded = 0;
    await Promise.all(
      sendBatchesOf(messages).map(async (batch) => {
        try {
          const output = await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: batch.map((message, index) => ({
                Id: String(index),
                MessageBody: message.body,
                ...(Object.keys(message.attributes).length > 0
                  ? { MessageAttributes: message.attributes }
                  : {}),
              })),
            }),
          );
          const refused = new Set((output.Failed ?? []).map((entry) => Number(entry.Id)));
          for (const entry of output.Failed ?? []) {
            logger.warn('message not forwarded; it waits in this queue', {
              messageId: batch[Number(entry.Id)]?.messageId,
              code: entry.Code,
              sender_fault: entry.SenderFault,
            });
          }
          batch.forEach((message, index) => {
            if (refused.has(index)) failed.push(message);
            else forwarded++;
          });
        } catch (error) {
          logger.warn('home region unreachable; messages wait in this queue', {
            home,
            messages: batch.length,
            error: error as Error,
          });
          failed.push(...batch);
        }
      }),
    );
    await pushBack(failed);
    if (forwarded > 0) logger.info('batch forwarded', { home, forwarded, failed: failed.length });
    return { forwarded, failedMessageIds: failed.map((message) => message.messageId) };
  }

  return { forward, holdBack };
}
