// The ingest queue's message: one accepted occurrence, as ingest saw it, for the grouping worker.
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
        MessageBody: JSON.stringify(message),
        MessageAttributes: {
          project_id: { DataType: 'Number', StringValue: String(message.project_id) },
          uuid: { DataType: 'String', StringValue: message.uuid },
        },
      }),
    );
  }
}
