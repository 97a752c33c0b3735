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

/**
 * Where an occurrence's group counts when the item at its id belongs to another project: an item
 * id is 52 bits of a hash, so two groups can share one (even odds among 80 million items, one in
 * a hundred among 10 million). The `probe`-th id of the group's own sequence, the same for every
 * occurrence of the group, so its occurrences still make one item.
 */
export function collisionItemId(occurrence: OccurrenceFacts, probe: number): number {
  return itemIdOf(
    occurrence.projectId,
    occurrence.environment,
    occurrence.platform,
    `${occurrence.fingerprint}\u0000collision ${probe}`,
  );
}

/** The occurrence's facts from its message, once its grouping, title and stored payload are decided. */
function preparedFrom(
  message: OccurrenceMessage,
  decided: Pick<
    PreparedOccurrence,
    'fingerprint' | 'groupingMethod' | 'title' | 'payloadJson' | 'payloadTruncated'
  >,
): PreparedOccurrence {
  const { data } = message;
  const platform = data.platform ?? '';
  const hasTrace = data.body.trace !== undefined || data.body.trace_chain !== undefined;
  return {
    ...decided,
    projectId: message.project_id,
    uuid: message.uuid,
    itemId: itemIdOf(message.project_id, data.environment, platform, decided.fingerprint),
    environment: data.environment,
    platform,
    framework: data.framework ?? null,
    language: data.language ?? null,
    level: data.level ?? defaultLevel(hasTrace),
    // Bounded here too, not only at ingest: a far-future time would be the item's last occurrence
    // for ever, and one past 2^53 cannot be written to DynamoDB at all.
    timestamp: occurrenceTimestamp(data.timestamp, message.received_at).seconds,
    receivedAt: message.received_at,
    codeVersion: data.code_version ?? null,
    // A person without an id is kept in the payload and counted as nobody.
    person:
      data.person?.id !== undefined
        ? { id: data.person.id, username: data.person.username ?? null, email: data.person.email ?? null }
        : null,
  };
}

export function prepareOccurrence(message: OccurrenceMessage): PreparedOccurrence {
  const { data } = message;
  const grouping = groupOccurrence(data, { groupingVersion: message.grouping_version });
  const stored = truncatePayload(data);
  return preparedFrom(message, {
    fingerprint: grouping.fingerprint,
    groupingMethod: grouping.method,
    title: titleOf(data),
    payloadJson: JSON.stringify(stored.data),
    payloadTruncated: stored.truncated,
  });
}

/** What a fallback fingerprint is made of: little, so it is cheap and never what failed. */
const FALLBACK_KEY_MAX_LENGTH = 1024;

/**
 * The stable, cheap part of an occurrence that a fallback groups by: the first exception's class, or
 * the first 1 KiB of its log message or crash report. The same poison sent again joins the same item.
 */
function fallbackKey(data: OccurrenceMessage['data']): string {
  const body = data.body;
  const trace = body.trace_chain?.[0] ?? body.trace;
  const text = trace ? trace.exception.class : (body.message?.body ?? body.crash_report?.raw ?? '');
  return text.slice(0, FALLBACK_KEY_MAX_LENGTH);
}

/**
 * An occurrence that could not be prepared in time, or whose preparation failed, is still stored and
 * counted: grouped by `fallbackKey` under method `fallback`, with the reason in its payload's
 * `_grouping_fallback`. Losing it, or failing its batch with it, would be worse than grouping it apart.
 */
export function prepareFallbackOccurrence(message: OccurrenceMessage, reason: string): PreparedOccurrence {
  const { data } = message;
  const key = fallbackKey(data);
  let title: string;
  try {
    title = titleOf(data);
  } catch {
    title = key.replace(/\s+/g, ' ').trim().slice(0, 255) || '(no message)';
  }
  return preparedFrom(message, {
    fingerprint: createHash('sha1').update(`fallback\u0000${key}`).digest('hex'),
    groupingMethod: 'fallback',
    title,
    ...fallbackPayload(data, reason),
  });
}

/**
 * The payload, truncated as usual and marked with the reason; when even that fails (JSON.stringify
 * overflows its stack on a value nested 100,000 deep), its scalar fields alone, marked truncated.
 */
function fallbackPayload(
  data: OccurrenceMessage['data'],
  reason: string,
): { payloadJson: string; payloadTruncated: boolean } {
  try {
    const stored = truncatePayload({ ...data, _grouping_fallback: reason });
    return { payloadJson: JSON.stringify(stored.data), payloadTruncated: stored.truncated };
  } catch {
    const scalars: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(data)) {
      if (typeof value === 'number') scalars[name] = value;
      else if (typeof value === 'string') scalars[name] = value.slice(0, FALLBACK_KEY_MAX_LENGTH);
    }
    return {
      payloadJson: JSON.stringify({ ...scalars, _grouping_fallback: reason, _truncated: true }),
      payloadTruncated: true,
    };
  }
}
