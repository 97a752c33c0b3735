// The DynamoDB search engine on DynamoDB Local: the shared search cases every engine answers alike,
// then what is its own (limits, upserts, facets, counts, a project spread over its partitions).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { emptyFacets, FACET_NAMES, type SearchDocument } from '#shared/search/document';
import { matchesQuery } from '#shared/search/match';
import { parseSearchQuery } from '#shared/search/query';
import { titleTokens } from '#shared/search/title-tokens';
import { SEARCH_SHARDS, searchKeys } from '#shared/store/keys';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { credentials, type Dynamo, region, startDynamoWithTables } from '../../support/emulators';
import {
  OTHER_SEARCH_CASE_PROJECT,
  otherProjectCorpus,
  SEARCH_CASE_PROJECT,
  searchCases,
  searchCorpus,
} from '../../support/search-cases';

let dynamo: Dynamo & { tableNames: Record<'search', string> };
let index: DynamoDBSearchIndex;
/** The table's rows as they are, read and written beside the engine. */
let rows: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('searchindex');
  rows = createDocumentClient(dynamo.client);
  index = new DynamoDBSearchIndex(rows, dynamo.tableNames.search);
  await index.putDocuments(searchCorpus.documents);
  await index.putFacets(SEARCH_CASE_PROJECT, searchCorpus.facets);
  await index.putDocuments(otherProjectCorpus.documents);
  await index.putFacets(OTHER_SEARCH_CASE_PROJECT, otherProjectCorpus.facets);
});

/** The containers' own clients. */
const clients: DynamoDBClient[] = [];

afterAll(async () => {
  for (const client of clients) client.destroy();
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

/** The project's rows in the search table but its version row. */
async function itemRows(project: number): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await rows.send(
    new ScanCommand({ TableName: dynamo.tableNames.search, ConsistentRead: true }),
  );
  return Items.filter(
    (row) => String(row.PK).startsWith(`SEARCH#${project}#`) && !String(row.PK).endsWith('#VERSIONS'),
  );
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

  it('keeps as candidates the items a negated word or a Greek final sigma could still let through', async () => {
    const project = 32;
    // Past 64 characters a long word is in the title but in no token: `-items/lookup` does not
    // exclude it (the tokens decide, in the re-check).
    const url =
      'Request failed: https://api.example.com/v1/customers/subscriptions/invoices/line_items/lookup';
    await index.putDocuments([
      { ...plain(project, 1, 1_700_000_000), title: url.toLowerCase(), tokens: titleTokens(url) },
      { ...plain(project, 2, 1_700_000_000), title: 'ασ.β failure', tokens: titleTokens('ΑΣ.Β failure') },
    ]);
    const negated = await index.candidates(project, parseSearchQuery('-items/lookup'), { limit: 10 });
    expect(ids(negated)).toContain(1);
    const query = parseSearchQuery('-items/lookup');
    const document = {
      ...plain(project, 1, 1_700_000_000),
      title: url.toLowerCase(),
      tokens: titleTokens(url),
    };
    expect(matchesQuery(query, { document, facets: emptyFacets() })).toBe(true);
    // The piece `ΑΣ` lower-cases to `ας`; the whole title to `ασ.β`: found either way.
    expect(ids(await index.candidates(project, parseSearchQuery('ΑΣ'), { limit: 10 }))).toEqual([2]);
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

  it('finds items by a host among many, by the facets their entries hold', async () => {
    const project = 33;
    const documents = Array.from({ length: 60 }, (_, at) => plain(project, at + 1, 1_700_000_000 + at * 600));
    // Every item on a web host, then one moved to a worker.
    await index.putEntries(
      documents.map((document) => ({
        document,
        facets: { ...emptyFacets(), hosts: [`web-${document.item_id % 7}`] },
      })),
    );
    await index.putFacets(project, [{ item_id: 3, facets: { ...emptyFacets(), hosts: ['worker-1'] } }]);
    const many = await index.candidates(project, parseSearchQuery('host:web'), { limit: 1_000 });
    expect(ids(many)).toHaveLength(59);
    expect(ids(many)[0]).toBe(60);
    const few = await index.candidates(project, parseSearchQuery('host:web-6 plain'), { limit: 1_000 });
    expect(ids(few)).toEqual(
      documents
        .filter((document) => document.item_id % 7 === 6)
        .map((d) => d.item_id)
        .reverse(),
    );
    expect(ids(await index.candidates(project, parseSearchQuery('host:worker'), { limit: 10 }))).toEqual([3]);
  });

  it("writes an item's document and facets as one row, and keeps the other part when one is set alone", async () => {
    const project = 34;
    const facets = { ...emptyFacets(), hosts: ['web-1'], files: ['app/models/order.rb'] };
    await index.putEntries([{ document: plain(project, 7, 1_700_000_000, 'Checkout failed'), facets }]);
    const written = await itemRows(project);
    expect(written).toHaveLength(1);
    expect(Object.keys(written[0]!).sort()).toEqual(['PK', 'SK', 'd', 'f']);
    // A status change keeps the facets; a new host keeps the status.
    await index.putDocuments([
      { ...plain(project, 7, 1_700_000_000, 'Checkout failed'), status: 'resolved' },
    ]);
    await index.putFacets(project, [{ item_id: 7, facets: { ...facets, hosts: ['web-2', 'web-1'] } }]);
    expect(await itemRows(project)).toHaveLength(1);
    const found = await index.candidates(project, parseSearchQuery('host:web-2 status:resolved checkout'), {
      limit: 10,
    });
    expect(found.candidates).toEqual([
      { item_id: 7, last_seen: 1_700_000_000, facets: { ...facets, hosts: ['web-2', 'web-1'] } },
    ]);
  });

  it('finds the facets of an item indexed before entries held them in their former row, until written again', async () => {
    const project = 35;
    // As the index was written before: the document row alone, the facets in a row of their own.
    await index.putDocuments([plain(project, 8, 1_700_000_000, 'Legacy failure')]);
    const former = { ...emptyFacets(), hosts: ['old-host'], usernames: ['alice'] };
    await rows.send(
      new PutCommand({
        TableName: dynamo.tableNames.search,
        Item: {
          ...searchKeys.formerFacets(project, 8),
          f: JSON.stringify(FACET_NAMES.map((name) => former[name])),
        },
      }),
    );
    expect((await index.readFacets(project, [8])).get(8)).toEqual(former);
    // The indexer merges a new host into them and writes them into the entry: nothing is lost.
    await index.putFacets(project, [{ item_id: 8, facets: { ...former, hosts: ['new-host', 'old-host'] } }]);
    expect((await index.readFacets(project, [8])).get(8)?.hosts).toEqual(['new-host', 'old-host']);
    expect(
      ids(await index.candidates(project, parseSearchQuery('host:old-host username:alice'), { limit: 10 })),
    ).toEqual([8]);
    expect(await index.countDocuments(project)).toBe(1);
  });

  it('counts a project with no documents as empty, and finds nothing in it', async () => {
    expect(await index.countDocuments(999)).toBe(0);
    expect(await index.candidates(999, parseSearchQuery(''), { limit: 10 })).toEqual({
      candidates: [],
      more: false,
    });
  });
});

/** An engine (a container) on its own client, counting the partitions and ranges its searches read. */
function container(options: { cacheRows?: number } = {}) {
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials });
  clients.push(client);
  const documents = createDocumentClient(client);
  const reads = { queries: 0 };
  documents.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'QueryCommand') reads.queries++;
      return next(args);
    },
    { step: 'initialize', name: 'countQueries' },
  );
  return { engine: new DynamoDBSearchIndex(documents, dynamo.tableNames.search, options), reads };
}

describe('the DynamoDB engine, searched again by the same container', () => {
  it('reads nothing but the version row when nothing was written since the last search', async () => {
    const project = 40;
    await index.putDocuments(Array.from({ length: 50 }, (_, at) => plain(project, at + 1, 1_700_000_000)));
    const { engine, reads } = container();
    expect(ids(await engine.candidates(project, parseSearchQuery('plain'), { limit: 100 }))).toHaveLength(50);
    reads.queries = 0;
    expect(ids(await engine.candidates(project, parseSearchQuery('plain'), { limit: 100 }))).toHaveLength(50);
    expect(reads.queries).toBe(0);
  });

  it('finds a document written after its last search, reading again only the range it is in', async () => {
    const project = 41;
    await index.putDocuments(Array.from({ length: 50 }, (_, at) => plain(project, at + 1, 1_700_000_000)));
    const { engine, reads } = container();
    expect(ids(await engine.candidates(project, parseSearchQuery('checkout'), { limit: 100 }))).toEqual([]);
    // The indexer, in another container, writes a new item.
    await index.putDocuments([plain(project, 2 ** 51 + 3, 1_700_000_600, 'Checkout failed')]);
    reads.queries = 0;
    expect(ids(await engine.candidates(project, parseSearchQuery('checkout'), { limit: 100 }))).toEqual([
      2 ** 51 + 3,
    ]);
    expect(reads.queries).toBe(1);
  });

  it('sees a status change of a document it holds', async () => {
    const project = 42;
    await index.putDocuments([plain(project, 1, 1_700_000_000), plain(project, 2, 1_700_000_000)]);
    const { engine } = container();
    expect(ids(await engine.candidates(project, parseSearchQuery('status:active'), { limit: 10 }))).toEqual([
      2, 1,
    ]);
    await index.putDocuments([{ ...plain(project, 2, 1_700_000_000), status: 'resolved' }]);
    expect(ids(await engine.candidates(project, parseSearchQuery('status:active'), { limit: 10 }))).toEqual([
      1,
    ]);
    expect(ids(await engine.candidates(project, parseSearchQuery('status:resolved'), { limit: 10 }))).toEqual(
      [2],
    );
  });

  it('sees facets written after its last search', async () => {
    const project = 43;
    await index.putDocuments([plain(project, 1, 1_700_000_000), plain(project, 2, 1_700_000_000)]);
    await index.putFacets(project, [{ item_id: 1, facets: { ...emptyFacets(), hosts: ['web-1'] } }]);
    const { engine } = container();
    expect(ids(await engine.candidates(project, parseSearchQuery('host:web'), { limit: 10 }))).toEqual([1]);
    await index.putFacets(project, [{ item_id: 2, facets: { ...emptyFacets(), hosts: ['web-2'] } }]);
    const found = await engine.candidates(project, parseSearchQuery('host:web'), { limit: 10 });
    expect(ids(found)).toEqual([2, 1]);
    expect(found.candidates[0]!.facets.hosts).toEqual(['web-2']);
  });

  it('never serves one container the stale rows of another', async () => {
    const project = 44;
    await index.putDocuments([plain(project, 1, 1_700_000_000, 'Timeout one')]);
    const first = container();
    const second = container();
    const search = (engine: DynamoDBSearchIndex) =>
      engine.candidates(project, parseSearchQuery('timeout -status:resolved'), { limit: 10 });
    expect(ids(await search(first.engine))).toEqual([1]);
    expect(ids(await search(second.engine))).toEqual([1]);
    // Each container writes (a reindex from one, the indexer from the other): both see both.
    await first.engine.putDocuments([
      { ...plain(project, 1, 1_700_000_000, 'Timeout one'), status: 'resolved' },
    ]);
    expect(ids(await search(second.engine))).toEqual([]);
    await second.engine.putDocuments([plain(project, 2, 1_700_000_600, 'Timeout two')]);
    expect(ids(await search(first.engine))).toEqual([2]);
    expect(ids(await search(second.engine))).toEqual([2]);
  });

  it('lets go of the least recently searched project when its cache is full, and still answers', async () => {
    const [a, b] = [45, 46];
    await index.putDocuments(Array.from({ length: 30 }, (_, at) => plain(a, at + 1, 1_700_000_000)));
    await index.putDocuments(Array.from({ length: 30 }, (_, at) => plain(b, at + 1, 1_700_000_000)));
    const { engine, reads } = container({ cacheRows: 40 });
    const search = (project: number) => engine.candidates(project, parseSearchQuery('plain'), { limit: 100 });
    await search(a);
    reads.queries = 0;
    await search(a);
    expect(reads.queries).toBe(0);
    // B pushes A out: A is read again.
    expect(ids(await search(b))).toHaveLength(30);
    reads.queries = 0;
    expect(ids(await search(a))).toHaveLength(30);
    expect(reads.queries).toBeGreaterThan(0);
  });

  it('searches a project bigger than its whole cache without it, and finds what is written', async () => {
    const project = 47;
    await index.putDocuments(Array.from({ length: 30 }, (_, at) => plain(project, at + 1, 1_700_000_000)));
    const { engine, reads } = container({ cacheRows: 10 });
    expect(ids(await engine.candidates(project, parseSearchQuery('plain'), { limit: 100 }))).toHaveLength(30);
    await index.putDocuments([{ ...plain(project, 5, 1_700_000_000), status: 'muted' }]);
    reads.queries = 0;
    expect(ids(await engine.candidates(project, parseSearchQuery('status:muted'), { limit: 100 }))).toEqual([
      5,
    ]);
    expect(reads.queries).toBe(SEARCH_SHARDS);
  });
});

describe('the DynamoDB engine as the item listing', () => {
  const project = 60;
  /** Items 1 to 12 numbered in another order than their ids; one more not numbered yet. */
  beforeAll(async () => {
    await index.putDocuments([
      ...Array.from({ length: 12 }, (_, at) => ({
        ...plain(project, 2 ** 49 * (at % 8) + at, 1_700_000_000),
        counter: ((at * 5) % 12) + 1,
      })),
      { ...plain(project, 999, 1_700_000_000), counter: null },
    ]);
  });
  const countersOf = (page: { items: Array<{ counter: number }> }) => page.items.map((item) => item.counter);

  it.each([
    ['with its cache', {}],
    ['without a cache (a project bigger than it)', { cacheRows: 0 }],
  ])('pages by counter, highest first, and finds a counter, %s', async (_case, options) => {
    const { engine } = container(options);
    const first = await engine.itemsByCounter(project, { limit: 5 });
    expect(countersOf(first)).toEqual([12, 11, 10, 9, 8]);
    expect(first.more).toBe(true);
    const last = await engine.itemsByCounter(project, { limit: 5, below: 3 });
    expect(last).toMatchObject({ more: false });
    expect(countersOf(last)).toEqual([2, 1]);
    expect(await engine.itemsByCounter(project + 1, { limit: 5 })).toEqual({ items: [], more: false });

    const seventh = first.items.find((item) => item.counter === 9)!;
    expect(await engine.itemIdOfCounter(project, 9)).toBe(seventh.item_id);
    expect(await engine.itemIdOfCounter(project, 13)).toBeUndefined();
    // A counter is the project's own: another project's #9 is not this one's.
    expect(await engine.itemIdOfCounter(SEARCH_CASE_PROJECT, 9)).not.toBe(seventh.item_id);
  });

  it('lists an item as soon as its entry is written, through a warm cache', async () => {
    const { engine } = container();
    expect(countersOf(await engine.itemsByCounter(project, { limit: 1 }))).toEqual([12]);
    await index.putDocuments([{ ...plain(project, 5_000, 1_700_000_000), counter: 13 }]);
    expect(await engine.itemsByCounter(project, { limit: 1 })).toEqual({
      items: [{ item_id: 5_000, counter: 13 }],
      more: true,
    });
  });
});
