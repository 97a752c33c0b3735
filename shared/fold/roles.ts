// What each record of a step does to its item: create it, add to it, or nothing because an
// earlier attempt of this batch put it in the item when it created it (`created_by`).
import { createHash } from 'node:crypto';
import type { FoldRecord } from './records';

export type Role = 'create' | 'update' | 'seeded';

/**
 * A short name for the step that starts at this stream record, kept in the rows it writes
 * (an item's `created_by`, page keys). 72 bits: no two steps of one batch share one.
 */
export function stepTag(eventId: string): string {
  return createHash('sha256').update(eventId).digest('base64url').slice(0, 12);
}

/**
 * What a new item remembers of the step that created it: the tags of the step's first record and
 * of the item's last record in it, and that record's sequence number, as
 * `<first tag>/<last tag>/<sequence number>`.
 */
export interface CreatedBy {
  firstTag: string;
  lastTag: string;
  lastSequence: bigint;
}

export function createdByOf(stepFirst: FoldRecord, itemLast: FoldRecord): string {
  return `${stepTag(stepFirst.eventId)}/${stepTag(itemLast.eventId)}/${BigInt(itemLast.sequenceNumber)}`;
}

export function parseCreatedBy(text: string | undefined): CreatedBy | undefined {
  if (text === undefined) return undefined;
  const [firstTag, lastTag, lastSequence] = text.split('/');
  if (!firstTag || !lastTag || !lastSequence || !/^\d+$/.test(lastSequence)) return undefined;
  return { firstTag, lastTag, lastSequence: BigInt(lastSequence) };
}

/**
 * Whether the record creates its item (absent), adds to it, or was put in it when an earlier
 * attempt created it. Sequence numbers compare only within a shard, so the creation must be of
 * this very batch: one of the two records `created_by` names is in it (`batchSteps` holds the tag
 * of every record of the batch). A retry that resumes after the creating step still holds the
 * item's last record: a step never outruns its batch.
 */
export function roleOf(
  record: FoldRecord,
  item: { createdBy: string | undefined } | undefined,
  batchSteps: ReadonlyMap<string, number>,
): Role {
  if (!item) return 'create';
  const createdBy = parseCreatedBy(item.createdBy);
  if (!createdBy || !(batchSteps.has(createdBy.firstTag) || batchSteps.has(createdBy.lastTag)))
    return 'update';
  return BigInt(record.sequenceNumber) <= createdBy.lastSequence ? 'seeded' : 'update';
}
