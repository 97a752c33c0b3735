// The ingest queue's message: one accepted occurrence, as ingest saw it, for the storing worker.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { itemDataSchema } from '#shared/domain/payload';

export const occurrenceMessageSchema = z.object({
  version: z.literal(1),
  project_id: z.number().int().positive(),
  grouping_version: z.union([z.literal(1), z.literal(2)]),
  /** Milliseconds since the epoch when ingest accepted it: the time a timestamp-less item happened. */
  received_at: z.number().int().nonnegative(),
  uuid: z.string(),
  data: itemDataSchema,
});
export type OccurrenceMessage = z.infer<typeof occurrenceMessageSchema>;

/**
 * The largest message body SQS carries (shared/wiring/topology.ts declares the queue with it), less room
 * for the message attributes.
 */
export const MAX_MESSAGE_BYTES = 1_048_576 - 4_096;

/**
 * A message as its body text. Ingest sends only payloads it made storable (nesting bounded,
 * characters SQS refuses replaced): `JSON.stringify` recurses, and SQS refuses the whole message
 * for one character it cannot carry.
 */
export function occurrenceMessageBody(message: OccurrenceMessage): string {
  return JSON.stringify(message);
}

export interface OccurrenceQueue {
  send(message: OccurrenceMessage): Promise<void>;
}

export class SqsOccurrenceQueue implements OccurrenceQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: OccurrenceMessage): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: occurrenceMessageBody(message),
        MessageAttributes: {
          project_id: { DataType: 'Number', StringValue: String(message.project_id) },
          uuid: { DataType: 'String', StringValue: message.uuid },
        },
      }),
    );
  }
}
