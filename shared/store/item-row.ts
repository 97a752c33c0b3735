// The items table's item row as stored, the fold's bookkeeping included, read with one parse.
// The API's item is `toItemRecord` (items.ts): the same row without the bookkeeping, which never
// reaches a client.
import type { ItemRecord } from '#shared/items/item';
import { toItemRecord } from './items';

/** The fold's bookkeeping in an item row. */
export interface ItemBookkeeping {
  /** The item's first counts by hour (`2026-11-23T10` → count), kept instead of count rows. */
  seed_hours: Record<string, number>;
  /** Short hashes of the first people the item saw (`personHash`); the rest have marker rows. */
  people: ReadonlySet<string>;
  /** The fold step that created the item (`createdByOf`); absent on rows written before it. */
  created_by: string | undefined;
}

/** An item row: the item, with the defaults its row leaves out filled in, and the bookkeeping. */
export type ItemRow = ItemRecord & ItemBookkeeping;

export function parseItemRow(row: Record<string, unknown>): ItemRow {
  const seedHours: Record<string, number> = {};
  if (row.seed_hours && typeof row.seed_hours === 'object') {
    for (const [bucket, count] of Object.entries(row.seed_hours)) {
      if (typeof count === 'number') seedHours[bucket] = count;
    }
  }
  return {
    ...toItemRecord(row),
    seed_hours: seedHours,
    people: row.people instanceof Set ? new Set([...row.people].map(String)) : new Set(),
    created_by: typeof row.created_by === 'string' ? row.created_by : undefined,
  };
}
