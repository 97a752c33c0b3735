// Search end to end on the local stack: errors reported by the official rollbar.js SDK are found
// through `GET /api/1/items?query=…` by a fragment of their class name within seconds, by Rollbar's
// qualifiers, and a resolved item leaves `status:active` results at once.
import { hostname } from 'node:os';
import Rollbar from 'rollbar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/stack';
import type { Scope } from '#shared/projects/access-tokens';
import { startStackWithProject } from '../support/local-stack';

let stack: LocalStack;
let tokens: Record<Scope, string>;

interface FoundItem {
  id: number;
  counter: number;
  title: string;
  status: string;
  level: string;
  environment: string;
  total_occurrences: number;
  last_occurrence_timestamp: number;
}

interface Answer {
  status: number;
  body: { err: number; result?: { items: FoundItem[]; page: number }; message?: string };
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'X-Rollbar-Access-Token': token, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

async function search(query: string, extra = ''): Promise<FoundItem[]> {
  const answer = await call('GET', `/api/1/items?query=${encodeURIComponent(query)}${extra}`, tokens.read);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.result!.items;
}

/** Searches until `found` holds or `ms` pass; the last answer either way. */
async function searchUntil(
  query: string,
  found: (items: FoundItem[]) => boolean,
  ms = 10_000,
): Promise<FoundItem[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const items = await search(query);
    if (found(items) || Date.now() > deadline) return items;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Reports an error of class `className` with this message, fingerprinted by both (one item each). */
async function report(className: string, message: string, environment = 'production'): Promise<void> {
  const client = new Rollbar({
    accessToken: tokens.post_server_item,
    endpoint: `${stack.url}/api/1/`,
    environment,
    captureUncaught: false,
    captureUnhandledRejections: false,
    payload: { fingerprint: `${className}:${message}` },
  });
  const error = new Error(message);
  error.name = className;
  await new Promise((resolve, reject) =>
    client.error(error, (failed, response) => (failed ? reject(failed) : resolve(response))),
  );
}

/** Letters no other test or run uses, so each test finds only its own items. */
const uniqueWord = () =>
  Array.from({ length: 10 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('search'));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('finding an error by what a developer remembers of it', () => {
  it('a fragment of its class name finds a new error within seconds', async () => {
    const word = uniqueWord();
    await report('PaymentGatewayTimeoutError', `charge ${word} timed out`);
    const started = Date.now();
    const items = await searchUntil(`Gateway ${word}`, (found) => found.length > 0);
    expect(items.map((item) => item.title)).toEqual([`PaymentGatewayTimeoutError: charge ${word} timed out`]);
    // Within seconds: searchUntil gives up after 10.
    expect(Date.now() - started).toBeLessThan(10_000);
    // Each result carries the item as the items table holds it now.
    expect(items[0]).toMatchObject({ status: 'active', level: 'error', environment: 'production' });
    expect(items[0]!.total_occurrences).toBe(1);
    // Other fragments of the same title, in any case.
    for (const fragment of ['payment', 'TIMEOUT', 'gatewaytimeout', `"charge ${word}"`]) {
      expect(
        (await search(`${fragment} ${word}`)).map((item) => item.id),
        fragment,
      ).toEqual([items[0]!.id]);
    }
  });

  it("Rollbar's qualifiers narrow the results: environment, level, host, file, #counter and negation", async () => {
    const word = uniqueWord();
    await report('InventoryError', `sku ${word} missing`, 'production');
    await report('InventoryError', `sku ${word} stale`, 'staging');
    const both = await searchUntil(word, (found) => found.length === 2);
    expect(both).toHaveLength(2);
    const production = both.find((item) => item.environment === 'production')!;
    const staging = both.find((item) => item.environment === 'staging')!;

    expect((await search(`${word} environment:staging`)).map((item) => item.id)).toEqual([staging.id]);
    expect((await search(`${word} -environment:staging`)).map((item) => item.id)).toEqual([production.id]);
    expect(await search(`${word} level:warning`)).toEqual([]);
    expect((await search(`${word} level:error missing`)).map((item) => item.id)).toEqual([production.id]);
    expect((await search(`#${staging.counter}`)).map((item) => item.id)).toEqual([staging.id]);
    // The SDK reports the machine's host name and this file's frames.
    const host = hostname().slice(0, 3);
    expect(await searchUntil(`${word} host:${host}`, (found) => found.length === 2)).toHaveLength(2);
    expect(await search(`${word} file:search.test`)).toHaveLength(2);
    expect(await search(`${word} file:no-such-file.rb`)).toEqual([]);
    // The API's own filters combine with the query.
    const answer = await call(
      'GET',
      `/api/1/items?query=${encodeURIComponent(word)}&environment=production`,
      tokens.read,
    );
    expect(answer.body.result!.items.map((item) => item.id)).toEqual([production.id]);
  });

  it('resolving an item moves it out of status:active results at once', async () => {
    const word = uniqueWord();
    await report('CacheStampedeError', `key ${word} rebuilt by every worker`);
    const [item] = await searchUntil(`${word} status:active`, (found) => found.length === 1);
    expect(item).toBeDefined();

    const resolved = await call('PATCH', `/api/1/item/${item!.id}`, tokens.write, { status: 'resolved' });
    expect(resolved.status).toBe(200);
    // At once: no waiting for the indexer, whose document may still say active.
    expect(await search(`${word} status:active`)).toEqual([]);
    const found = await searchUntil(`${word} status:resolved`, (items) => items.length === 1);
    expect(found.map((each) => [each.id, each.status])).toEqual([[item!.id, 'resolved']]);
  });

  it('newest activity comes first', async () => {
    const word = uniqueWord();
    await report('QueueError', `first ${word}`);
    await report('QueueError', `second ${word}`);
    await searchUntil(word, (found) => found.length === 2);
    // The first one happens again: it becomes the newest.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await report('QueueError', `first ${word}`);
    // Both may have been first seen in the same second, the first then already ahead by its id: wait
    // for its second occurrence too.
    const items = await searchUntil(
      word,
      (found) => found[0]?.title.includes('first') === true && found[0].total_occurrences === 2,
    );
    expect(items.map((item) => item.title.split(' ')[1])).toEqual(['first', 'second']);
    expect(items[0]!.total_occurrences).toBe(2);
  });

  it('a query Rollbar would refuse gets a 422 in its error shape, naming the problem', async () => {
    const answer = await call('GET', `/api/1/items?query=${encodeURIComponent('level:fatal')}`, tokens.read);
    expect(answer.status).toBe(422);
    expect(answer.body.err).toBe(1);
    expect(answer.body.message).toMatch(/level/);
  });
});
