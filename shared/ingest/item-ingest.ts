// Accepting a Rollbar item: check the token, read the payload leniently, give it a uuid, enqueue it.
// Whatever is accepted here the storing worker can store: the payload is made storable, its fields
// normalized (each change recorded in `data._faultline`) and the message kept within SQS's limit.
import { randomUUID } from 'node:crypto';
import { canonicalUuid, type ItemData, itemDataSchema, itemPayloadSchema } from '#shared/domain/payload';
import { normalizeItemPayload, type PayloadNotes } from '#shared/domain/payload-normalization';
import { truncatePayload } from '#shared/domain/truncation';
import { PayloadTooLargeError } from '#shared/errors';
import type { ProjectService } from '#shared/projects/service';
import {
  MAX_MESSAGE_BYTES,
  type OccurrenceMessage,
  type OccurrenceQueue,
  occurrenceMessageBody,
} from '#shared/queue/ingest-queue';
import type { RateLimitDecision, RateLimiter } from '#shared/rate-limits/limiter';
import { parseInput } from '#shared/validation';

export interface ItemIngestDeps {
  projects: ProjectService;
  /** Each call counts against its token's calls per minute; past them, a 429 and nothing queued. */
  rateLimiter: RateLimiter;
  queue: OccurrenceQueue;
  now?: () => number;
}

export interface AcceptedItem {
  projectId: number;
  uuid: string;
  /** What the answer's rate-limit headers tell the client. */
  rateLimit: RateLimitDecision;
}

/** Browser SDKs hold a client token; server SDKs a server one. Either may post, as on Rollbar. */
const POST_SCOPES = ['post_server_item', 'post_client_item'] as const;

const messageBytes = (message: OccurrenceMessage) =>
  Buffer.byteLength(occurrenceMessageBody(message), 'utf8');

function withNotes(data: ItemData, notes: PayloadNotes | undefined): ItemData {
  return notes ? { ...data, _faultline: notes } : data;
}

/**
 * The message within SQS's limit. A body within 512 KiB can serialize longer: numbers written
 * short (`1e20`) are written out in full. Then the payload is truncated as the worker would.
 */
function fitted(message: OccurrenceMessage, notes: PayloadNotes | undefined): OccurrenceMessage {
  if (messageBytes(message) <= MAX_MESSAGE_BYTES) return message;
  // The message without its payload: the long part may be anywhere in it (`custom`, `request`), not
  // only in the body.
  const envelope = Buffer.byteLength(JSON.stringify({ ...message, data: {} }), 'utf8');
  const change = {
    field: 'data',
    action: 'truncated' as const,
    reason: `longer than ${MAX_MESSAGE_BYTES} bytes once serialized for the queue`,
  };
  const noted = withNotes(message.data, {
    changes: [...(notes?.changes ?? []), change],
    ...(notes?.more_changes ? { more_changes: notes.more_changes } : {}),
  });
  const truncated = truncatePayload(noted, MAX_MESSAGE_BYTES - envelope).data;
  const parsed = itemDataSchema.safeParse(truncated);
  if (!parsed.success) {
    throw new PayloadTooLargeError(`payload is longer than ${MAX_MESSAGE_BYTES} bytes once serialized`);
  }
  return { ...message, data: parsed.data };
}

export function createItemIngest(deps: ItemIngestDeps) {
  const now = deps.now ?? Date.now;

  return async function acceptItem(input: {
    token: string | undefined;
    body: unknown;
  }): Promise<AcceptedItem> {
    const { project, tokenHash, rateLimitPerMinute } = await deps.projects.authorize(
      input.token,
      POST_SCOPES,
    );
    // Counted before the payload is read, as Rollbar counts calls: a flood is refused cheaply.
    const rateLimit = await deps.rateLimiter.admit(tokenHash, rateLimitPerMinute);
    const receivedAt = now();
    const normalized = normalizeItemPayload(input.body, receivedAt);
    // Worded like Rollbar's own `Invalid format. data.body is missing`. Normalized, it parses.
    const data: ItemData = parseInput(
      itemPayloadSchema,
      normalized.payload,
      'payload',
      'Invalid format. ',
    ).data;
    // A client's uuid is kept (in one spelling) so a retried post is recognised as the same one.
    const uuid = data.uuid ? canonicalUuid(data.uuid) : randomUUID();
    const message = fitted(
      {
        version: 1,
        project_id: project.projectId,
        grouping_version: project.groupingVersion,
        received_at: receivedAt,
        uuid,
        data: withNotes({ ...data, uuid }, normalized.notes),
      },
      normalized.notes,
    );
    await deps.queue.send(message);
    return { projectId: project.projectId, uuid, rateLimit };
  };
}
