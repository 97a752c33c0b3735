// `GET /api/1/items?query=` through the read API's handler behind the local API Gateway adapter, on
// DynamoDB Local with the DynamoDB search engine: Rollbar's answers and refusals, the listing kept for a
// blank query, and `faultline items search` as a client of it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpAdapter, startHttpAdapter } from '#infra/local/http-adapter';
import { loadDeclaredFunction } from '#infra/local/lambda-runtime';
import { recordSentActions, type SentActionRecorder } from '#infra/local/sent-actions';
import { createDocumentClient } from '#shared/aws/clients';
import { ItemsApiRefusal, itemsApi, runItemsSearch } from '#shared/cli/items';
import type { ItemRecord } from '#shared/items/item';
import type { Scope } from '#shared/projects/access-tokens';
import { createProjectService } from '#shared/projects/service';
import { emptyFacets } from '#shared/search/document';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import type { tables } from '#shared/wiring/tables';
import { functions, type RouteKey } from '#shared/wiring/topology';
import { type Dynamo, pointHandlersAt, startDynamoWithTables } from '../support/emulators';
import { anItem, indexItems, putItemRows } from '../support/search-items';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
/** 2025-11-24T16:00:00Z. */
const T0 = 1_764_000_000;

let dynamo: Dynamo & { tableNames: Record<keyof typeof tables, string> };
let documents: DynamoDBDocumentClient;
let http: HttpAdapter;
let recorder: SentActionRecorder;
let tokens: Record<Scope, string>;
let otherTokens: Record<Scope, string>;
/** The shop's items: counters 1 to 4, last seen in another order than created. */
let shop: ItemRecord[];

beforeAll(async () => {
  dynamo = await startDynamoWithTables('readsearch');
  documents = createDocumentClient(dynamo.client);
  pointHandlersAt(dynamo);
  const projects = createProjectService({
    projects: new DynamoDBProjectRepository(documents, dynamo.tableNames.projects),
  });
  const created = await projects.createProject({ name: 'shop' });
  tokens = created.tokens;
  otherTokens = (await projects.createProject({ name: 'other' })).tokens;

  const projectId = created.project.projectId;
  shop = [
    anItem({
      id: 501,
      counter: 1,
      project_id: projectId,
      title: 'ReferenceError: cart is not defined',
      last_occurrence_timestamp: T0 + 7_200,
    }),
    anItem({
      id: 502,
      counter: 2,
      project_id: projectId,
      title: 'TypeError: price.toFixed is not a function',
      level: 'warning',
      framework: 'express',
      last_occurrence_timestamp: T0 + 3_600,
    }),
    anItem({
      id: 503,
      counter: 3,
      project_id: projectId,
      title: 'not_found_error: no such order',
      status: 'resolved',
      last_occurrence_timestamp: T0 + 10_800,
      total_occurrences: 1234,
    }),
    anItem({
      id: 504,
      counter: 4,
      project_id: projectId,
      title: 'Payment declined',
      level: 'info',
      last_occurrence_timestamp: T0,
    }),
  ];
  await putItemRows(documents, dynamo.tableNames.items, shop);
  const index = new DynamoDBSearchIndex(documents, dynamo.tableNames.search);
  await indexItems(index, shop);
  await index.putFacets(projectId, [{ item_id: 502, facets: { ...emptyFacets(), hosts: ['web-1'] } }]);

  recorder = recordSentActions();

  const declaration = functions.readApi;
  const loaded = await loadDeclaredFunction('readApi');
  http = await startHttpAdapter({
    routes: (declaration.trigger.routes as readonly RouteKey[]).map((routeKey) => ({
      routeKey,
      function: loaded,
    })),
    port: 0,
  });
});

afterAll(async () => {
  recorder?.stop();
  await http?.stop();
  await dynamo?.stop();
});

async function items(parameters: Record<string, string>, token: string | null = tokens.read) {
  const response = await fetch(`${http.url}/api/1/items?${new URLSearchParams(parameters)}`, {
    headers: token ? { 'X-Rollbar-Access-Token': token } : {},
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const idsIn = (body: Record<string, unknown>) =>
  (body.result as { items: Array<{ id: number }> }).items.map((item) => item.id);

describe('GET /api/1/items?query=', () => {
  it("finds items by a fragment of a word, newest activity first, as Rollbar's item resources", async () => {
    const { status, body } = await items({ query: 'Error' });
    expect(status).toBe(200);
    expect(body.err).toBe(0);
    expect(idsIn(body)).toEqual([503, 501, 502]);
    const first = (body.result as { items: Array<Record<string, unknown>>; page: number }).items[0]!;
    expect(first).toMatchObject({
      id: 503,
      counter: 3,
      status: 'resolved',
      total_occurrences: 1234,
      level_lock: 0,
    });
    // A row's keys never reach a client.
    expect(Object.keys(first)).not.toContain('PK');
    expect((body.result as { page: number }).page).toBe(1);
  });

  it.each([
    ['a status filter', { query: 'error', status: 'active' }, [501, 502]],
    ['a level filter', { query: 'error', level: 'warning' }, [502]],
    ['an environment filter', { query: 'error', environment: 'staging' }, []],
    ['a framework filter', { query: 'error', framework: 'express' }, [502]],
    ['a negated qualifier', { query: '-status:resolved' }, [501, 502, 504]],
    ['a counter', { query: '#4' }, [504]],
    ['a phrase', { query: '"is not a function"' }, [502]],
    ['a host', { query: 'host:web' }, [502]],
    ['a host and a word', { query: 'host:web cart' }, []],
    ['a negated host', { query: '-host:web error' }, [503, 501]],
    ['a second page', { query: 'error', page: '2' }, []],
  ])('combines the query with %s', async (_case, parameters, expected) => {
    const { status, body } = await items(parameters);
    expect(status).toBe(200);
    expect(idsIn(body)).toEqual(expected);
  });

  it('lists items newest first by number, as before, when the query is blank', async () => {
    expect(idsIn((await items({ query: '  ' })).body)).toEqual([504, 503, 502, 501]);
    expect(idsIn((await items({})).body)).toEqual([504, 503, 502, 501]);
    expect(idsIn((await items({ framework: 'express' })).body)).toEqual([502]);
  });

  it("shows only the token's project", async () => {
    expect(idsIn((await items({ query: 'error' }, otherTokens.read)).body)).toEqual([]);
  });

  it.each([
    ['an unknown level in the query', { query: 'level:fatal' }, 'level'],
    ['an unclosed quote', { query: '"not closed' }, 'quote'],
    ['a date that is not one', { query: 'last_seen:>soon' }, 'last_seen'],
    ['a query too long', { query: 'x'.repeat(5_000) }, 'characters'],
    ['an unknown level filter', { query: 'error', level: 'fatal' }, 'level'],
    ['an unknown status filter', { query: 'error', status: 'open' }, 'status'],
    ['a page past the last a search shows', { query: 'error', page: '101' }, 'page'],
    ['a page that is not one', { query: 'error', page: 'two' }, 'page'],
    ['a blank framework', { query: 'error', framework: '' }, 'framework'],
  ])("refuses %s with a 422 in Rollbar's shape", async (_case, parameters, named) => {
    const { status, body } = await items(parameters);
    expect(status).toBe(422);
    expect(body).toEqual({ err: 1, message: expect.stringContaining(named) });
  });

  it('refuses a search without a read token', async () => {
    expect((await items({ query: 'error' }, null)).status).toBe(403);
    expect((await items({ query: 'error' }, tokens.post_server_item)).status).toBe(403);
  });

  it('answers hostile queries without a 5xx', async () => {
    for (const query of [
      '\u0000\uFFFF\uD800',
      '-'.repeat(999),
      '"'.repeat(999),
      '#99999999999999999999',
      'a:b:c:d',
      '((((',
    ]) {
      const { status } = await items({ query });
      expect([200, 422], query).toContain(status);
    }
  });
});

describe('what a search sends to DynamoDB', () => {
  it('is what the read API is granted on the search table: Query, and BatchGetItem for a host search', async () => {
    await items({ query: 'error' });
    await items({ query: 'host:web' });
    const searchTable = dynamo.tableNames.search;
    const sent = new Set(
      recorder.actions
        .filter((action) => action.functionName === 'readApi' && action.resource === searchTable)
        .map((action) => action.action),
    );
    expect([...sent].sort()).toEqual([...functions.readApi.tables.search].sort());
  });
});

describe('faultline items search', () => {
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        print: (line: string) => out.push(line),
        warn: (line: string) => err.push(line),
        width: 120,
        nowMs: () => (T0 + 10_800 + 300) * 1000,
      },
    };
  }

  it('prints a table: number, level, status, occurrences, last seen, title', async () => {
    const { out, io } = capture();
    const code = await runItemsSearch(
      ['Error', '-status:resolved'],
      async () => itemsApi(http.url, tokens.read),
      io,
    );
    expect(code).toBe(0);
    expect(out).toEqual([
      '#   LEVEL    STATUS  OCCURRENCES  LAST SEEN  TITLE',
      '#1  error    active            1  1h ago     ReferenceError: cart is not defined',
      '#2  warning  active            1  2h ago     TypeError: price.toFixed is not a function',
    ]);
  });

  it('passes the filters and prints the API answer as JSON with --json', async () => {
    const { out, io } = capture();
    await runItemsSearch(
      ['error', '--level', 'warning', '--framework=express', '--json'],
      async () => itemsApi(http.url, tokens.read),
      io,
    );
    const answer = JSON.parse(out.join('\n')) as { items: Array<{ id: number }>; page: number };
    expect(answer.items.map((item) => item.id)).toEqual([502]);
    expect(answer.page).toBe(1);
  });

  it('says so when nothing matches', async () => {
    const { out, err, io } = capture();
    await runItemsSearch(['nothing-like-this'], async () => itemsApi(http.url, tokens.read), io);
    expect(out).toEqual([]);
    expect(err).toEqual(['no items match']);
  });

  it("passes on the API's refusal of a query", async () => {
    const { io } = capture();
    const refused = runItemsSearch(['level:fatal'], async () => itemsApi(http.url, tokens.read), io);
    await expect(refused).rejects.toThrow(ItemsApiRefusal);
    await expect(refused).rejects.toThrow(/level must be one of .* \(HTTP 422\)/);
  });

  it('runs from the command line: a table on stdout, a refusal on stderr with exit code 2', async () => {
    const cli = (...args: string[]) =>
      run(
        process.execPath,
        ['bin/faultline.mjs', 'items', 'search', ...args, '--url', http.url, '--token', tokens.read],
        { cwd: root },
      );
    const found = await cli('cart', '--status', 'active');
    expect(found.stdout).toMatch(
      /^#\s+LEVEL\s+STATUS\s+OCCURRENCES\s+LAST SEEN\s+TITLE\n#1\s+error\s+active\s+1\s+\S+ ago\s+ReferenceError: cart is not defined\n$/,
    );
    await expect(cli('status:open')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('faultline: query: status must be one of active, resolved, muted'),
    });
  }, 60_000);
});
