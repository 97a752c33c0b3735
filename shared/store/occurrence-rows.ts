// The occurrence row, written by the storing worker and read back from the stream by the fold.
// One shape, built and parsed here only. Attributes that are null are left out: every byte of the
// row counts towards the 1 KB that one write unit pays for.
import { isLevel } from '#shared/domain/levels';
import type { OccurrenceFacts, PreparedOccurrence } from '#shared/storing/occurrence';
import { STORED_IN_ATTRIBUTE } from '#shared/wiring/regions';
import { occurrenceKeys } from './keys';
import type { EncodedPayload } from './payload-codec';
import { expiresAt, OCCURRENCE_RETENTION_DAYS } from './retention';

/**
 * `storedIn`: the region whose worker stores it, in several regions (its fold alone counts it);
 * absent in one region.
 */
export function occurrenceRow(
  occurrence: PreparedOccurrence,
  encoded: EncodedPayload,
  storedIn?: string,
): Record<string, unknown> {
  return {
    ...occurrenceKeys.occurrence(occurrence.projectId, occurrence.uuid),
    entity: 'occurrence',
    uuid: occurrence.uuid,
    project_id: occurrence.projectId,
    item_id: occurrence.itemId,
    timestamp: occurrence.timestamp,
    received_at: occurrence.receivedAt,
    environment: occurrence.environment,
    platform: occurrence.platform,
    framework: occurrence.framework ?? undefined,
    language: occurrence.language ?? undefined,
    level: occurrence.level,
    code_version: occurrence.codeVersion ?? undefined,
    person_id: occurrence.person?.id,
    title: occurrence.title,
    hash: occurrence.fingerprint,
    grouping_method: occurrence.groupingMethod,
    payload: encoded.payload,
    codec: encoded.codec,
    payload_truncated: occurrence.payloadTruncated || undefined,
    expires_at: expiresAt(occurrence.receivedAt, OCCURRENCE_RETENTION_DAYS),
    ...(storedIn === undefined ? {} : { [STORED_IN_ATTRIBUTE]: storedIn }),
  };
}

/** The facts of an occurrence row (a stream image, unmarshalled); undefined when it is not one. */
export function occurrenceFacts(row: Record<string, unknown>): OccurrenceFacts | undefined {
  if (row.entity !== 'occurrence') return undefined;
  const text = (name: string) => (typeof row[name] === 'string' ? (row[name] as string) : undefined);
  const number = (name: string) => (typeof row[name] === 'number' ? (row[name] as number) : undefined);
  const projectId = number('project_id');
  const itemId = number('item_id');
  const uuid = text('uuid');
  const timestamp = number('timestamp');
  const receivedAt = number('received_at');
  const environment = text('environment');
  const level = text('level');
  const title = text('title');
  const fingerprint = text('hash');
  if (
    projectId === undefined ||
    itemId === undefined ||
    uuid === undefined ||
    timestamp === undefined ||
    receivedAt === undefined ||
    environment === undefined ||
    title === undefined ||
    fingerprint === undefined ||
    !isLevel(level)
  ) {
    return undefined;
  }
  const personId = text('person_id');
  return {
    projectId,
    itemId,
    uuid,
    fingerprint,
    groupingMethod: text('grouping_method') ?? '',
    environment,
    platform: text('platform') ?? '',
    framework: text('framework') ?? null,
    language: text('language') ?? null,
    title,
    level,
    timestamp,
    receivedAt,
    codeVersion: text('code_version') ?? null,
    person: personId === undefined ? null : { id: personId, username: null, email: null },
  };
}
