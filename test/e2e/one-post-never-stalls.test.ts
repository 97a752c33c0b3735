// End to end on the local stack: one hostile post is stored and counted, and so is everything sent with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/stack';
import type { Scope } from '#shared/projects/access-tokens';
import { startStackWithProject } from '../support/local-stack';

let stack: LocalStack;
let tokens: Record<Scope, string>;

interface Item {
  title: string;
  total_occurrences: number;
  environment: string;
}

async function post(data: unknown): Promise<number> {
  const response = await fetch(`${stack.url}/api/1/item/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Rollbar-Access-Token': tokens.post_server_item },
    body: JSON.stringify({ data }),
  });
  await response.arrayBuffer();
  return response.status;
}

async function items(): Promise<Item[]> {
  const response = await fetch(`${stack.url}/api/1/items`, {
    headers: { 'X-Rollbar-Access-Token': tokens.read },
  });
  const answer = (await response.json()) as { result: { items: Item[] } };
  return answer.result.items;
}

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('one-post'));
});

afterAll(async () => {
  await stack?.stop();
});

describe('one post must never stall everyone else’s errors', () => {
  it("the issue's `a.` × 150,000 message and 10 errors posted with it are all stored and counted", async () => {
    const statuses = await Promise.all([
      post({ environment: 'x', body: { message: { body: 'a.'.repeat(150_000) } } }),
      ...Array.from({ length: 10 }, (_, index) =>
        post({
          environment: 'x',
          body: {
            trace: {
              exception: { class: 'CheckoutError', message: `order ${index} failed` },
              frames: [{ filename: '/srv/app/checkout.js', lineno: 12, method: 'placeOrder' }],
            },
          },
        }),
      ),
    ]);
    expect(statuses).toEqual(Array.from({ length: 11 }, () => 200));
    await stack.idle({ timeoutMs: 60_000 });

    const listed = (await items()).filter((item) => item.environment === 'x');
    expect(listed.map((item) => [item.title.slice(0, 14), item.total_occurrences]).sort()).toEqual([
      ['CheckoutError:', 10],
      ['a.a.a.a.a.a.a.', 1],
    ]);
  }, 120_000);
});
