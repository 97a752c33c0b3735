// Items for the search tests and the query bench: rows in the items table as the fold leaves them, and
// their documents in an index as the indexer writes them (last-seen rounded to the index's step).
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ItemRecord } from '#shared/items/item';
import { documentOf, LAST_SEEN_STEP_SECONDS } from '#shared/search/document';
import type { SearchIndexWriter } from '#shared/search/engine';
import { itemKeys } from '#shared/store/keys';

/** An item with the fields a test does not name set to an ordinary active error's. */
export function anItem(fields: Partial<ItemRecord> & Pick<ItemRecord, 'id' | 'project_id'>): ItemRecord {
  const lastSeen = fields.last_occurrence_timestamp ?? 1_764_000_000;
  return {
    counter: fields.id,
    created_at: lastSeen,
    environment: 'production',
    platform: 'node',
    framework: null,
    language: 'javascript',
    hash: `fingerprint-${fields.id}`,
    grouping_method: 'trace',
    title: `Error number ${fields.id}`,
    level: 'error',
    level_lock: false,
    status: 'active',
    total_occurrences: 1,
    unique_people: 0,
    first_occurrence_id: '11111111-1111-4111-8111-111111111111',
    first_occurrence_timestamp: lastSeen,
    last_occurrence_id: '22222222-2222-4222-8222-222222222222',
    last_occurrence_timestamp: lastSeen,
    last_activated_timestamp: lastSeen,
    activating_occurrence_id: '11111111-1111-4111-8111-111111111111',
    reactivated_count: 0,
    resolved_timestamp: null,
    resolved_in_version: null,
    last_code_version: null,
    ...fields,
  };
}

/** The item's row: its keys and its fields, nulls left out as the fold does. */
export function itemRowOf(item: ItemRecord): Record<string, unknown> {
  const fields = Object.fromEntries(Object.entries(item).filter(([, value]) => value !== null));
  return {
    ...itemKeys.item(item.id),
    entity: 'item',
    ...fields,
  };
}

/** Writes the items' rows, 25 a call, a few calls at once. */
export async function putItemRows(
  documents: DynamoDBDocumentClient,
  itemsTable: string,
  items: ItemRecord[],
  /** Fields the fold keeps beside the item's (`seed_hours`, `people`), for rows as big as real ones. */
  bookkeeping: (item: ItemRecord) => Record<string, unknown> = () => ({}),
): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let at = 0; at < items.length; at += 25) {
    batches.push(items.slice(at, at + 25).map((item) => ({ ...itemRowOf(item), ...bookkeeping(item) })));
  }
  const inFlight = 4;
  for (let at = 0; at < batches.length; at += inFlight) {
    await Promise.all(
      batches.slice(at, at + inFlight).map(async (rows) => {
        let pending = rows.map((row) => ({ PutRequest: { Item: row } }));
        while (pending.length > 0) {
          const result = await documents.send(
            new BatchWriteCommand({ RequestItems: { [itemsTable]: pending } }),
          );
          pending = (result.UnprocessedItems?.[itemsTable] ?? []) as typeof pending;
        }
      }),
    );
  }
}

/** Indexes the items as they are: their documents, last-seen rounded to the index's step. */
export async function indexItems(index: SearchIndexWriter, items: ItemRecord[]): Promise<void> {
  await index.putDocuments(items.map((item) => documentOf(item, { lastSeenStep: LAST_SEEN_STEP_SECONDS })));
}
