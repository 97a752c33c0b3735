// The default search engine, on DynamoDB: each item's document and facets in the search table, a
// search matching a project's documents in memory. Nothing runs while nobody searches.
//
// How a search reads (design):
// - A project's index is spread over `SEARCH_SHARDS` partitions of documents and as many of facets,
//   each cut into ranges of item ids (`searchRanges`: 64 ranges of each kind). One row per project
//   (`searchKeys.versions`) holds a version per range (`d0`…`d63`, `f0`…`f63`); every write of the
//   engine (`putDocuments`, `putFacets`) bumps the versions of the ranges it touched, one
//   `UpdateItem ADD` per project per call (one write unit), AFTER the rows are written.
// - Each container keeps the ranges it read, parsed, with the version they were read at
//   (`SearchRangeCache`, bounded by rows held, least recently searched project out first). A search
//   reads the version row first (consistently: one read unit), then reads again, consistently, only
//   the ranges whose version differs from the one cached (or never read), a partition whole when
//   most of its ranges changed, and matches in memory. A range never written has version 0. Reading
//   the version before the rows means a write racing the read at worst makes the next search read
//   the range again: never a stale range kept as fresh. Containers share nothing but the table, so
//   none serves another's stale rows.
// - A warm search of a 20,000-item project reads the version row and the few ranges written since
//   (≈ 60 KB each); the first search of a project in a container (cold) reads its index whole (about
//   4 MB, ≈ 1,000 consistent read units). A project bigger than the whole cache is searched without
//   it, as before the cache: partitions filtered by DynamoDB to the rows holding the query's values,
//   or the few documents a facet qualifier selects.
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
import type { SearchCandidate, SearchCandidates, SearchEngine } from '#shared/search/engine';
import { matchesQuery } from '#shared/search/match';
import type { SearchQuery, SearchTerm } from '#shared/search/query';
import {
  DEFAULT_SEARCH_CACHE_ROWS,
  type RangeKind,
  type RangeRows,
  SearchRangeCache,
} from '#shared/search/range-cache';
import { titleTokens } from '#shared/search/title-tokens';
import { backOff, batchGetAll } from './batch-get';
import { SEARCH_RANGES, SEARCH_RANGES_PER_SHARD, SEARCH_SHARDS, searchKeys, searchRanges } from './keys';
import { queryAll } from './query-all';

/** BatchWriteItem's limit. */
const WRITES_PER_BATCH = 25;

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

function facetsOfRow(row: Record<string, unknown> | undefined): Facets {
  const facets = emptyFacets();
  if (!row || typeof row.f !== 'string') return facets;
  const lists = JSON.parse(row.f) as string[][];
  FACET_NAMES.forEach((name, index) => {
    facets[name] = lists[index] ?? [];
  });
  return facets;
}

/** Terms that read an item's facets: only a search using one reads the facets partitions. */
const FACET_QUALIFIERS = new Set(['host', 'context', 'file', 'code_version', 'person', 'username', 'email']);
const needsFacets = (terms: SearchTerm[]) =>
  terms.some((term) => term.kind === 'text' && FACET_QUALIFIERS.has(term.qualifier));

/**
 * Qualifiers that only an item's facets answer (`code_version:` also reads the document's own
 * version). A search with one of these, not negated, can only find items with such a facet: it reads
 * the facets first, then only the documents of the items they select.
 */
const FACET_ONLY_QUALIFIERS = new Set(['host', 'context', 'file', 'person', 'username', 'email']);
const selectingFacetTerms = (terms: SearchTerm[]) =>
  terms.filter((term) => !term.negated && term.kind === 'text' && FACET_ONLY_QUALIFIERS.has(term.qualifier));

/**
 * Documents read one by one (BatchGetItem) rather than the project's partitions, at most: past this,
 * reading the partitions whole is as fast and no dearer (a document is a fraction of a read unit).
 */
const MAX_SELECTED_DOCUMENTS = 500;

/** What facet-only terms are evaluated with: they never read the document. */
const NO_DOCUMENT: SearchDocument = {
  project_id: 0,
  item_id: 0,
  counter: null,
  title: '',
  tokens: [],
  level: 'error',
  status: 'active',
  environment: '',
  framework: null,
  fingerprint: '',
  code_version: null,
  first_seen: 0,
  last_seen: 0,
};

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

/** The prefix of a range's version attribute in the project's version row. */
const VERSION_PREFIX: Record<RangeKind, string> = { documents: 'd', facets: 'f' };

/**
 * The project's version of each range, as last bumped; 0 for a range never written (every write of
 * this engine bumps: only an index written before the versions existed needs `search reindex`).
 */
type RangeVersions = Record<RangeKind, number[]>;

/** What an item with no facets row is matched with (never changed: the matcher only reads it). */
const NO_FACETS: Facets = emptyFacets();

export interface DynamoDBSearchIndexOptions {
  /** Rows (documents and facets) the container's cache holds at most; 0 turns the cache off. */
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
  private readonly cache: SearchRangeCache;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDBSearchIndexOptions = {},
  ) {
    this.cache = new SearchRangeCache(options.cacheRows ?? DEFAULT_SEARCH_CACHE_ROWS);
  }

  async putDocuments(documents: SearchDocument[]): Promise<void> {
    await this.writeAll(
      documents.map((document) => ({
        ...searchKeys.document(document.project_id, document.item_id),
        d: JSON.stringify(storedDocument(document)),
      })),
    );
    await this.bumpVersions(
      'documents',
      documents.map((document) => [document.project_id, document.item_id]),
    );
  }

  async readFacets(projectId: number, itemIds: number[]): Promise<Map<number, Facets>> {
    // Consistent: the indexer merges into what it reads, and the previous batch wrote a moment ago.
    const rows = await batchGetAll(
      this.documents,
      this.tableName,
      itemIds.map((itemId) => searchKeys.facets(projectId, itemId)),
      { consistent: true },
    );
    const byId = new Map(rows.map((row) => [Number(row.SK), row]));
    return new Map(itemIds.map((itemId) => [itemId, facetsOfRow(byId.get(itemId))]));
  }

  async putFacets(projectId: number, entries: Array<{ item_id: number; facets: Facets }>): Promise<void> {
    await this.writeAll(
      entries.map(({ item_id, facets }) => ({
        ...searchKeys.facets(projectId, item_id),
        f: JSON.stringify(FACET_NAMES.map((name) => facets[name])),
      })),
    );
    await this.bumpVersions(
      'facets',
      entries.map((entry) => [projectId, entry.item_id]),
    );
  }

  async candidates(
    projectId: number,
    query: SearchQuery,
    options: { limit: number },
  ): Promise<SearchCandidates> {
    const { lenient, negatedWords } = engineQuery(query);
    if (this.cache.maxRows === 0 || this.cache.isTooBig(projectId)) {
      return this.uncachedCandidates(projectId, lenient, negatedWords, options);
    }
    query = lenient;
    const versions = await this.readVersions(projectId);
    const [documentRanges, facetRanges] = await Promise.all([
      this.readRanges(projectId, 'documents', versions.documents),
      needsFacets(query.terms) ? this.readRanges(projectId, 'facets', versions.facets) : undefined,
    ]);
    const matching: Array<{ document: SearchDocument; facets: Facets }> = [];
    // An item's facets are in the same range as its document.
    documentRanges.forEach((range, at) => {
      const facetsById = facetRanges?.[at];
      for (const document of range) {
        const facets = facetsById?.get(document.item_id) ?? NO_FACETS;
        if (
          matchesQuery(query, { document, facets }, { lastSeenStep: LAST_SEEN_STEP_SECONDS }) &&
          clearOfNegatedWords(document, negatedWords)
        ) {
          matching.push({ document, facets });
        }
      }
    });
    matching.sort(
      (a, b) => b.document.last_seen - a.document.last_seen || b.document.item_id - a.document.item_id,
    );
    return {
      candidates: matching.slice(0, options.limit).map(({ document, facets }) => ({
        item_id: document.item_id,
        last_seen: document.last_seen,
        // A copy: the cached facets are shared by every search of the container.
        facets: facets === NO_FACETS ? emptyFacets() : facets,
      })),
      more: matching.length > options.limit,
    };
  }

  /**
   * Each range's rows, from the cache when it holds them at the version the index has now, else read
   * consistently (a range read at version v holds every write that bumped it to v) and kept at that
   * version: a partition with most of its ranges to read is read whole, else range by range.
   */
  private readRanges<K extends RangeKind>(
    projectId: number,
    kind: K,
    versions: number[],
  ): Promise<Array<RangeRows[K]>> {
    const found = new Array<RangeRows[K]>(SEARCH_RANGES);
    const partition = kind === 'documents' ? searchKeys.documentPartition : searchKeys.facetsPartition;
    const read = (shard: number, range?: { from: string; to: string }) =>
      queryAll(this.documents, {
        TableName: this.tableName,
        KeyConditionExpression: range ? 'PK = :pk AND SK BETWEEN :from AND :to' : 'PK = :pk',
        ExpressionAttributeValues: {
          ':pk': partition(projectId, shard),
          ...(range ? { ':from': range.from, ':to': range.to } : {}),
        },
        ProjectionExpression: kind === 'documents' ? 'SK, d' : 'SK, f',
        ConsistentRead: true,
      });
    const keep = (range: number, rows: Record<string, unknown>[]) => {
      const parsed = (
        kind === 'documents'
          ? rows.map((row) => documentOfRow(projectId, row))
          : new Map(rows.map((row) => [Number(row.SK), facetsOfRow(row)]))
      ) as RangeRows[K];
      found[range] = parsed;
      this.cache.set(projectId, kind, range, versions[range]!, parsed);
    };
    return Promise.all(
      Array.from({ length: SEARCH_SHARDS }, async (_, shard) => {
        const stale: number[] = [];
        for (let part = 0; part < SEARCH_RANGES_PER_SHARD; part++) {
          const range = shard * SEARCH_RANGES_PER_SHARD + part;
          const cached = this.cache.get(projectId, kind, range, versions[range]!);
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
  private async readVersions(projectId: number): Promise<RangeVersions> {
    const [row] = await batchGetAll(this.documents, this.tableName, [searchKeys.versions(projectId)], {
      consistent: true,
    });
    const of = (kind: RangeKind) =>
      Array.from({ length: SEARCH_RANGES }, (_, range) => {
        const version = row?.[`${VERSION_PREFIX[kind]}${range}`];
        return typeof version === 'number' ? version : 0;
      });
    return { documents: of('documents'), facets: of('facets') };
  }

  /**
   * Bumps the version of each range these items' rows were written to: one update per project (one
   * write unit), after the rows, so a search that sees the new version reads the new rows.
   */
  private async bumpVersions(
    kind: RangeKind,
    written: Array<[projectId: number, itemId: number]>,
  ): Promise<void> {
    const rangesByProject = new Map<number, Set<number>>();
    for (const [projectId, itemId] of written) {
      const ranges = rangesByProject.get(projectId) ?? new Set<number>();
      ranges.add(searchRanges.of(itemId));
      rangesByProject.set(projectId, ranges);
    }
    await Promise.all(
      [...rangesByProject].map(([projectId, ranges]) => {
        const names = Object.fromEntries(
          [...ranges].map((range, at) => [`#v${at}`, `${VERSION_PREFIX[kind]}${range}`]),
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
   * A search of a project too big for the cache: the partitions read filtered by DynamoDB (or the few
   * documents a facet qualifier selects), parsed and matched, nothing kept.
   */
  private async uncachedCandidates(
    projectId: number,
    query: SearchQuery,
    negatedWords: string[],
    options: { limit: number },
  ): Promise<SearchCandidates> {
    const facetRows = needsFacets(query.terms)
      ? this.readPartitions((shard) => searchKeys.facetsPartition(projectId, shard), 'SK, f')
      : Promise.resolve([]);
    const documentRows = this.readDocuments(projectId, query, facetRows);
    const facetsById = new Map((await facetRows).map((row) => [Number(row.SK), row]));
    const matching: SearchCandidate[] = [];
    for (const row of await documentRows) {
      const document = documentOfRow(projectId, row);
      const facets = facetsOfRow(facetsById.get(document.item_id));
      if (!matchesQuery(query, { document, facets }, { lastSeenStep: LAST_SEEN_STEP_SECONDS })) continue;
      if (!clearOfNegatedWords(document, negatedWords)) continue;
      matching.push({ item_id: document.item_id, last_seen: document.last_seen, facets });
    }
    matching.sort((a, b) => b.last_seen - a.last_seen || b.item_id - a.item_id);
    return { candidates: matching.slice(0, options.limit), more: matching.length > options.limit };
  }

  /**
   * The documents that may match: those of the items a facet-only term selects when there are few,
   * else the project's partitions, narrowed by DynamoDB to the rows holding the query's values.
   */
  private async readDocuments(
    projectId: number,
    query: SearchQuery,
    facetRows: Promise<Record<string, unknown>[]>,
  ): Promise<Record<string, unknown>[]> {
    const selecting = selectingFacetTerms(query.terms);
    if (selecting.length > 0) {
      const selected = (await facetRows).filter((row) =>
        matchesQuery({ terms: selecting }, { document: NO_DOCUMENT, facets: facetsOfRow(row) }),
      );
      if (selected.length <= MAX_SELECTED_DOCUMENTS) {
        return batchGetAll(
          this.documents,
          this.tableName,
          selected.map((row) => searchKeys.document(projectId, Number(row.SK))),
          { projection: 'SK, d' },
        );
      }
    }
    return this.readPartitions(
      (shard) => searchKeys.documentPartition(projectId, shard),
      'SK, d',
      documentFilter(query.terms),
    );
  }

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
              ExpressionAttributeValues: { ':pk': searchKeys.documentPartition(projectId, shard) },
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
   * Puts every row, 25 a call, unprocessed ones retried with back-off. A key given twice is written
   * once, with its last row (a batch may not name a key twice).
   */
  private async writeAll(given: Record<string, unknown>[]): Promise<void> {
    const rows = [...new Map(given.map((row) => [`${row.PK}|${row.SK}`, row])).values()];
    for (let start = 0; start < rows.length; start += WRITES_PER_BATCH) {
      let pending = rows.slice(start, start + WRITES_PER_BATCH).map((row) => ({ PutRequest: { Item: row } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        const result = await this.documents.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
        if (pending.length > 0) await backOff(attempt);
      }
    }
  }
}
