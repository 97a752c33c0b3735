// The DynamoDB search engine on DynamoDB Local: the shared search cases every engine answers alike,
// then what is its own (limits, upserts, facets, counts, a project spread over its partitions).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { emptyFacets, type SearchDocument } from '#shared/search/document';
import { parseSearchQuery } from '#shared/search/query';
import { SEARCH_SHARDS } from '#shared/store/keys';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';
import {
  OTHER_SEARCH_CASE_PROJECT,
  otherProjectCorpus,
  SEARCH_CASE_PROJECT,
  searchCases,
  searchCorpus,
} from '../../support/search-cases';

let dynamo: Dynamo & { tableNames: Record<'search', string> };
let index: DynamoDBSearchIndex;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('searchindex');
  index = new DynamoDBSearchIndex(createDocumentClient(dynamo.client), dynamo.tableNames.search);
  await index.putDocuments(searchCorpus.documents);
  await index.putFacets(SEARCH_CASE_PROJECT, searchCorpus.facets);
  await index.putDocuments(otherProjectCorpus.documents);
  await index.putFacets(OTHER_SEARCH_CASE_PROJECT, otherProjectCorpus.facets);
});

afterAll(async () => {
  await dynamo?.stop();
});

const ids = (found: { candidates: Array<{ item_id: number }> }) =>
  found.candidates.map((candidate) => candidate.item_id);

describe('the shared search cases, on the DynamoDB engine', () => {
  it.each(searchCases)('$name: $query', async ({ query, expected }) => {
    const found = await index.candidates(SEARCH_CASE_PROJECT, parseSearchQuery(query), { limit: 100 });
    expect(ids(found)).toEqual(expected);
    expect(found.more).toBe(false);
  });
});

/** A plain document of `project`, seen at `lastSeen`. */
function plain(project: number, itemId: number, lastSeen: number, title = 'Plain error'): SearchDocument {
  return {
    project_id: project,
    item_id: itemId,
    counter: itemId,
    title: title.toLowerCase(),
    tokens: title.toLowerCase().split(' '),
    level: 'error',
    status: 'active',
    environment: 'production',
    framework: null,
    fingerprint: `fp-${itemId}`,
    code_version: null,
    first_seen: 1_700_000_000,
    last_seen: lastSeen,
  };
}

describe('the DynamoDB engine', () => {
  it('gives the newest candidates up to the limit and says more match', async () => {
    const found = await index.candidates(SEARCH_CASE_PROJECT, parseSearchQuery('error'), { limit: 2 });
    expect(ids(found)).toEqual([104, 103]);
    expect(found.more).toBe(true);
  });

  it('gives each candidate with the facets it holds for it', async () => {
    const found = await index.candidates(SEARCH_CASE_PROJECT, parseSearchQuery('host:web'), { limit: 10 });
    expect(found.candidates).toEqual([
      {
        item_id: 101,
        last_seen: searchCorpus.documents[0]!.last_seen,
        facets: searchCorpus.facets[0]!.facets,
      },
    ]);
  });

  it('writes a document again as an upsert: the item is found by its new fields only', async () => {
    const project = 30;
    await index.putDocuments([plain(project, 1, 1_700_000_000, 'Old title')]);
    await index.putDocuments([plain(project, 1, 1_700_000_600, 'New title')]);
    expect(ids(await index.candidates(project, parseSearchQuery('old'), { limit: 10 }))).toEqual([]);
    expect(ids(await index.candidates(project, parseSearchQuery('new'), { limit: 10 }))).toEqual([1]);
    expect(await index.countDocuments(project)).toBe(1);
  });

  it('reads back the facets it wrote, and empty ones for an item it has none for', async () => {
    const project = 31;
    const written = { ...emptyFacets(), hosts: ['web-1', 'web-2'], emails: ['a@example.com'] };
    await index.putFacets(project, [{ item_id: 5, facets: written }]);
    const read = await index.readFacets(project, [5, 6]);
    expect(read.get(5)).toEqual(written);
    expect(read.get(6)).toEqual(emptyFacets());
    // Another project's facets of the same item id are not these.
    expect((await index.readFacets(project + 1, [5])).get(5)).toEqual(emptyFacets());
  });

  it('finds every item of a project spread over its partitions, newest first, then the higher id', async () => {
    const project = 32;
    const documents = Array.from({ length: 5 * SEARCH_SHARDS }, (_, at) =>
      plain(project, at + 1, 1_700_000_000 + 600 * Math.floor(at / 2)),
    );
    await index.putDocuments(documents);
    const found = await index.candidates(project, parseSearchQuery('plain'), { limit: 1_000 });
    const expected = [...documents]
      .sort((a, b) => b.last_seen - a.last_seen || b.item_id - a.item_id)
      .map((document) => document.item_id);
    expect(ids(found)).toEqual(expected);
    expect(await index.countDocuments(project)).toBe(documents.length);
  });

  it('finds items by a host whether its facets select a few documents or many', async () => {
    const project = 33;
    const documents = Array.from({ length: 620 }, (_, at) =>
      plain(project, at + 1, 1_700_000_000 + at * 600),
    );
    await index.putDocuments(documents);
    // Every item on a web host, past what the engine reads one by one; one on a worker.
    await index.putFacets(project, [
      ...documents.map((document) => ({
        item_id: document.item_id,
        facets: { ...emptyFacets(), hosts: [`web-${document.item_id % 7}`] },
      })),
      { item_id: 3, facets: { ...emptyFacets(), hosts: ['worker-1'] } },
    ]);
    const many = await index.candidates(project, parseSearchQuery('host:web'), { limit: 1_000 });
    expect(ids(many)).toHaveLength(619);
    expect(ids(many)[0]).toBe(620);
    const few = await index.candidates(project, parseSearchQuery('host:web-6 plain'), { limit: 1_000 });
    expect(ids(few)).toEqual(
      documents
        .filter((document) => document.item_id % 7 === 6)
        .map((d) => d.item_id)
        .reverse(),
    );
    expect(ids(await index.candidates(project, parseSearchQuery('host:worker'), { limit: 10 }))).toEqual([3]);
  });

  it('counts a project with no documents as empty, and finds nothing in it', async () => {
    expect(await index.countDocuments(999)).toBe(0);
    expect(await index.candidates(999, parseSearchQuery(''), { limit: 10 })).toEqual({
      candidates: [],
      more: false,
    });
  });
});
