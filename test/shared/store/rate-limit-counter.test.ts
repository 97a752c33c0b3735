// The rate limiter's shared counter on DynamoDB Local: atomic additions, rows that expire, and two
// containers (two limiters) sharing one counter within the documented tolerance.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { createRateLimiter, creditCap, windowStartOf } from '#shared/rate-limits/limiter';
import { rateLimitKeys } from '#shared/store/keys';
import { DynamoDBRateLimitCounter } from '#shared/store/rate-limit-counter';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'rateLimits', string> };
let counter: DynamoDBRateLimitCounter;

// A window an hour ahead: DynamoDB Local deletes rows past their TTL, as DynamoDB does.
const WINDOW_START = windowStartOf(Date.now()) + 3600;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('rate-limits');
  counter = new DynamoDBRateLimitCounter(createDocumentClient(dynamo.client), dynamo.tableNames.rateLimits);
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('the rate limit counter', () => {
  it('adds atomically, answers the window’s total, and expires a minute after the window', async () => {
    const token = '1'.repeat(64);
    const totals = await Promise.all([3, 4, 5].map((calls) => counter.add(token, WINDOW_START, calls)));
    expect(Math.max(...totals)).toBe(12);
    expect(new Set(totals).size).toBe(3);
    expect(await counter.add(token, WINDOW_START + 60, 1)).toBe(1);
    const row = await dynamo.documentClient.send(
      new GetCommand({
        TableName: dynamo.tableNames.rateLimits,
        Key: rateLimitKeys.window(token, WINDOW_START),
      }),
    );
    expect(row.Item).toMatchObject({ calls: 12, expires_at: WINDOW_START + 120 });
  });

  it('two containers sharing it never admit more than the limit plus one credit each', async () => {
    const token = '2'.repeat(64);
    const limit = 100;
    const now = () => WINDOW_START * 1000 + 5_000;
    const containers = [createRateLimiter({ counter, now }), createRateLimiter({ counter, now })];
    // Calls arrive at both at once, as API Gateway spreads a burst over warm containers.
    const decisions = await Promise.all(
      Array.from({ length: 300 }, (_, call) => containers[call % 2]!.take(token, limit)),
    );
    const admitted = decisions.filter((decision) => decision.admitted).length;
    expect(admitted).toBeGreaterThanOrEqual(limit);
    expect(admitted).toBeLessThanOrEqual(limit + 2 * creditCap(limit));
    // Once refused, a container refuses without asking the table again.
    const total = await counter.add(token, WINDOW_START, 0);
    await Promise.all(containers.map((container) => container.take(token, limit)));
    expect(await counter.add(token, WINDOW_START, 0)).toBe(total);
  });
});
