// The default search engine, on DynamoDB: each item's entry (its document and its facets, one row)
// in the search table, a search matching a project's entries in memory. Nothing runs while nobody
// searches.
//
// Why one row per item: a new item's document (~0.3 KB) and facets (~0.4 KB) were two rows, each
// billed at least one write unit; together they fit in one (under 1 KB in the usual case), so a new
// error's index entry is one write. New facets alone are an `UpdateItem` of that attribute, still
// one write, with no read of the document first. The price: a search reads the facets with the documents
// (DynamoDB bills a Query by the rows' whole size, whatever it projects).
//
// How a search reads (design):
// - A project's index is spread over `SEARCH_SHARDS` partitions, each cut into ranges of item ids
//   (`searchRanges`: 64 ranges). One row per project (`searchKeys.versions`) holds a version per
//   range (`d0`…`d63`); every write of the engine bumps the versions of the ranges it touched, one
//   `UpdateItem ADD` per project per call (one write unit), AFTER the rows are written.
// - Each container keeps the ranges it read, parsed, with the version they were read at
//   (`SearchRangeCache`, bounded by rows held, least recently searched project out first). A search
//   reads the version row first (consistently: one read unit), then reads again, consistently, only
//   the ranges whose version differs from the one cached (or never read), a partition whole when
//   most of its ranges changed, and matches in memory. A range never written has version 0. Reading
//   the version before the rows means a write racing the read at worst makes the next search read
//   the range again: never a stale range kept as fresh. Containers share nothing but the table, so
//   none serves another's stale rows.
// - The first search of a project in a container (cold) reads its index whole; a project bigger than
//   the whole cache is searched without it: partitions filtered by DynamoDB to the rows whose
//   document holds the query's values.
//
// An index written before entries held the facets has each item's facets in a row of its own
// (`searchKeys.formerFacets`): `readFacets` falls back to it for an entry without facets, so the
// indexer and `faultline search reindex` carry them into the entry; a search does not read them
// (run the reindex once after upgrading: docs/search.md).
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Level } from '#shared/domain/levels';
import type { ItemStatus } from '#shared/items/item';
import {
  emptyFacets,
  FACET_NAMES,
  type Facets,
  LAST_SEEN_STEP_SECONDS,
  type SearchDocument,
} from '#shared/search/document';
import type { CounterPage, SearchCandidates, SearchEngine, SearchEntry } from '#shared/search/engine';
import { matchesQuery } from '#shared/search/match';
import type { SearchQuery, SearchTerm } from '#shared/search/query';
import { DEFAULT_SEARCH_CACHE_ROWS, SearchRangeCache } from '#shared/search/range-cache';
import { titleTokens } from '#shared/search/title-tokens';
import { backOff, batchGetAll } from './batch-get';
import {
  type Key,
  SEARCH_RANGES,
  SEARCH_RANGES_PER_SHARD,
  SEARCH_SHARDS,
  searchKeys,
  searchRanges,
} from './keys';
import { queryAll } from './query-all';

/** BatchWriteItem's limit. */
const WRITES_PER_BATCH = 25;
/** BatchWriteItem calls in flight at once. */
const BATCH_WRITES_IN_FLIGHT = 4;
/** Single-row updates (one part of an entry) in flight at once. */
const CONCURRENT_UPDATES = 16;

/**
 * A document as stored: one JSON array in one attribute, positional, so a row stays small (every
 * attribute name is billed) and a search parses 20,000 of them quickly. The title's tokens are left
 * out: each is a piece of one of the title's words, so a word inside a token is inside the title, and
 * matching words on the title finds every item the tokens would (the re-check then uses the tokens).
 * A third less to read per search, in read units and in time.
 */
type StoredDocument = [
  counter: number | null,
  title: string,
  level: Level,
  status: ItemStatus,
  environment: string,
  framework: string | null,
  fingerprint: string,
  codeVersion: string | null,
  firstSeen: number,
  lastSeen: number,
];

function storedDocument(document: SearchDocument): StoredDocument {
  return [
    document.counter,
    document.title,
    document.level,
    document.status,
    document.environment,
    document.framework,
    document.fingerprint,
    document.code_version,
    document.first_seen,
    document.last_seen,
  ];
}

function documentOfRow(projectId: number, row: Record<string, unknown>): SearchDocument {
  const [
    counter,
    title,
    level,
    status,
    environment,
    framework,
    fingerprint,
    codeVersion,
    firstSeen,
    lastSeen,
  ] = JSON.parse(String(row.d)) as StoredDocument;
  return {
    project_id: projectId,
    item_id: Number(row.SK),
    counter,
    title,
    // The whole title as one token, final sigmas folded: a word is matched anywhere in it (see
    // `StoredDocument` and `engineQuery`).
    tokens: [foldFinalSigma(title)],
    level,
    status,
    environment,
    framework,
    fingerprint,
    code_version: codeVersion,
    first_seen: firstSeen,
    last_seen: lastSeen,
  };
}

/** Facets as stored: one JSON array of the lists, in `FACET_NAMES` order (no attribute names billed). */
const storedFacets = (facets: Facets) => JSON.stringify(FACET_NAMES.map((name) => facets[name]));

function parseFacets(stored: string): Facets {
  const facets = emptyFacets();
  const lists = JSON.parse(stored) as string[][];
  FACET_NAMES.forEach((name, index) => {
    facets[name] = lists[index] ?? [];
  });
  return facets;
}

function facetsOfRow(row: Record<string, unknown> | undefined): Facets {
  return typeof row?.f === 'string' ? parseFacets(row.f) : emptyFacets();
}

/**
 * An entry as a search holds it: the document parsed, the facets as stored until a search needs
 * them (most searches do not: parsing every item's facets would cost each read of a range for
 * nothing), then kept parsed.
 */
interface ReadEntry {
  document: SearchDocument;
  stored: string | undefined;
  facets?: Facets;
}

function readEntryOf(projectId: number, row: Record<string, unknown>): ReadEntry {
  return { document: documentOfRow(projectId, row), stored: typeof row.f === 'string' ? row.f : undefined };
}

function facetsOfEntry(entry: ReadEntry): Facets {
  if (entry.stored === undefined) return NO_FACETS;
  entry.facets ??= parseFacets(entry.stored);
  return entry.facets;
}

/** A row with a document: `putFacets` alone on an item the index had no document of writes one without. */
const hasDocument = (row: Record<string, unknown>) => typeof row.d === 'string';

/** Terms that read an item's facets: only a search using one reads the facets partitions. */
const FACET_QUALIFIERS = new Set(['host', 'context', 'file', 'code_version', 'person', 'username', 'email']);
const needsFacets = (terms: SearchTerm[]) =>
  terms.some((term) => term.kind === 'text' && FACET_QUALIFIERS.has(term.qualifier));

/**
 * A filter DynamoDB applies before it answers, so the rows that cannot match never cross the network
 * nor get parsed: each term a document must hold (not negated) whose value appears as written in a
 * matching stored document. A word or a phrase is inside the title, stored lower-cased as the terms
 * are; a level, status, environment, framework or fingerprint is one of the
 * array's JSON strings; a counter is the array's first element. Values JSON would escape are left to
 * the matcher. The filter only narrows what is read: the matcher still decides.
 */
function documentFilter(
  terms: SearchTerm[],
): { FilterExpression: string; ExpressionAttributeValues: Record<string, string> } | undefined {
  const conditions: string[] = [];
  const values: Record<string, string> = {};
  for (const term of terms) {
    if (term.negated) continue;
    let needle: string | undefined;
    let begins = false;
    switch (term.kind) {
      case 'word':
      case 'phrase':
        // A σ may be stored as ς (`foldFinalSigma`): such a word is left to the matcher.
        if (JSON.stringify(term.value) === `"${term.value}"` && !term.value.includes('σ'))
          needle = term.value;
        break;
      case 'level':
      case 'status':
        needle = JSON.stringify(term.value);
        break;
      case 'text':
        if (
          term.qualifier === 'environment' ||
          term.qualifier === 'framework' ||
          term.qualifier === 'fingerprint'
        )
          needle = JSON.stringify(term.value);
        break;
      case 'counter':
        needle = `[${term.value},`;
        begins = true;
        break;
      case 'date':
        break;
    }
    if (needle === undefined || needle === '') continue;
    const name = `:v${conditions.length}`;
    values[name] = needle;
    conditions.push(begins ? `begins_with(d, ${name})` : `contains(d, ${name})`);
  }
  if (conditions.length === 0) return undefined;
  return { FilterExpression: conditions.join(' AND '), ExpressionAttributeValues: values };
}

/**
 * The prefix of a range's version attribute in the project's version row: `d`, as the documents'
 * versions were named before entries held the facets too, so a deployed version row keeps its
 * attributes (and stays under 1 KB) and its containers' caches stay valid across the upgrade.
 */
const VERSION_PREFIX = 'd';

/** What an item with no facets is matched with (never changed: the matcher only reads it). */
const NO_FACETS: Facets = emptyFacets();

export interface DynamoDBSearchIndexOptions {
  /** Entries the container's cache holds at most; 0 turns the cache off. */
  cacheRows?: number;
}

/**
 * Lower-casing a whole title and lower-casing one of its pieces differ only in Greek's final sigma
 * (`ΑΣ.Β` → `ασ.β`, the piece `ΑΣ` → `ας`): both sides fold it, so a candidate is never missed.
 */
const foldFinalSigma = (text: string) => (text.includes('ς') ? text.replaceAll('ς', 'σ') : text);

/**
 * The query as the engine evaluates it on its documents, whose one token is the whole title: every
 * item the tokens would find must stay a candidate, the re-check deciding. A word inside a token is
 * inside the title, so a word stays (sigma folded). A negated word is checked apart
 * (`clearOfNegatedWords`): it may be in the title and in no token (a token keeps 64 characters of a
 * long word, such as a URL, and `items/lookup` spans two of its pieces).
 */
function engineQuery(query: SearchQuery): { lenient: SearchQuery; negatedWords: string[] } {
  const negatedWords: string[] = [];
  const terms = query.terms.flatMap((term): SearchTerm[] => {
    if (term.kind !== 'word') return [term];
    if (term.negated) {
      negatedWords.push(term.value);
      return [];
    }
    return [{ ...term, value: foldFinalSigma(term.value) }];
  });
  return { lenient: { terms }, negatedWords };
}

/**
 * No negated word is inside a token of the document's title, as far as its lower-cased title tells:
 * tokenized again only when the title holds the word, and an item it cannot rule out stays.
 */
function clearOfNegatedWords(document: SearchDocument, negatedWords: string[]): boolean {
  const title = document.title;
  return negatedWords.every(
    (word) => !title.includes(word) || !titleTokens(title).some((token) => token.includes(word)),
  );
}

export class DynamoDBSearchIndex implements SearchEngine {
  private readonly cache: SearchRangeCache<ReadEntry>;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDBSearchIndexOptions = {},
  ) {
    this.cache = new SearchRangeCache(options.cacheRows ?? DEFAULT_SEARCH_CACHE_ROWS);
  }

  /** Each entry as one row, put whole: one write unit for a row under 1 KB. */
  async putEntries(entries: SearchEntry[]): Promise<void> {
    await this.writeAll(
      entries.map(({ document, facets }) => ({
        ...searchKeys.entry(document.project_id, document.item_id),
        d: JSON.stringify(storedDocument(document)),
        f: storedFacets(facets),
      })),
    );
    await this.bumpVersions(entries.map(({ document }) => [document.project_id, document.item_id]));
  }

  /** Sets each entry's document, its facets kept: one `UpdateItem` per item (one write unit under 1 KB). */
  async putDocuments(documents: SearchDocument[]): Promise<void> {
    await this.updateAll(
      documents.map((document) => ({
        key: searchKeys.entry(document.project_id, document.item_id),
        name: 'd',
        value: JSON.stringify(storedDocument(document)),
      })),
    );
    await this.bumpVersions(documents.map((document) => [document.project_id, document.item_id]));
  }

  async readFacets(projectId: number, itemIds: number[]): Promise<Map<number, Facets>> {
    // Consistent: the indexer merges into what it reads, and the previous batch wrote a moment ago.
    const rows = await batchGetAll(
      this.documents,
      this.tableName,
      itemIds.map((itemId) => searchKeys.entry(projectId, itemId)),
      { consistent: true, projection: 'SK, d, f' },
    );
    const byId = new Map(rows.map((row) => [Number(row.SK), row]));
    // An entry with a document and no facets may be one written before entries held them: its
    // facets are in their former row. (A new item whose occurrences carried no values also has
    // none: one read for nothing, the first time its occurrences bring some.)
    const former = rows.filter((row) => hasDocument(row) && row.f === undefined);
    if (former.length > 0) {
      const formerRows = await batchGetAll(
        this.documents,
        this.tableName,
        former.map((row) => searchKeys.formerFacets(projectId, Number(row.SK))),
        { consistent: true, projection: 'SK, f' },
      );
      for (const row of formerRows) byId.set(Number(row.SK), row);
    }
    return new Map(itemIds.map((itemId) => [itemId, facetsOfRow(byId.get(itemId))]));
  }

  /** Sets each entry's facets, its document kept: one `UpdateItem` per item. */
  async putFacets(projectId: number, entries: Array<{ item_id: number; facets: Facets }>): Promise<void> {
    await this.updateAll(
      entries.map(({ item_id, facets }) => ({
        key: searchKeys.entry(projectId, item_id),
        name: 'f',
        value: storedFacets(facets),
      })),
    );
    await this.bumpVersions(entries.map((entry) => [projectId, entry.item_id]));
  }

  async candidates(
    projectId: number,
    query: SearchQuery,
    options: { limit: number },
  ): Promise<SearchCandidates> {
    const { lenient, negatedWords } = engineQuery(query);
    const entries = await this.entriesOf(projectId, lenient);
    const withFacets = needsFacets(lenient.terms);
    const matching = entries.filter(
      (entry) =>
        matchesQuery(
          lenient,
          { document: entry.document, facets: withFacets ? facetsOfEntry(entry) : NO_FACETS },
          { lastSeenStep: LAST_SEEN_STEP_SECONDS },
        ) && clearOfNegatedWords(entry.document, negatedWords),
    );
    matching.sort(
      (a, b) => b.document.last_seen - a.document.last_seen || b.document.item_id - a.document.item_id,
    );
    return {
      candidates: matching.slice(0, options.limit).map((entry) => {
        const facets = facetsOfEntry(entry);
        return {
          item_id: entry.document.item_id,
          last_seen: entry.document.last_seen,
          // A copy of none: the cached facets are shared by every search of the container, read only.
          facets: facets === NO_FACETS ? emptyFacets() : facets,
        };
      }),
      more: matching.length > options.limit,
    };
  }

  /**
   * The listing: every entry of the project (through the cache, as a search reads them), sorted by
   * counter in memory. A warm container reads the version row and the ranges written since; a cold
   * one the project's index whole (see docs/search.md, "The item listing").
   */
  async itemsByCounter(projectId: number, options: { limit: number; below?: number }): Promise<CounterPage> {
    const below = options.below ?? Number.POSITIVE_INFINITY;
    const numbered: Array<{ item_id: number; counter: number }> = [];
    for (const { document } of await this.entriesOf(projectId, { terms: [] })) {
      if (document.counter !== null && document.counter < below)
        numbered.push({ item_id: document.item_id, counter: document.counter });
    }
    numbered.sort((a, b) => b.counter - a.counter || b.item_id - a.item_id);
    return { items: numbered.slice(0, options.limit), more: numbered.length > options.limit };
  }

  async itemIdOfCounter(projectId: number, counter: number): Promise<number | undefined> {
    const entries = await this.entriesOf(projectId, {
      terms: [{ kind: 'counter', value: counter, negated: false }],
    });
    return entries.find((entry) => entry.document.counter === counter)?.document.item_id;
  }

  /**
   * The project's entries a query may match: through the cache (every entry, the query not applied),
   * or, for a project too big for it, its partitions narrowed by DynamoDB to what the query names.
   */
  private async entriesOf(projectId: number, query: SearchQuery): Promise<ReadEntry[]> {
    if (this.cache.maxRows === 0 || this.cache.isTooBig(projectId))
      return this.uncachedEntries(projectId, query);
    return (await this.readRanges(projectId, await this.readVersions(projectId))).flat();
  }

  /**
   * Each range's entries, from the cache when it holds them at the version the index has now, else
   * read consistently (a range read at version v holds every write that bumped it to v) and kept at
   * that version: a partition with most of its ranges to read is read whole, else range by range.
   */
  private readRanges(projectId: number, versions: number[]): Promise<ReadEntry[][]> {
    const found = new Array<ReadEntry[]>(SEARCH_RANGES);
    const read = (shard: number, range?: { from: string; to: string }) =>
      queryAll(this.documents, {
        TableName: this.tableName,
        KeyConditionExpression: range ? 'PK = :pk AND SK BETWEEN :from AND :to' : 'PK = :pk',
        ExpressionAttributeValues: {
          ':pk': searchKeys.entryPartition(projectId, shard),
          ...(range ? { ':from': range.from, ':to': range.to } : {}),
        },
        ProjectionExpression: 'SK, d, f',
        ConsistentRead: true,
      });
    const keep = (range: number, rows: Record<string, unknown>[]) => {
      const parsed = rows.filter(hasDocument).map((row) => readEntryOf(projectId, row));
      found[range] = parsed;
      this.cache.set(projectId, range, versions[range]!, parsed);
    };
    return Promise.all(
      Array.from({ length: SEARCH_SHARDS }, async (_, shard) => {
        const stale: number[] = [];
        for (let part = 0; part < SEARCH_RANGES_PER_SHARD; part++) {
          const range = shard * SEARCH_RANGES_PER_SHARD + part;
          const cached = this.cache.get(projectId, range, versions[range]!);
          if (cached) found[range] = cached;
          else stale.push(range);
        }
        if (stale.length > SEARCH_RANGES_PER_SHARD / 2) {
          const byRange = new Map<number, Record<string, unknown>[]>(stale.map((range) => [range, []]));
          for (const row of await read(shard)) byRange.get(searchRanges.of(Number(row.SK)))?.push(row);
          for (const [range, rows] of byRange) keep(range, rows);
        } else {
          await Promise.all(
            stale.map(async (range) => keep(range, await read(shard, searchRanges.bounds(range)))),
          );
        }
      }),
    ).then(() => found);
  }

  /** The project's range versions, read consistently: a version older than the rows would do no harm, a newer one would. */
  private async readVersions(projectId: number): Promise<number[]> {
    const [row] = await batchGetAll(this.documents, this.tableName, [searchKeys.versions(projectId)], {
      consistent: true,
    });
    return Array.from({ length: SEARCH_RANGES }, (_, range) => {
      const version = row?.[`${VERSION_PREFIX}${range}`];
      return typeof version === 'number' ? version : 0;
    });
  }

  /**
   * Bumps the version of each range these items' rows were written to: one update per project (one
   * write unit), after the rows, so a search that sees the new version reads the new rows.
   */
  private async bumpVersions(written: Array<[projectId: number, itemId: number]>): Promise<void> {
    const rangesByProject = new Map<number, Set<number>>();
    for (const [projectId, itemId] of written) {
      const ranges = rangesByProject.get(projectId) ?? new Set<number>();
      ranges.add(searchRanges.of(itemId));
      rangesByProject.set(projectId, ranges);
    }
    await Promise.all(
      [...rangesByProject].map(([projectId, ranges]) => {
        const names = Object.fromEntries(
          [...ranges].map((range, at) => [`#v${at}`, `${VERSION_PREFIX}${range}`]),
        );
        return this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: searchKeys.versions(projectId),
            UpdateExpression: `ADD ${Object.keys(names)
              .map((name) => `${name} :one`)
              .join(', ')}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':one': 1 },
          }),
        );
      }),
    );
  }

  /**
   * The entries that may match in a project too big for the cache: its partitions read whole, but
   * narrowed by DynamoDB to the rows whose document holds the query's values; nothing kept.
   */
  private async uncachedEntries(projectId: number, query: SearchQuery): Promise<ReadEntry[]> {
    const rows = await this.readPartitions(
      (shard) => searchKeys.entryPartition(projectId, shard),
      'SK, d, f',
      documentFilter(query.terms),
    );
    return rows.filter(hasDocument).map((row) => readEntryOf(projectId, row));
  }

  /** The project's entries with a document: the items it holds. */
  async countDocuments(projectId: number): Promise<number> {
    const counts = await Promise.all(
      Array.from({ length: SEARCH_SHARDS }, async (_, shard) => {
        let count = 0;
        let start: Record<string, unknown> | undefined;
        do {
          const page = await this.documents.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'PK = :pk',
              FilterExpression: 'attribute_exists(d)',
              ExpressionAttributeValues: { ':pk': searchKeys.entryPartition(projectId, shard) },
              Select: 'COUNT',
              ExclusiveStartKey: start,
            }),
          );
          count += page.Count ?? 0;
          start = page.LastEvaluatedKey;
        } while (start);
        return count;
      }),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  private async readPartitions(
    partition: (shard: number) => string,
    projection: string,
    filter?: { FilterExpression: string; ExpressionAttributeValues: Record<string, string> },
  ): Promise<Record<string, unknown>[]> {
    const shards = await Promise.all(
      Array.from({ length: SEARCH_SHARDS }, (_, shard) =>
        queryAll(this.documents, {
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk',
          ProjectionExpression: projection,
          ...filter,
          ExpressionAttributeValues: { ...filter?.ExpressionAttributeValues, ':pk': partition(shard) },
        }),
      ),
    );
    return shards.flat();
  }

  /**
   * Puts every row, 25 a call and 4 calls at once, unprocessed ones retried with back-off. A key given twice is written
   * once, with its last row (a batch may not name a key twice).
   */
  private async writeAll(given: Record<string, unknown>[]): Promise<void> {
    const rows = [...new Map(given.map((row) => [`${row.PK}|${row.SK}`, row])).values()];
    const write = async (batch: Record<string, unknown>[]) => {
      let pending = batch.map((row) => ({ PutRequest: { Item: row } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        const result = await this.documents.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
        if (pending.length > 0) await backOff(attempt);
      }
    };
    // A few batches at once: an indexer batch of 100 new items is 4 of them, and the function is
    // billed for the time it waits on them.
    const span = WRITES_PER_BATCH * BATCH_WRITES_IN_FLIGHT;
    for (let start = 0; start < rows.length; start += span) {
      const batches: Record<string, unknown>[][] = [];
      for (let at = start; at < Math.min(rows.length, start + span); at += WRITES_PER_BATCH)
        batches.push(rows.slice(at, at + WRITES_PER_BATCH));
      // Every batch settles before a failure is thrown: none is left running after the call.
      const outcomes = await Promise.allSettled(batches.map(write));
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    }
  }

  /**
   * Sets one attribute of each row (the other part of the entry kept), `CONCURRENT_UPDATES` at a
   * time; a key given twice is set once, to its last value. Every update settles before a failure is
   * thrown: none is left running after the call.
   */
  private async updateAll(given: Array<{ key: Key; name: 'd' | 'f'; value: string }>): Promise<void> {
    const updates = [
      ...new Map(given.map((update) => [`${update.key.PK}|${update.key.SK}`, update])).values(),
    ];
    for (let start = 0; start < updates.length; start += CONCURRENT_UPDATES) {
      const outcomes = await Promise.allSettled(
        updates.slice(start, start + CONCURRENT_UPDATES).map(({ key, name, value }) =>
          this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: key,
              UpdateExpression: `SET ${name} = :value`,
              ExpressionAttributeValues: { ':value': value },
            }),
          ),
        ),
      );
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    }
  }
}
