// What enforcing rate limits costs: DynamoDB write units per admitted call, with several containers
// sharing one token's counter on DynamoDB Local, at a simulated clock (no waiting for minutes to pass).
import { createDocumentClient } from '#shared/aws/clients';
import {
  createRateLimiter,
  creditCap,
  type RateLimitCounter,
  WINDOW_SECONDS,
} from '#shared/rate-limits/limiter';
import { DEFAULT_RATE_LIMIT_PER_MINUTE } from '#shared/rate-limits/limits';
import { rateLimitKeys } from '#shared/store/keys';
import { DynamoDBRateLimitCounter } from '#shared/store/rate-limit-counter';
import { startDynamoWithTables } from '../test/support/emulators';
import { itemSize, startedKilobytes } from './item-size';
import { seededRandom } from './payloads';

/** Warm containers API Gateway spreads one token's calls over. */
export const RATE_LIMIT_CONTAINERS = 4;
/** Calls per minute in the busy windows: most of the default limit. */
export const BUSY_CALLS_PER_WINDOW = 4_000;
/** Calls per container per minute in the light windows. */
export const LIGHT_CALLS_PER_CONTAINER = 5;

export interface RateLimitResult {
  /** Busy windows below the limit, then one over it: write units per admitted call. */
  busyWruPerAdmitted: number;
  lightWruPerAdmitted: number;
  /** In the window over the limit: what the fleet admitted, the limit, and the documented tolerance. */
  overLimit: { calls: number; admitted: number; limit: number; tolerance: number };
  /** Write units one record bills (its row's size in started kilobytes). */
  wruPerWrite: number;
}

/** The counter as it is, counting its writes. */
class MeteredCounter implements RateLimitCounter {
  writes = 0;
  constructor(private readonly inner: RateLimitCounter) {}
  add(tokenKey: string, windowStart: number, calls: number): Promise<number> {
    this.writes++;
    return this.inner.add(tokenKey, windowStart, calls);
  }
}

export async function measureRateLimits(): Promise<RateLimitResult> {
  const dynamo = await startDynamoWithTables('bench-rate-limits');
  try {
    const counter = new MeteredCounter(
      new DynamoDBRateLimitCounter(createDocumentClient(dynamo.client), dynamo.tableNames.rateLimits),
    );
    const random = seededRandom(7);
    // Windows an hour ahead of now, so no row expires under DynamoDB Local's TTL while measured.
    let windowStartMs = (Math.floor(Date.now() / 60_000) + 60) * 60_000;
    const clock = { now: windowStartMs };
    const containers = Array.from({ length: RATE_LIMIT_CONTAINERS }, () =>
      createRateLimiter({ counter, now: () => clock.now }),
    );
    const limit = DEFAULT_RATE_LIMIT_PER_MINUTE;

    /** One window of calls from one token, spread at random over the containers and the minute. */
    async function window(token: string, calls: number, pick: (call: number) => number) {
      let admitted = 0;
      for (let call = 0; call < calls; call++) {
        clock.now = windowStartMs + Math.floor((call / calls) * WINDOW_SECONDS * 1000);
        if ((await containers[pick(call)]!.take(token, limit)).admitted) admitted++;
      }
      windowStartMs += WINDOW_SECONDS * 1000;
      return admitted;
    }
    const anyContainer = () => Math.floor(random() * RATE_LIMIT_CONTAINERS);

    const busyToken = 'b'.repeat(64);
    let busyAdmitted = 0;
    for (let minute = 0; minute < 3; minute++) {
      busyAdmitted += await window(busyToken, BUSY_CALLS_PER_WINDOW, anyContainer);
    }
    const overCalls = limit + 1_500;
    const overAdmitted = await window(busyToken, overCalls, anyContainer);
    busyAdmitted += overAdmitted;
    const busyWrites = counter.writes;

    const lightToken = 'c'.repeat(64);
    let lightAdmitted = 0;
    for (let minute = 0; minute < 3; minute++) {
      lightAdmitted += await window(
        lightToken,
        LIGHT_CALLS_PER_CONTAINER * RATE_LIMIT_CONTAINERS,
        (call) => call % RATE_LIMIT_CONTAINERS,
      );
    }
    const lightWrites = counter.writes - busyWrites;

    const row = {
      ...rateLimitKeys.window(busyToken, windowStartMs / 1000),
      calls: 123_456,
      expires_at: windowStartMs / 1000 + 120,
    };
    const wruPerWrite = startedKilobytes(itemSize(row));
    return {
      busyWruPerAdmitted: (busyWrites * wruPerWrite) / busyAdmitted,
      lightWruPerAdmitted: (lightWrites * wruPerWrite) / lightAdmitted,
      overLimit: {
        calls: overCalls,
        admitted: overAdmitted,
        limit,
        tolerance: RATE_LIMIT_CONTAINERS * creditCap(limit),
      },
      wruPerWrite,
    };
  } finally {
    await dynamo.stop();
  }
}
