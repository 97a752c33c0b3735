// Rate limits per access token on the local stack, as a client sees them: Rollbar's headers counting
// down on every answer, 429s past the limit that keep nothing, and other tokens unaffected.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/stack';
import { createDocumentClient } from '#shared/aws/clients';
import type { Scope } from '#shared/projects/access-tokens';
import { createProjectService } from '#shared/projects/service';
import { WINDOW_SECONDS } from '#shared/rate-limits/limiter';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { credentials, region } from '../support/emulators';
import { startStackWithProject } from '../support/local-stack';

const PROJECT = 'rate-limits';
const LIMIT = 20;

let stack: LocalStack;
let tokens: Record<Scope, string>;
let dynamodb: DynamoDBClient;

function post(path: string, token: string, body: unknown) {
  return fetch(`${stack.url}${path}`, {
    method: 'POST',
    headers: { 'X-Rollbar-Access-Token': token, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const item = (title: string) => ({ data: { environment: 'production', body: { message: { body: title } } } });

const limitHeaders = (response: Response) => ({
  limit: Number(response.headers.get('x-rate-limit-limit')),
  remaining: Number(response.headers.get('x-rate-limit-remaining')),
  reset: Number(response.headers.get('x-rate-limit-reset')),
});

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject(PROJECT));
  dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
  const projects = createProjectService({
    projects: new DynamoDBProjectRepository(createDocumentClient(dynamodb), stack.tableNames.projects),
  });
  // Set before the tokens' first use, so no container has cached them without their limit.
  await projects.setAccessTokenRateLimit(PROJECT, 'post_server_item', LIMIT);
  await projects.setAccessTokenRateLimit(PROJECT, 'write', 1);
  // The calls below must fall in one minute window: near a window's end, start in the next one.
  const intoWindow = (Date.now() / 1000) % WINDOW_SECONDS;
  if (intoWindow > WINDOW_SECONDS - 10) {
    await new Promise((resolve) => setTimeout(resolve, (WINDOW_SECONDS - intoWindow) * 1000 + 100));
  }
}, 120_000);

afterAll(async () => {
  dynamodb?.destroy();
  await stack?.stop();
});

describe('a token limited to 20 calls a minute', () => {
  it('gets 200s counting Remaining down, then 429s that keep nothing, while other tokens post on', async () => {
    const admitted = [];
    for (let call = 0; call < LIMIT; call++) {
      const response = await post('/api/1/item/', tokens.post_server_item, item('limited error'));
      expect(response.status).toBe(200);
      await response.json();
      admitted.push(limitHeaders(response));
    }
    expect(admitted.map((headers) => headers.remaining)).toEqual(
      Array.from({ length: LIMIT }, (_, call) => LIMIT - 1 - call),
    );
    const { reset } = admitted[0]!;
    // Reset is the window's end in epoch seconds: a whole minute, within the next one.
    expect(reset % WINDOW_SECONDS).toBe(0);
    expect(reset - Date.now() / 1000).toBeGreaterThan(0);
    expect(reset - Date.now() / 1000).toBeLessThanOrEqual(WINDOW_SECONDS);
    for (const headers of admitted) expect(headers).toMatchObject({ limit: LIMIT, reset });

    for (let call = 0; call < 3; call++) {
      const refused = await post('/api/1/item/', tokens.post_server_item, item('limited error'));
      expect(refused.status).toBe(429);
      expect(await refused.json()).toEqual({ err: 1, message: expect.stringContaining('rate limit') });
      expect(limitHeaders(refused)).toEqual({ limit: LIMIT, remaining: 0, reset });
      // rollbar.js waits this long after a 429 before it posts again.
      const seconds = Number(refused.headers.get('x-rate-limit-remaining-seconds'));
      expect(seconds).toBeGreaterThan(0);
      expect(refused.headers.get('retry-after')).toBe(String(seconds));
    }

    const other = await post('/api/1/item/', tokens.post_client_item, item('unlimited error'));
    expect(other.status).toBe(200);
    expect(limitHeaders(other)).toMatchObject({ limit: 5000, remaining: 4999 });

    // Exactly the admitted calls were stored and counted.
    await stack.idle();
    const counted = await fetch(`${stack.url}/api/1/item_by_counter/1`, {
      headers: { 'X-Rollbar-Access-Token': tokens.read },
    });
    expect(((await counted.json()) as { result: { total_occurrences: number } }).result).toMatchObject({
      total_occurrences: LIMIT,
    });
  }, 120_000);

  it('counts deploys too: a token limited to 1 call records one deploy, then gets a 429', async () => {
    const deploy = { environment: 'production', revision: 'abc123' };
    const first = await post('/api/1/deploy/', tokens.write, deploy);
    expect(first.status).toBe(200);
    expect(limitHeaders(first)).toMatchObject({ limit: 1, remaining: 0 });
    let second = await post('/api/1/deploy/', tokens.write, deploy);
    let recorded = 1;
    // A minute's boundary between the two posts opens a new window: one more deploy, then the 429.
    if (second.status === 200 && limitHeaders(second).reset !== limitHeaders(first).reset) {
      recorded++;
      second = await post('/api/1/deploy/', tokens.write, deploy);
    }
    expect(second.status).toBe(429);
    const deploys = await fetch(`${stack.url}/api/1/deploys`, {
      headers: { 'X-Rollbar-Access-Token': tokens.read },
    });
    expect(((await deploys.json()) as { result: { deploys: unknown[] } }).result.deploys).toHaveLength(
      recorded,
    );
  });
});
