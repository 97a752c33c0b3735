// The search indexer: keeps the search index up to date with the items table's stream (each item's
// document, and the facets its new occurrences carry), and `indexItems`, the one path by which both
// the stream and `faultline search reindex` write an item into the index.
//
// What is safe to repeat (a redelivered batch, a bisected retry, a reindex over a live index):
//
// | Write                       | Repeated                                                          |
// | --------------------------- | ----------------------------------------------------------------- |
// | document (whole)            | the same document of the same image: the same row                 |
// | facets (read, merge, whole) | values already held stay where they are (merge keeps each once,   |
// |                             | newest first): the merge finds nothing new and writes nothing     |
//
// An item whose document changes (a new item, a status change, a last-seen step) is written as its
// whole entry, its facets read and merged first (`putEntries`: one row, one write unit, on
// DynamoDB); an item whose occurrences alone bring new values has its facets written alone, its
// document kept as the index holds it. One indexer reads an item's records, in order, so its
// read-merge-write of an entry races nothing; a reindex beside it can drop a value merged between
// its read and its write, until the item's next occurrence carrying that value (docs/search.md).
//
// An item is written only from a numbered image: an item is shown and listed once it has its number
// (`#shared/items/events`), and a search result names it by it.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { ItemRecord } from '#shared/items/item';
import { logger } from '#shared/observability';
import { toItemRecord } from '#shared/store/items';
import { isUnreadablePayload } from '#shared/store/occurrences';
import {
  emptyFacets,
  type Facets,
  LAST_SEEN_STEP_SECONDS,
  mergeFacets,
  type SearchDocument,
  sameDocument,
  sameFacets,
  documentOf as searchDocumentOf,
} from './document';
import type { SearchEntry, SearchIndexWriter } from './engine';
import { facetsOfOccurrence } from './facets';

export class SearchIndexerError extends Error {
  override readonly name = 'SearchIndexerError';
}

/** Occurrences read per item per batch at most: a busy item's facets come from its newest ones. */
export const MAX_OCCURRENCES_PER_ITEM = 5;
/** Occurrences read at once: a batch of 100 new errors reads 100, and the function waits on them. */
const CONCURRENT_READS = 32;

/** Where the indexer reads an occurrence's Rollbar data (the occurrence repository). */
export interface IndexedOccurrences {
  /** The occurrence, undefined when it is gone (expired); throws when it cannot be read. */
  get(projectId: number, uuid: string): Promise<{ data: Record<string, unknown> } | undefined>;
}

export interface SearchIndexerDependencies {
  engine: SearchIndexWriter;
  occurrences: IndexedOccurrences;
}

/** One item to write into the index. */
export interface ItemToIndex {
  item: ItemRecord;
  /** Write its document: it is new to the index, or changed. */
  writeDocument: boolean;
  /** Occurrences whose values its facets take, oldest first (the newest come first in the facets). */
  occurrenceIds: string[];
  /**
   * The item is new to the index (its first numbered image is in these records): it has no entry to
   * merge into, so its entry is written from its occurrences' values without reading one first.
   */
  newToIndex?: boolean;
}

export interface IndexReport {
  /** Documents written (each in its whole entry). */
  documents: number;
  /** Items whose facets changed (their occurrences brought a value the index lacked), in their entry or alone. */
  facets: number;
  /** Items written whole, document and facets together (as many as documents). */
  entries: number;
  occurrencesRead: number;
  /** Occurrences gone (expired) or unreadable: their values are left out. */
  occurrencesSkipped: number;
}

/** An item's document as every index holds it: its last-seen time rounded down to the step. */
export const indexedDocumentOf = (item: ItemRecord): SearchDocument =>
  searchDocumentOf(item, { lastSeenStep: LAST_SEEN_STEP_SECONDS });

/**
 * Writes the items into the index: each item whose document is asked for as its whole entry (the
 * facets its occurrences bring merged into those the index holds), and, for the others, the facets
 * alone when their occurrences bring a value the index lacks. Throws when a read or a write fails
 * (the caller retries: every write here is idempotent).
 */
export async function indexItems(
  deps: SearchIndexerDependencies,
  items: ItemToIndex[],
): Promise<IndexReport> {
  const report: IndexReport = {
    documents: 0,
    facets: 0,
    entries: 0,
    occurrencesRead: 0,
    occurrencesSkipped: 0,
  };
  const facets = await facetsToWrite(deps, items, report);
  const entries: SearchEntry[] = [];
  const facetsByProject = new Map<number, Array<{ item_id: number; facets: Facets }>>();
  for (const { item, writeDocument } of items) {
    const written = facets.get(item);
    if (written?.changed) report.facets += 1;
    if (writeDocument) {
      entries.push({ document: indexedDocumentOf(item), facets: written?.facets ?? emptyFacets() });
    } else if (written) {
      facetsByProject.set(item.project_id, [
        ...(facetsByProject.get(item.project_id) ?? []),
        { item_id: item.id, facets: written.facets },
      ]);
    }
  }
  // All settle before a failure is thrown: nothing of this call is left running after it.
  const outcomes = await Promise.allSettled([
    entries.length > 0 ? deps.engine.putEntries(entries) : undefined,
    ...[...facetsByProject].map(([projectId, written]) => deps.engine.putFacets(projectId, written)),
  ]);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  report.entries = entries.length;
  report.documents = entries.length;
  return report;
}

/**
 * The facets to write: for an item whose document is written, what the index holds (read
 * consistently) with the values its occurrences bring merged in first, so the whole entry is one
 * write and nothing held is lost (an index written before entries gives its former facets row here,
 * which the entry then carries); for another item, the same only when the new values change them.
 */
async function facetsToWrite(
  deps: SearchIndexerDependencies,
  items: ItemToIndex[],
  report: IndexReport,
): Promise<Map<ItemRecord, { facets: Facets; changed: boolean }>> {
  const reads = items.flatMap((entry) =>
    entry.occurrenceIds.slice(-MAX_OCCURRENCES_PER_ITEM).map((uuid) => ({ entry, uuid })),
  );
  const carried = await mapConcurrently(reads, CONCURRENT_READS, ({ entry, uuid }) =>
    readFacets(deps, entry.item, uuid, report),
  );
  // Per item, its occurrences' values merged oldest to newest, so the newest come first.
  const brought = new Map<ItemRecord, Facets>();
  reads.forEach(({ entry }, index) => {
    const facets = carried[index];
    if (!facets) return;
    brought.set(entry.item, mergeFacets(brought.get(entry.item) ?? emptyFacets(), facets));
  });
  const byProject = new Map<number, ItemToIndex[]>();
  for (const entry of items) {
    const facets = brought.get(entry.item);
    if (!entry.writeDocument && (!facets || isEmpty(facets))) continue;
    byProject.set(entry.item.project_id, [...(byProject.get(entry.item.project_id) ?? []), entry]);
  }
  const toWrite = new Map<ItemRecord, { facets: Facets; changed: boolean }>();
  await Promise.all(
    [...byProject].map(async ([projectId, entries]) => {
      // A new item's entry cannot exist yet: reading it would bill a read (a consistent one, on
      // DynamoDB) for nothing on every new error. A redelivered batch writes the same entry again.
      const toRead = entries.filter((entry) => !entry.newToIndex).map(({ item }) => item.id);
      const held = toRead.length > 0 ? await deps.engine.readFacets(projectId, toRead) : new Map();
      for (const { item, writeDocument } of entries) {
        const before = held.get(item.id) ?? emptyFacets();
        const merged = mergeFacets(before, brought.get(item) ?? emptyFacets());
        const changed = !sameFacets(merged, before);
        if (writeDocument || changed) toWrite.set(item, { facets: merged, changed });
      }
    }),
  );
  return toWrite;
}

/** The facets one occurrence carries; undefined when it is gone or its payload cannot be read. */
async function readFacets(
  deps: SearchIndexerDependencies,
  item: ItemRecord,
  uuid: string,
  report: IndexReport,
): Promise<Facets | undefined> {
  try {
    const occurrence = await deps.occurrences.get(item.project_id, uuid);
    if (!occurrence) {
      report.occurrencesSkipped += 1;
      logger.warn('occurrence gone; its values are left out of the search index', { uuid, item_id: item.id });
      return undefined;
    }
    report.occurrencesRead += 1;
    return facetsOfOccurrence(occurrence.data);
  } catch (error) {
    if (!isUnreadablePayload(error)) throw error;
    // The row itself is broken: retrying would stall the stream on it for nothing.
    report.occurrencesSkipped += 1;
    logger.warn('occurrence unreadable; its values are left out of the search index', {
      uuid,
      item_id: item.id,
      error,
    });
    return undefined;
  }
}

const isEmpty = (facets: Facets) => Object.values(facets).every((values) => values.length === 0);

async function mapConcurrently<T, R>(
  inputs: readonly T[],
  concurrency: number,
  task: (input: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const index = next++;
      results[index] = await task(inputs[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, worker));
  return results;
}

type Image = Record<string, unknown>;

function imageOf(image: NonNullable<DynamoDBRecord['dynamodb']>['NewImage']): Image | undefined {
  return image ? unmarshall(image as Record<string, AttributeValue>) : undefined;
}

const isNumbered = (image: Image | undefined): image is Image => typeof image?.counter === 'number';
const uuidOf = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** The occurrences one change of an item brought: its first on its first numbered image, its last when it moved. */
function occurrencesBrought(before: Image | undefined, after: Image): string[] {
  const last = uuidOf(after.last_occurrence_id);
  if (!isNumbered(before)) {
    const first = uuidOf(after.first_occurrence_id);
    return [...new Set([first, last].filter((uuid): uuid is string => uuid !== undefined))];
  }
  return last && last !== before.last_occurrence_id ? [last] : [];
}

/**
 * What a stream batch asks of the index, per item: from the item's first record's old image and its
 * last record's new image, its document when it is newly numbered or its document changed (a hot
 * item's counts and a last-seen time within the step change nothing), and the occurrences its
 * records brought.
 */
export function itemsToIndexOf(records: readonly DynamoDBRecord[]): ItemToIndex[] {
  const changes = new Map<number, { before: Image | undefined; after: Image; occurrenceIds: string[] }>();
  for (const record of records) {
    const after = imageOf(record.dynamodb?.NewImage);
    if (after?.entity !== 'item') continue;
    const before = imageOf(record.dynamodb?.OldImage);
    const id = Number(after.id);
    if (!Number.isSafeInteger(id)) continue;
    const change = changes.get(id) ?? { before, after, occurrenceIds: [] };
    change.after = after;
    if (isNumbered(after)) change.occurrenceIds.push(...occurrencesBrought(before, after));
    changes.set(id, change);
  }
  const items: ItemToIndex[] = [];
  for (const { before, after, occurrenceIds } of changes.values()) {
    if (!isNumbered(after)) continue;
    const item = toItemRecord(after);
    const newToIndex = !isNumbered(before);
    const writeDocument =
      newToIndex || !sameDocument(indexedDocumentOf(toItemRecord(before)), indexedDocumentOf(item));
    // Each occurrence once, in the order the records brought them (a retried fold step brings one again).
    const unique = [...new Set(occurrenceIds.reverse())].reverse();
    items.push({ item, writeDocument, occurrenceIds: unique, newToIndex });
  }
  return items;
}

/**
 * The indexer of the items table's stream (NEW_AND_OLD_IMAGES). A batch is written whole or not at
 * all: when a write fails, the batch's first record is reported failed, so Lambda delivers the whole
 * batch again (and bisects it on repeated failures); every write is an idempotent upsert.
 */
export function createSearchIndexer(deps: SearchIndexerDependencies) {
  return async function indexStreamBatch(records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
    const items = itemsToIndexOf(records);
    if (items.length === 0) return { batchItemFailures: [] };
    try {
      const report = await indexItems(deps, items);
      logger.info('stream batch indexed', { records: records.length, items: items.length, ...report });
      return { batchItemFailures: [] };
    } catch (error) {
      logger.error('stream batch not indexed; Lambda delivers it again', { error: error as Error });
      // Lambda's DynamoDB Streams mapping names a record by its sequence number.
      const sequenceNumber = records[0]?.dynamodb?.SequenceNumber;
      if (!sequenceNumber)
        throw new SearchIndexerError('a failed stream batch carries no sequence number', { cause: error });
      return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
    }
  };
}
