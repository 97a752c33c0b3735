// The OpenSearch engine against a local server that checks requests as OpenSearch documents them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emptyFacets, type Facets, type SearchDocument } from '#shared/search/document';
import {
  actionOfMethod,
  OPENSEARCH_READER_ACTIONS,
  OPENSEARCH_WRITER_ACTIONS,
} from '#shared/search/opensearch/domain';
import {
  BULK_ACTIONS_PER_REQUEST,
  OpenSearchIndex,
  openSearchClient,
  openSearchIndexFromEnv,
  SearchIndexWriteError,
  unsignedOpenSearchClient,
} from '#shared/search/opensearch/engine';
import {
  candidatesRequest,
  itemOfCounterRequest,
  itemsByCounterRequest,
} from '#shared/search/opensearch/query';
import { ITEMS_INDEX, itemsIndexTemplate } from '#shared/search/opensearch/template';
import { type FakeOpenSearch, startFakeOpenSearch } from '../../../support/opensearch-server';

const PROJECT = 3;

function document(itemId: number, overrides: Partial<SearchDocument> = {}): SearchDocument {
  return {
    project_id: PROJECT,
    item_id: itemId,
    counter: itemId,
    title: `referenceerror: x${itemId} is not defined`,
    tokens: [
      'referenceerror',
      'reference',
      'error',
      `x${itemId}`,
      'x',
      String(itemId),
      'is',
      'not',
      'defined',
    ],
    level: 'error',
    status: 'active',
    environment: 'production',
    framework: null,
    fingerprint: 'f'.repeat(40),
    code_version: null,
    first_seen: 1_764_000_000,
    last_seen: 1_764_000_000 + itemId * 600,
    ...overrides,
  };
}

const facets = (overrides: Partial<Facets>): Facets => ({ ...emptyFacets(), ...overrides });

let server: FakeOpenSearch;
let engine: OpenSearchIndex;

beforeEach(async () => {
  server = await startFakeOpenSearch();
  engine = new OpenSearchIndex(unsignedOpenSearchClient(server.url), { backOffMs: 1 });
});
afterEach(async () => {
  await server.stop();
});

const bulkRequests = () => server.requests.filter((request) => request.path === '/_bulk');

describe('writing documents and facets', () => {
  it('puts the index template once, before the first write, then writes in bulk', async () => {
    await engine.putDocuments([document(1)]);
    await engine.putDocuments([document(2)]);
    const templatePuts = server.requests.filter(
      (request) => request.path === `/_index_template/${ITEMS_INDEX}`,
    );
    expect(templatePuts).toHaveLength(1);
    // OpenSearch takes PUT or POST here; the client sends POST.
    expect(['PUT', 'POST']).toContain(templatePuts[0]!.method);
    expect(server.requests.indexOf(templatePuts[0]!)).toBe(0);
    expect(JSON.parse(templatePuts[0]!.body)).toEqual(JSON.parse(JSON.stringify(itemsIndexTemplate)));
    expect(bulkRequests()).toHaveLength(2);
  });

  it('sends each document as an NDJSON update with doc_as_upsert, its item id as id and its project as routing', async () => {
    await engine.putDocuments([document(1), document(2)]);
    const [bulk] = bulkRequests();
    expect(bulk!.headers['content-type']).toMatch(/^application\/(vnd\.opensearch\+)?x-ndjson/);
    expect(bulk!.body.endsWith('\n')).toBe(true);
    const lines = bulk!.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { update: { _index: ITEMS_INDEX, _id: '1', routing: String(PROJECT) } },
      { doc: document(1), doc_as_upsert: true },
      { update: { _index: ITEMS_INDEX, _id: '2', routing: String(PROJECT) } },
      { doc: document(2), doc_as_upsert: true },
    ]);
  });

  it('keeps the facets when the document is written after them, and the document when the facets are', async () => {
    await engine.putFacets(PROJECT, [{ item_id: 1, facets: facets({ hosts: ['web-1'] }) }]);
    await engine.putDocuments([document(1)]);
    await engine.putFacets(PROJECT, [{ item_id: 1, facets: facets({ hosts: ['web-2', 'web-1'] }) }]);
    const stored = server.indices.get(ITEMS_INDEX)!.get('1')!;
    expect(stored.routing).toBe(String(PROJECT));
    expect(stored.source).toEqual({ ...document(1), facets: facets({ hosts: ['web-2', 'web-1'] }) });
  });

  it('writes an item given twice in one call once, with its last version', async () => {
    await engine.putDocuments([document(1, { status: 'active' }), document(1, { status: 'resolved' })]);
    const lines = bulkRequests()[0]!.body.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(server.indices.get(ITEMS_INDEX)!.get('1')!.source.status).toBe('resolved');
  });

  it(`splits more than ${BULK_ACTIONS_PER_REQUEST} documents over several bulk requests`, async () => {
    const many = Array.from({ length: BULK_ACTIONS_PER_REQUEST + 3 }, (_, index) => document(index + 1));
    await engine.putDocuments(many);
    expect(bulkRequests().map((request) => request.body.trimEnd().split('\n').length / 2)).toEqual([
      BULK_ACTIONS_PER_REQUEST,
      3,
    ]);
    expect(server.indices.get(ITEMS_INDEX)!.size).toBe(BULK_ACTIONS_PER_REQUEST + 3);
  });

  it('sends nothing for nothing to write', async () => {
    await engine.putDocuments([]);
    await engine.putFacets(PROJECT, []);
    expect(server.requests).toHaveLength(0);
  });

  it('sends again, after a back-off, the bulk items OpenSearch refused with 429, and only those', async () => {
    server.rejectBulkItems(['2'], 429);
    await engine.putDocuments([document(1), document(2)]);
    const [first, second] = bulkRequests();
    expect(first!.body.trimEnd().split('\n')).toHaveLength(4);
    expect(
      second!.body
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line))[0],
    ).toEqual({
      update: { _index: ITEMS_INDEX, _id: '2', routing: String(PROJECT) },
    });
    expect([...server.indices.get(ITEMS_INDEX)!.keys()].sort()).toEqual(['1', '2']);
  });

  it('sends a whole bulk request again when OpenSearch answers it 429', async () => {
    await engine.putDocuments([document(1)]);
    server.reject({ count: 2, status: 429, path: /^\/_bulk$/ });
    await engine.putDocuments([document(2)]);
    expect(bulkRequests().map((request) => request.status)).toEqual([200, 429, 429, 200]);
    expect(server.indices.get(ITEMS_INDEX)!.has('2')).toBe(true);
  });

  it('fails when OpenSearch keeps answering 429', async () => {
    const patient = new OpenSearchIndex(unsignedOpenSearchClient(server.url), { attempts: 3, backOffMs: 1 });
    await patient.ensureTemplate();
    server.reject({ count: 10, status: 429, path: /^\/_bulk$/ });
    await expect(patient.putDocuments([document(1)])).rejects.toThrow(SearchIndexWriteError);
    expect(bulkRequests()).toHaveLength(3);
  });

  it('fails, naming the item, when OpenSearch refuses a bulk item for another reason', async () => {
    // A field the strict mapping does not declare is refused per item, with a 400.
    const wrong = { ...document(2), unknown_field: 'x' } as SearchDocument;
    const failure = engine.putDocuments([document(1), wrong]);
    await expect(failure).rejects.toThrow(SearchIndexWriteError);
    await expect(failure).rejects.toThrow(/item 2: 400 strict_dynamic_mapping_exception/);
    expect(bulkRequests()).toHaveLength(1);
  });

  it('fails on a server error, and puts the template again on the next write when that put failed', async () => {
    server.reject({ count: 1, status: 500, path: /^\/_index_template\// });
    await expect(engine.putDocuments([document(1)])).rejects.toThrow(
      /index template: OpenSearch answered 500/,
    );
    await engine.putDocuments([document(1)]);
    expect(server.templates.has(ITEMS_INDEX)).toBe(true);
    expect(server.indices.get(ITEMS_INDEX)!.has('1')).toBe(true);
  });
});

describe('reading facets', () => {
  it('reads the facets of the items asked for with one _mget routed by project, empty for unknown items', async () => {
    await engine.putFacets(PROJECT, [{ item_id: 1, facets: facets({ files: ['app/models/user.rb'] }) }]);
    await engine.putDocuments([document(2)]);
    const read = await engine.readFacets(PROJECT, [1, 2, 3]);
    expect(read).toEqual(
      new Map([
        [1, facets({ files: ['app/models/user.rb'] })],
        [2, emptyFacets()],
        [3, emptyFacets()],
      ]),
    );
    const mget = server.requests.find((request) => request.path === `/${ITEMS_INDEX}/_mget`)!;
    expect(JSON.parse(mget.body)).toEqual({
      docs: ['1', '2', '3'].map((id) => ({ _id: id, routing: String(PROJECT) })),
    });
    expect(mget.query.get('_source_includes')).toBe('facets');
  });

  it('reads empty facets before anything was ever written (no index yet)', async () => {
    expect(await engine.readFacets(PROJECT, [1])).toEqual(new Map([[1, emptyFacets()]]));
  });
});

describe('searching and counting', () => {
  it('asks _search, routed by project, with the query built from the terms, and pages with limit + 1', async () => {
    await engine.putDocuments([document(1), document(2), document(3)]);
    await engine.putFacets(PROJECT, [{ item_id: 3, facets: facets({ hosts: ['web-1'] }) }]);
    const query = { terms: [{ kind: 'word', value: 'error', negated: false }] } as const;
    const found = await engine.candidates(PROJECT, { terms: [...query.terms] }, { limit: 2 });
    expect(found).toEqual({
      candidates: [
        { item_id: 3, last_seen: document(3).last_seen, facets: facets({ hosts: ['web-1'] }) },
        { item_id: 2, last_seen: document(2).last_seen, facets: emptyFacets() },
      ],
      more: true,
    });
    const search = server.requests.find((request) => request.path === `/${ITEMS_INDEX}/_search`)!;
    expect(search.query.get('routing')).toBe(String(PROJECT));
    expect(JSON.parse(search.body)).toEqual(candidatesRequest(PROJECT, { terms: [...query.terms] }, 2));
  });

  it('says there are no more when every match fits in the limit', async () => {
    await engine.putDocuments([document(1), document(2)]);
    const found = await engine.candidates(PROJECT, { terms: [] }, { limit: 2 });
    expect(found.candidates.map((candidate) => candidate.item_id)).toEqual([2, 1]);
    expect(found.more).toBe(false);
  });

  it('finds nothing and counts zero before anything was ever written (no index yet)', async () => {
    expect(await engine.candidates(PROJECT, { terms: [] }, { limit: 10 })).toEqual({
      candidates: [],
      more: false,
    });
    expect(await engine.countDocuments(PROJECT)).toBe(0);
  });

  it("counts a project's documents with _count, not the items whose facets arrived first", async () => {
    await engine.putDocuments([document(1), document(2), document(3, { project_id: PROJECT + 1 })]);
    await engine.putFacets(PROJECT, [{ item_id: 9, facets: facets({ hosts: ['web-1'] }) }]);
    expect(await engine.countDocuments(PROJECT)).toBe(2);
    const count = server.requests.find((request) => request.path === `/${ITEMS_INDEX}/_count`)!;
    expect(count.query.get('routing')).toBe(String(PROJECT));
  });

  it('retries a search OpenSearch answers 429, and fails clearly on other errors', async () => {
    await engine.putDocuments([document(1)]);
    server.reject({ count: 1, status: 429, path: /_search$/ });
    expect((await engine.candidates(PROJECT, { terms: [] }, { limit: 5 })).candidates).toHaveLength(1);
    server.reject({ count: 1, status: 500, path: /_search$/ });
    await expect(engine.candidates(PROJECT, { terms: [] }, { limit: 5 })).rejects.toThrow(
      /searching: OpenSearch answered 500/,
    );
  });
});

describe('the item listing', () => {
  it('pages by counter, highest first, with limit + 1, routed by project, counters only', async () => {
    await engine.putDocuments([
      ...[5, 1, 4, 2, 3].map((counter) => document(100 + counter, { counter })),
      document(200, { counter: null }),
      document(300, { counter: 9, project_id: PROJECT + 1 }),
    ]);
    // Facets alone (no document yet) hold no project and no counter: never listed.
    await engine.putFacets(PROJECT, [{ item_id: 400, facets: facets({ hosts: ['web-1'] }) }]);

    expect(await engine.itemsByCounter(PROJECT, { limit: 2 })).toEqual({
      items: [
        { item_id: 105, counter: 5 },
        { item_id: 104, counter: 4 },
      ],
      more: true,
    });
    expect(await engine.itemsByCounter(PROJECT, { limit: 3, below: 4 })).toEqual({
      items: [
        { item_id: 103, counter: 3 },
        { item_id: 102, counter: 2 },
        { item_id: 101, counter: 1 },
      ],
      more: false,
    });
    const search = server.requests.findLast((request) => request.path === `/${ITEMS_INDEX}/_search`)!;
    expect(search.query.get('routing')).toBe(String(PROJECT));
    expect(JSON.parse(search.body)).toEqual(itemsByCounterRequest(PROJECT, { limit: 3, below: 4 }));
    expect(JSON.parse(search.body)).toMatchObject({
      sort: [{ counter: { order: 'desc' } }, { item_id: { order: 'desc' } }],
      size: 4,
      _source: ['item_id', 'counter'],
    });
  });

  it("finds a counter's item in its project only", async () => {
    await engine.putDocuments([
      document(7, { counter: 2 }),
      document(8, { counter: 3, project_id: PROJECT + 1 }),
    ]);
    expect(await engine.itemIdOfCounter(PROJECT, 2)).toBe(7);
    expect(await engine.itemIdOfCounter(PROJECT, 3)).toBeUndefined();
    const search = server.requests.findLast((request) => request.path === `/${ITEMS_INDEX}/_search`)!;
    expect(JSON.parse(search.body)).toEqual(itemOfCounterRequest(PROJECT, 3));
  });

  it('lists nothing before anything was ever written, and fails clearly on errors', async () => {
    expect(await engine.itemsByCounter(PROJECT, { limit: 100 })).toEqual({ items: [], more: false });
    expect(await engine.itemIdOfCounter(PROJECT, 1)).toBeUndefined();
    await engine.putDocuments([document(1)]);
    server.reject({ count: 1, status: 500, path: /_search$/ });
    await expect(engine.itemsByCounter(PROJECT, { limit: 5 })).rejects.toThrow(
      /listing: OpenSearch answered 500/,
    );
  });
});

describe('what the domain must allow', () => {
  it('the indexer sends only the actions its access policy allows, and so does the read API', async () => {
    await engine.readFacets(PROJECT, [1]);
    await engine.putDocuments([document(1)]);
    await engine.putFacets(PROJECT, [{ item_id: 1, facets: facets({ hosts: ['web-1'] }) }]);
    const written = server.requests.length;
    await engine.candidates(PROJECT, { terms: [] }, { limit: 10 });
    await engine.countDocuments(PROJECT);
    await engine.itemsByCounter(PROJECT, { limit: 100 });
    await engine.itemIdOfCounter(PROJECT, 1);
    const actions = (requests: typeof server.requests) => [
      ...new Set(requests.map((request) => actionOfMethod(request.method))),
    ];
    expect(actions(server.requests.slice(0, written))).toEqual([...OPENSEARCH_WRITER_ACTIONS]);
    expect(actions(server.requests.slice(written))).toEqual([...OPENSEARCH_READER_ACTIONS]);
    // The read API's policy covers the items index's paths only.
    for (const request of server.requests.slice(written))
      expect(request.path.startsWith(`/${ITEMS_INDEX}/`)).toBe(true);
  });
});

describe('the signed client', () => {
  const credentials = async () => ({
    accessKeyId: 'AKIDFAULTLINE',
    secretAccessKey: 'secret',
    sessionToken: 'token',
  });

  it('signs every request with SigV4 for the service es in its region, body hash included', async () => {
    const signed = await startFakeOpenSearch({
      signedFor: { region: 'eu-west-1', accessKeyId: 'AKIDFAULTLINE' },
    });
    try {
      const index = new OpenSearchIndex(openSearchClient(signed.url, 'eu-west-1', { credentials }));
      await index.putDocuments([document(1)]);
      expect(await index.countDocuments(PROJECT)).toBe(1);
      expect(signed.requests.map((request) => request.status)).toEqual([200, 200, 200]);
      expect(signed.requests[1]!.headers['x-amz-security-token']).toBe('token');
    } finally {
      await signed.stop();
    }
  });

  it('is refused by a domain of another region', async () => {
    const signed = await startFakeOpenSearch({
      signedFor: { region: 'eu-west-1', accessKeyId: 'AKIDFAULTLINE' },
    });
    try {
      const index = new OpenSearchIndex(openSearchClient(signed.url, 'us-east-1', { credentials }));
      await expect(index.putDocuments([document(1)])).rejects.toThrow(
        /index template: OpenSearch answered 403/,
      );
    } finally {
      await signed.stop();
    }
  });

  it('takes its endpoint and region from OPENSEARCH_ENDPOINT and AWS_REGION, and says which is missing', () => {
    expect(
      openSearchIndexFromEnv({
        OPENSEARCH_ENDPOINT: 'search-x.eu-west-1.es.amazonaws.com',
        AWS_REGION: 'eu-west-1',
      }),
    ).toBeInstanceOf(OpenSearchIndex);
    expect(() => openSearchIndexFromEnv({ AWS_REGION: 'eu-west-1' })).toThrow(/OPENSEARCH_ENDPOINT/);
    expect(() => openSearchIndexFromEnv({ OPENSEARCH_ENDPOINT: 'search-x' })).toThrow(/AWS_REGION/);
  });
});
