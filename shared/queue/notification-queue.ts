// The notification queue: the fan-out and the daily summaries send one DeliveryMessage per event and
// rule, in batches (SendMessageBatch, which IAM's sqs:SendMessage covers); the sender makes a received
// delivery visible again when its retry or pace slot is due (ChangeMessageVisibility, which consuming
// the queue grants).
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryQueue as ReceivedDeliveries } from '#shared/notifications/delivery/service';
import type { DeliveryMessage } from '#shared/notifications/model';

/** SQS takes at most 10 messages per batch, and 1 MiB in all; a margin is kept for the envelope. */
const BATCH_MESSAGES = 10;
const BATCH_BYTES = 1_000_000;
const ATTEMPTS = 4;

export class DeliveryQueueError extends Error {
  override readonly name = 'DeliveryQueueError';
}

export interface RefusedDelivery {
  message: DeliveryMessage;
  /** SQS's code and message for an entry it will never take (too large, characters it cannot carry). */
  reason: string;
}

export interface DeliveryQueue {
  /**
   * Queues every message, retrying what SQS could not take for now; throws DeliveryQueueError when
   * some are still not queued. Answers the messages SQS refuses for good, which no retry would queue.
   */
  send(messages: readonly DeliveryMessage[]): Promise<RefusedDelivery[]>;
}

export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(messages: readonly DeliveryMessage[]): Promise<RefusedDelivery[]> {
    const refused: RefusedDelivery[] = [];
    for (const batch of batchesOf(messages.map((message) => ({ message, body: JSON.stringify(message) })))) {
      let pending = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const output = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: pending.map((entry, index) => ({
              Id: String(index),
              MessageBody: entry.body,
              MessageAttributes: {
                rule_id: { DataType: 'Number', StringValue: String(entry.message.rule_id) },
                key: { DataType: 'String', StringValue: entry.message.key },
              },
            })),
          }),
        );
        const retry: typeof pending = [];
        for (const failure of output.Failed ?? []) {
          const entry = pending[Number(failure.Id)];
          if (!entry) continue;
          if (failure.SenderFault) {
            refused.push({ message: entry.message, reason: `${failure.Code}: ${failure.Message ?? ''}` });
          } else retry.push(entry);
        }
        if (retry.length > 0 && attempt >= ATTEMPTS) {
          throw new DeliveryQueueError(
            `${retry.length} deliveries not queued after ${ATTEMPTS} attempts: ${retry.map((entry) => entry.message.key).join(', ')}`,
          );
        }
        if (retry.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        pending = retry;
      }
    }
    return refused;
  }
}

/** The sender's side: a received delivery comes back when its retry or its pace slot is due. */
export class SqsDeliveryReturns implements ReceivedDeliveries {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async returnAfter(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }
}

function batchesOf<T extends { body: string }>(entries: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.body, 'utf8');
    if (current.length > 0 && (current.length >= BATCH_MESSAGES || bytes + size > BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
