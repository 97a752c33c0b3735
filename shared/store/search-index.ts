// The default search engine, on DynamoDB: each item's document and facets in the search table, a
// search reading the project's partitions in parallel and matching them in memory. Nothing runs
// while nobody searches; a search of a 20,000-item project reads about 4 MB (≈ 500 read units).
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
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
import { backOff, batchGetAll } from './batch-get';
import { SEARCH_SHARDS, searchKeys } from './keys';
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
    // The whole title as one token: a word is matched anywhere in it (see `StoredDocument`).
    tokens: [title],
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
        if (JSON.stringify(term.value) === `"${term.value}"`) needle = term.value;
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

export class DynamoDBSearchIndex implements SearchEngine {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putDocuments(documents: SearchDocument[]): Promise<void> {
    await this.writeAll(
      documents.map((document) => ({
        ...searchKeys.document(document.project_id, document.item_id),
        d: JSON.stringify(storedDocument(document)),
      })),
    );
  }

  async readFacets(projectId: number, itemIds: number[]): Promise<Map<number, Facets>> {
    const rows = await batchGetAll(
      this.documents,
      this.tableName,
      itemIds.map((itemId) => searchKeys.facets(projectId, itemId)),
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
  }

  async candidates(
    projectId: number,
    query: SearchQuery,
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
