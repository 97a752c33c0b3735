// An accepted occurrence made ready to store: its group, its item id, title, level and payload.
import { createHash } from 'node:crypto';
import { groupOccurrence } from '#shared/domain/fingerprint';
import { defaultLevel, type Level } from '#shared/domain/levels';
import { occurrenceTimestamp } from '#shared/domain/payload-normalization';
import { titleOf } from '#shared/domain/title';
import { truncatePayload } from '#shared/domain/truncation';
import type { OccurrenceMessage } from '#shared/queue/ingest-queue';

export interface PersonRef {
  id: string;
  username: string | null;
  email: string | null;
}

export interface PreparedOccurrence {
  projectId: number;
  uuid: string;
  itemId: number;
  fingerprint: string;
  groupingMethod: string;
  environment: string;
  platform: string;
  framework: string | null;
  language: string | null;
  title: string;
  level: Level;
  /**
   * When it happened, in seconds: the client's clock when it sent a plausible one, else the time
   * received, as Rollbar does (`occurrenceTimestamp`).
   */
  timestamp: number;
  /** When ingest accepted it, in milliseconds: counts for graphs use this, a clock we trust. */
  receivedAt: number;
  codeVersion: string | null;
  person: PersonRef | null;
  /** The item payload (`data`), truncated past the documented size, as JSON text. */
  payloadJson: string;
  payloadTruncated: boolean;
}

/** What the fold reads back from an occurrence row: everything but the payload. */
export type OccurrenceFacts = Omit<PreparedOccurrence, 'payloadJson' | 'payloadTruncated'>;

/**
 * An item's id follows from what groups it, so creating the item needs no lookup: the same
 * project, environment, platform and fingerprint always land on the same row. 52 bits keep it a
 * safe JavaScript integer, like Rollbar's numeric ids.
 */
export function itemIdOf(
  projectId: number,
  environment: string,
  platform: string,
  fingerprint: string,
): number {
  const digest = createHash('sha1')
    .update(`${projectId}\u0000${environment}\u0000${platform}\u0000${fingerprint}`)
    .digest();
  return digest.readUIntBE(0, 6) * 16 + (digest[6]! >> 4) || 1;
}

export function prepareOccurrence(message: OccurrenceMessage): PreparedOccurrence {
  const { data } = message;
  const grouping = groupOccurrence(data, { groupingVersion: message.grouping_version });
  const platform = data.platform ?? '';
  const hasTrace = data.body.trace !== undefined || data.body.trace_chain !== undefined;
  const stored = truncatePayload(data);
  return {
    projectId: message.project_id,
    uuid: message.uuid,
    itemId: itemIdOf(message.project_id, data.environment, platform, grouping.fingerprint),
    fingerprint: grouping.fingerprint,
    groupingMethod: grouping.method,
    environment: data.environment,
    platform,
    framework: data.framework ?? null,
    language: data.language ?? null,
    title: titleOf(data),
    level: data.level ?? defaultLevel(hasTrace),
    // Bounded here too, not only at ingest: a far-future time would be the item's last occurrence
    // for ever, and one past 2^53 cannot be written to DynamoDB at all.
    timestamp: occurrenceTimestamp(data.timestamp, message.received_at).seconds,
    receivedAt: message.received_at,
    codeVersion: data.code_version ?? null,
    person:
      data.person?.id !== undefined
        ? { id: data.person.id, username: data.person.username ?? null, email: data.person.email ?? null }
        : null,
    payloadJson: JSON.stringify(stored.data),
    payloadTruncated: stored.truncated,
  };
}
