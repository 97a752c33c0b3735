// The rate limiter's arithmetic and protocol, with an in-memory counter: credits, windows, what a
// refusal costs, and how far over the limit a fleet of containers can go (test/shared/store holds the
// DynamoDB counter, shared by two limiters).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitExceededError } from '#shared/errors';
import {
  createRateLimiter,
  creditCap,
  creditFor,
  MAX_CREDIT,
  type RateLimitCounter,
  WINDOW_SECONDS,
  windowStartOf,
} from '#shared/rate-limits/limiter';

/** The shared counter in memory, atomic as DynamoDB's ADD is, counting its writes. */
class MemoryCounter implements RateLimitCounter {
  readonly totals = new Map<string, number>();
  writes = 0;
  failing = false;
  async add(tokenKey: string, windowStart: number, calls: number): Promise<number> {
    this.writes++;
    if (this.failing) throw new Error('ProvisionedThroughputExceededException');
    const key = `${tokenKey}#${windowStart}`;
    const total = (this.totals.get(key) ?? 0) + calls;
    this.totals.set(key, total);
    return total;
  }
}

// 10:00:00 UTC: the start of a window.
const WINDOW_START_MS = Date.UTC(2026, 10, 30, 10, 0, 0);
const TOKEN = 'a'.repeat(64);

function limiter(counter: RateLimitCounter, clock = { now: WINDOW_START_MS + 15_000 }) {
  return { clock, limiter: createRateLimiter({ counter, now: () => clock.now }) };
}

async function takeMany(take: () => Promise<{ admitted: boolean }>, calls: number) {
  let admitted = 0;
  for (let call = 0; call < calls; call++) if ((await take()).admitted) admitted++;
  return admitted;
}

describe('credits', () => {
  it('reach at most 50 calls, or an eighth of the limit (at least 1)', () => {
    expect(creditCap(5000)).toBe(MAX_CREDIT);
    expect(creditCap(200)).toBe(25);
    expect(creditCap(20)).toBe(2);
    expect(creditCap(3)).toBe(1);
  });

  it('are an eighth of what the window has left, shrinking to 1 near the limit, and run out at it', () => {
    expect(creditFor(5000, 0)).toBe(50);
    expect(creditFor(20, 0)).toBe(2);
    expect(creditFor(5000, 4900)).toBe(12);
    expect(creditFor(5000, 4995)).toBe(1);
    expect(creditFor(5000, 5000)).toBe(0);
    expect(creditFor(5000, 5100)).toBe(0);
    for (const [limit, total] of [
      [5000, 0],
      [20, 3],
      [7, 0],
      [1_000_000, 10],
    ] as const) {
      expect(creditFor(limit, total)).toBeLessThanOrEqual(creditCap(limit));
    }
  });

  it('windows are whole UTC minutes', () => {
    expect(windowStartOf(WINDOW_START_MS + 59_999)).toBe(WINDOW_START_MS / 1000);
    expect(windowStartOf(WINDOW_START_MS + 60_000)).toBe(WINDOW_START_MS / 1000 + WINDOW_SECONDS);
  });
});

describe('one container', () => {
  it('admits exactly the limit in a window, counting Remaining down to 0, then refuses', async () => {
    const counter = new MemoryCounter();
    const { limiter: container } = limiter(counter);
    const remaining: number[] = [];
    for (let call = 0; call < 20; call++) {
      const decision = await container.take(TOKEN, 20);
      expect(decision.admitted).toBe(true);
      remaining.push(decision.remaining);
    }
    expect(remaining).toEqual(Array.from({ length: 20 }, (_, call) => 19 - call));
    const refused = await container.take(TOKEN, 20);
    expect(refused).toEqual({
      admitted: false,
      limit: 20,
      remaining: 0,
      resetAt: WINDOW_START_MS / 1000 + 60,
      secondsToReset: 45,
    });
  });

  it('writes once per credit, and nothing for the calls it refuses', async () => {
    const counter = new MemoryCounter();
    const { limiter: container } = limiter(counter);
    await takeMany(() => container.take(TOKEN, 20), 21);
    const writes = counter.writes;
    expect(writes).toBeLessThan(20);
    await takeMany(() => container.take(TOKEN, 20), 100);
    expect(counter.writes).toBe(writes);
  });

  it('at the default limit writes about once per 50 calls, and not at all for a few calls', async () => {
    const counter = new MemoryCounter();
    const { limiter: container } = limiter(counter);
    expect(await takeMany(() => container.take(TOKEN, 5000), 50)).toBe(50);
    expect(counter.writes).toBe(0);
    expect(await takeMany(() => container.take(TOKEN, 5000), 4950)).toBe(4950);
    // 50 calls a write, then smaller credits over the last 400 calls.
    expect(counter.writes / 5000).toBeLessThan(0.04);
    expect((await container.take(TOKEN, 5000)).admitted).toBe(false);
  });

  it('admits again when the next window starts', async () => {
    const counter = new MemoryCounter();
    const { limiter: container, clock } = limiter(counter);
    await takeMany(() => container.take(TOKEN, 1000), 1001);
    expect((await container.take(TOKEN, 1000)).admitted).toBe(false);
    clock.now = WINDOW_START_MS + 60_000;
    const next = await container.take(TOKEN, 1000);
    expect(next).toMatchObject({ admitted: true, remaining: 999, resetAt: WINDOW_START_MS / 1000 + 120 });
    expect(await takeMany(() => container.take(TOKEN, 1000), 999)).toBe(999);
    expect((await container.take(TOKEN, 1000)).admitted).toBe(false);
  });

  it('limits each token on its own', async () => {
    const { limiter: container } = limiter(new MemoryCounter());
    await takeMany(() => container.take(TOKEN, 5), 6);
    expect((await container.take(TOKEN, 5)).admitted).toBe(false);
    expect((await container.take('b'.repeat(64), 5)).admitted).toBe(true);
  });

  it('applies a limit lowered within the window at its next record', async () => {
    const { limiter: container } = limiter(new MemoryCounter());
    expect(await takeMany(() => container.take(TOKEN, 5000), 100)).toBe(100);
    const afterLowering = await takeMany(() => container.take(TOKEN, 50), 100);
    expect(afterLowering).toBeLessThanOrEqual(creditCap(5000));
  });

  it('admits while the counter cannot be reached, and records again once it can', async () => {
    const counter = new MemoryCounter();
    const { limiter: container } = limiter(counter);
    counter.failing = true;
    expect(await takeMany(() => container.take(TOKEN, 3), 10)).toBe(10);
    // One attempt per credit (1 call, with a limit of 3), not one per call.
    expect(counter.writes).toBe(5);
    counter.failing = false;
    await takeMany(() => container.take(TOKEN, 3), 10);
    expect((await container.take(TOKEN, 3)).admitted).toBe(false);
  });

  it('records one batch at a time when calls arrive together', async () => {
    const counter = new MemoryCounter();
    const { limiter: container } = limiter(counter);
    const decisions = await Promise.all(Array.from({ length: 40 }, () => container.take(TOKEN, 20)));
    expect(decisions.filter((decision) => decision.admitted)).toHaveLength(20);
    expect(counter.totals.get(`${TOKEN}#${WINDOW_START_MS / 1000}`)).toBeLessThanOrEqual(22);
  });

  it('refuses with a 429 that carries Rollbar’s headers and Retry-After', async () => {
    const { limiter: container } = limiter(new MemoryCounter());
    await container.admit(TOKEN, 1);
    const refusal = container.admit(TOKEN, 1);
    await expect(refusal).rejects.toBeInstanceOf(RateLimitExceededError);
    await expect(refusal).rejects.toMatchObject({
      statusCode: 429,
      message: expect.stringContaining('1 calls per minute'),
      headers: {
        'x-rate-limit-limit': '1',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(WINDOW_START_MS / 1000 + 60),
        'x-rate-limit-remaining-seconds': '45',
        'retry-after': '45',
      },
    });
  });
});

describe('a fleet of containers sharing one counter', () => {
  it('never admits more than the limit plus one credit per container, nor refuses before the limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.array(fc.nat({ max: 4 }), { minLength: 1, maxLength: 1500 }),
        async (limit, calls) => {
          const counter = new MemoryCounter();
          const clock = { now: WINDOW_START_MS };
          const containers = Array.from({ length: 5 }, () =>
            createRateLimiter({ counter, now: () => clock.now }),
          );
          let admitted = 0;
          let refusedAfter: number | undefined;
          for (const container of calls) {
            const decision = await containers[container]!.take(TOKEN, limit);
            if (decision.admitted) admitted++;
            else refusedAfter ??= admitted;
          }
          expect(admitted).toBeLessThanOrEqual(limit + containers.length * creditCap(limit));
          if (refusedAfter !== undefined) expect(refusedAfter).toBeGreaterThanOrEqual(limit);
        },
      ),
      { numRuns: 60 },
    );
  });
});
