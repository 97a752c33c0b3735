// Per-token rate limiting across Lambda containers: each container admits calls on a small credit and
// records them in a shared per-token, per-minute counter in batches, so the table sees one write per
// batch rather than per call. The engine only; the counter behind `RateLimitCounter` is an adapter.
//
// The protocol, per token and minute window (windows are whole UTC minutes, as `X-Rate-Limit-Reset`
// says):
// - A container admits up to `credit` calls without writing (its unrecorded calls).
// - The call past the credit records them with itself: one atomic ADD of (unrecorded + 1), which
//   returns the fleet's total for the window. Within the limit, that call is admitted and the credit is
//   renewed from what the total leaves; over it, that call is refused and the container refuses every
//   call until the window ends, with no further write.
// - The credit is an eighth of what the window has left as far as the container knows (at least 1,
//   at most `MAX_CREDIT`): a container taking fewer calls of a token in a minute than its first credit
//   never writes, a busy one writes once per 50 calls, and near the limit each call is recorded.
// Tolerance: the last record under the limit counted everything recorded before it; after it, each
// container can have admitted at most its credit unrecorded. So the fleet admits at most
// limit + containers × `creditCap(limit)` calls a window, and never refuses below the limit.
import { RateLimitExceededError } from '#shared/errors';
import { logger } from '#shared/observability';
import { ExpiringLru } from '#shared/projects/token-cache';
import { rateLimitHeaders } from './headers';

export const WINDOW_SECONDS = 60;
/** The most calls a container admits between two writes: 50 calls per write is 0.02 write units a call. */
export const MAX_CREDIT = 50;
/** A container's credit is at most this fraction (1/8) of the calls the window has left. */
export const CREDIT_SHARE = 8;

/** The shared counter: one row per token and window, counting the calls the fleet recorded. */
export interface RateLimitCounter {
  /**
   * Adds `calls` to the token's count for the window starting at `windowStart` (epoch seconds) and
   * answers the new total, atomically: two containers adding at once both see both additions.
   */
  add(tokenKey: string, windowStart: number, calls: number): Promise<number>;
}

/** What the limiter decided for one call, with what Rollbar's headers tell the client. */
export interface RateLimitDecision {
  admitted: boolean;
  /** Calls per minute allowed to this token. */
  limit: number;
  /** Calls left in this window, as far as this container knows (0 when refused). */
  remaining: number;
  /** When the window ends, in epoch seconds. */
  resetAt: number;
  /** Seconds until then (at least 1). */
  secondsToReset: number;
}

/** The most a container's credit can reach for a limit: its share of how far over the limit the fleet can go. */
export function creditCap(limit: number): number {
  return Math.max(1, Math.min(MAX_CREDIT, Math.floor(limit / CREDIT_SHARE)));
}

/**
 * The credit when the window's total is `total` (0 at its start): an eighth of what is left, at least
 * 1 and at most `MAX_CREDIT`; none when nothing is left. A credit never exceeds `creditCap(limit)`.
 */
export function creditFor(limit: number, total: number): number {
  const left = limit - total;
  if (left <= 0) return 0;
  return Math.max(1, Math.min(MAX_CREDIT, Math.floor(left / CREDIT_SHARE)));
}

/** The window holding `nowMs`: its start in epoch seconds. */
export function windowStartOf(nowMs: number): number {
  return Math.floor(nowMs / 1000 / WINDOW_SECONDS) * WINDOW_SECONDS;
}

/** One token's window in this container. */
interface TokenWindow {
  windowStart: number;
  limit: number;
  /** The fleet's total as the last record returned it. */
  recordedTotal: number;
  /** Calls admitted here since the last record. */
  unrecorded: number;
  credit: number;
  /** The total reached the limit: refuse until the window ends. */
  exhausted: boolean;
  /** The record in flight; calls past the credit wait for it rather than write alongside it. */
  recording?: Promise<void>;
}

export interface RateLimiterOptions {
  counter: RateLimitCounter;
  now?: () => number;
  /** Tokens remembered per container (the least recently used forgotten first), as the token cache. */
  capacity?: number;
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

export function createRateLimiter(options: RateLimiterOptions) {
  const now = options.now ?? Date.now;
  const windows = new ExpiringLru<TokenWindow>(options.capacity ?? 10_000);

  function decision(window: TokenWindow, admitted: boolean, nowMs: number): RateLimitDecision {
    const resetAt = window.windowStart + WINDOW_SECONDS;
    return {
      admitted,
      limit: window.limit,
      remaining: admitted ? Math.max(0, window.limit - window.recordedTotal - window.unrecorded) : 0,
      resetAt,
      secondsToReset: Math.max(1, Math.ceil(resetAt - nowMs / 1000)),
    };
  }

  function windowFor(tokenKey: string, limit: number, nowMs: number): TokenWindow {
    const windowStart = windowStartOf(nowMs);
    const known = windows.get(tokenKey, nowMs);
    if (known?.windowStart === windowStart) {
      // A limit changed by hand reaches this container with the token cache; the total stands.
      known.limit = limit;
      return known;
    }
    const window: TokenWindow = {
      windowStart,
      limit,
      recordedTotal: 0,
      unrecorded: 0,
      credit: creditFor(limit, 0),
      exhausted: false,
    };
    windows.set(tokenKey, window, (windowStart + WINDOW_SECONDS) * 1000);
    return window;
  }

  /** Records the unrecorded calls with this one; true when this one is admitted. */
  async function record(tokenKey: string, window: TokenWindow): Promise<boolean> {
    const calls = window.unrecorded + 1;
    try {
      const total = await options.counter.add(tokenKey, window.windowStart, calls);
      window.unrecorded -= calls - 1;
      window.recordedTotal = Math.max(window.recordedTotal, total);
      if (total > window.limit) {
        window.exhausted = true;
        return false;
      }
      window.credit = creditFor(window.limit, window.recordedTotal);
      if (window.credit === 0) window.exhausted = true;
      return true;
    } catch (error) {
      // An error tracker that drops errors because its limiter's table is throttled or unreachable
      // loses what it exists for: admit, forget these calls, and try again after another credit.
      window.unrecorded -= calls - 1;
      logger.warn('rate limit counter unavailable; calls admitted unrecorded', {
        error: error as Error,
        calls,
      });
      return true;
    }
  }

  /**
   * Admits or refuses one call of the token whose key (its SHA-256) is `tokenKey`, limited to `limit`
   * calls per minute. A refusal writes nothing; an admission writes once per credit.
   */
  async function take(tokenKey: string, limit: number): Promise<RateLimitDecision> {
    for (;;) {
      const nowMs = now();
      const window = windowFor(tokenKey, limit, nowMs);
      if (window.exhausted) return decision(window, false, nowMs);
      if (window.unrecorded < window.credit) {
        window.unrecorded += 1;
        return decision(window, true, nowMs);
      }
      if (window.recording) {
        await window.recording;
        continue;
      }
      let admitted = false;
      window.recording = record(tokenKey, window).then((result) => {
        admitted = result;
      });
      await window.recording;
      window.recording = undefined;
      return decision(window, admitted, now());
    }
  }

  /** Takes one call, or refuses it with a 429 that carries Rollbar's headers (and `Retry-After`). */
  async function admit(tokenKey: string, limit: number): Promise<RateLimitDecision> {
    const decided = await take(tokenKey, limit);
    if (decided.admitted) return decided;
    throw new RateLimitExceededError(
      `rate limit reached: this access token may make ${decided.limit} calls per minute; try again in ${decided.secondsToReset} s`,
      { ...rateLimitHeaders(decided), 'retry-after': String(decided.secondsToReset) },
    );
  }

  return { take, admit };
}
