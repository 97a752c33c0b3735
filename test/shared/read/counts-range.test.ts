// The counts routes refuse a time window they cannot answer with Rollbar's 422, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/stack';
import type { Scope } from '#shared/projects/access-tokens';
import { startStackWithProject } from '../../support/local-stack';

let stack: LocalStack;
let tokens: Record<Scope, string>;
let itemId: number;

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.url}${path}`, { headers: { 'X-Rollbar-Access-Token': tokens.read } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('counts-range'));
  const posted = await fetch(`${stack.url}/api/1/item/`, {
    method: 'POST',
    headers: { 'X-Rollbar-Access-Token': tokens.post_server_item, 'content-type': 'application/json' },
    body: JSON.stringify({ data: { environment: 'production', body: { message: { body: 'counted' } } } }),
  });
  expect(posted.status).toBe(200);
  await stack.idle();
  // item_by_counter reads the search index, written after the item (eventually consistent).
  for (let attempt = 0; itemId === undefined; attempt++) {
    const item = await get('/api/1/item_by_counter/1');
    itemId = (item.body.result as { id: number } | undefined)?.id as number;
    if (itemId === undefined) {
      if (attempt === 20) throw new Error('item #1 was never listed');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

const routes = [
  ['a project environment', () => '/api/1/counts?environment=production&'],
  ['an item', () => `/api/1/item/${itemId}/counts?`],
] as const;

describe.each(routes)('the counts of %s', (_subject, base) => {
  it.each([
    ['a time past the year 9999', 'start_time=9000000000000&end_time=9000000000000', 'start_time'],
    ['an end time past the year 9999', 'end_time=9000000000000', 'end_time'],
    ['a negative time', 'start_time=-3600', 'start_time'],
    ['a fraction of a second', 'start_time=1700000000.5', 'start_time'],
    ['a time that is not a number', 'end_time=tomorrow', 'end_time'],
    ['a start after the end', 'start_time=1700003600&end_time=1700000000', 'start_time'],
    ['more hours than a graph holds', 'start_time=0&end_time=1700000000', 'buckets'],
  ])("refuses %s with a 422 in Rollbar's shape", async (_case, query, named) => {
    const { status, body } = await get(`${base()}${query}`);
    expect(status).toBe(422);
    expect(body).toEqual({ err: 1, message: expect.stringContaining(named) });
  });

  it('answers for the last hours before the year 10000', async () => {
    const { status, body } = await get(`${base()}end_time=253402300799`);
    expect(status).toBe(200);
    const counts = (body.result as { counts: Array<{ timestamp: number; count: number }> }).counts;
    expect(counts).toHaveLength(24);
    expect(counts.at(-1)).toEqual({ timestamp: 253402297200, count: 0 });
  });

  it('counts the occurrence in the default window', async () => {
    const { status, body } = await get(base());
    expect(status).toBe(200);
    const counts = (body.result as { counts: Array<{ count: number }> }).counts;
    expect(counts.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(1);
  });
});
