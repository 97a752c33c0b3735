// The people an item has seen: up to a few in the item's own row, as short hashes, so an item seen
// by a few people costs no write per person; the rest in marker rows of their own.
import { createHash } from 'node:crypto';
import type { FoldRecord } from './records';

/**
 * Fixed for the life of the data: a fold that allowed more would add to an item's own set a person
 * that a fold allowing fewer has just marked in a row, and count them twice.
 */
export const DEFAULT_PEOPLE_IN_ITEM_ROW = 16;

/** A short, stable name for a person in an item's own row. */
export function personHash(personId: string): string {
  return createHash('sha256').update(personId).digest('base64url').slice(0, 8);
}

/**
 * The people of the records that the item's own set (hashes) does not hold, each with the first
 * record naming them: new to the item unless a marker row says otherwise.
 */
export function peopleNotInItemRow(
  records: readonly FoldRecord[],
  inItemRow: ReadonlySet<string>,
): Map<string, FoldRecord> {
  const candidates = new Map<string, FoldRecord>();
  for (const record of records) {
    const person = record.occurrence.person;
    if (person && !inItemRow.has(personHash(person.id)) && !candidates.has(person.id)) {
      candidates.set(person.id, record);
    }
  }
  return candidates;
}

/**
 * Whether a marker row made by this stream record means the person is known. One made by a record
 * of this step (at or after `stepStart` in the batch) was made by an earlier attempt of this very
 * step, whose counts were never committed: the person is still new. One made by anyone else (an
 * earlier step, another batch, another shard) means the item has counted them.
 */
export function markerMeansKnown(
  markerCreatedBy: string,
  batchPositions: ReadonlyMap<string, number>,
  stepStart: number,
): boolean {
  const creator = batchPositions.get(markerCreatedBy);
  return creator === undefined || creator < stepStart;
}

/**
 * Where the new people go: the first ones into the item's own set while it has room, the rest
 * into marker rows (person id → the record that marks them).
 */
export function placePeople(
  newPeople: ReadonlyMap<string, FoldRecord>,
  room: number,
): { inItemRow: string[]; marked: Map<string, string> } {
  const people = [...newPeople];
  const free = Math.max(0, room);
  return {
    inItemRow: people.slice(0, free).map(([personId]) => personId),
    marked: new Map(people.slice(free).map(([personId, record]) => [personId, record.eventId])),
  };
}
