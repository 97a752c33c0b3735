// The ingest queue's messages for the storing worker: one accepted occurrence, as ingest saw it; or,
// posted to an edge region (no items table there), a deploy or a deploy's new status, recorded at home.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { itemDataSchema } from '#shared/domain/payload';
import { DEPLOY_STATUSES } from '#shared/store/deploys';

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

const deployFields = {
  version: z.literal(1),
  project_id: z.number().int().positive(),
  /** Milliseconds since the epoch when the edge accepted it: the deploy's time. */
  received_at: z.number().int().nonnegative(),
};

/** A deploy validated at an edge. Its `uuid` makes recording it idempotent: redelivered, it records nothing. */
export const deployMessageSchema = z.object({
  ...deployFields,
  kind: z.literal('deploy'),
  uuid: z.string().min(1),
  deploy: z.object({
    environment: z.string(),
    revision: z.string(),
    local_username: z.string().nullable(),
    rollbar_username: z.string().nullable(),
    comment: z.string().nullable(),
    status: z.enum(DEPLOY_STATUSES),
  }),
});
export type DeployMessage = z.infer<typeof deployMessageSchema>;

/** A deploy's new status, sent at an edge (`PATCH /api/1/deploy/{id}`): setting it twice sets it once. */
export const deployStatusMessageSchema = z.object({
  ...deployFields,
  kind: z.literal('deploy_status'),
  deploy_id: z.number().int().positive(),
  status: z.enum(DEPLOY_STATUSES),
});
export type DeployStatusMessage = z.infer<typeof deployStatusMessageSchema>;

export type QueuedDeployMessage = DeployMessage | DeployStatusMessage;
export const queuedDeployMessageSchema = z.discriminatedUnion('kind', [
  deployMessageSchema,
  deployStatusMessageSchema,
]);

/** Whether a parsed body is a deploy message rather than an occurrence (which carries no `kind`). */
export function isDeployMessage(parsed: unknown): boolean {
  return typeof parsed === 'object' && parsed !== null && 'kind' in parsed;
}

export interface DeployQueue {
  send(message: QueuedDeployMessage): Promise<void>;
}

export class SqsDeployQueue implements DeployQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: QueuedDeployMessage): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: {
          project_id: { DataType: 'Number', StringValue: String(message.project_id) },
          kind: { DataType: 'String', StringValue: message.kind },
        },
      }),
    );
  }
}
