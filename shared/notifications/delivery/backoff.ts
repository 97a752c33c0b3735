// How long a delivery waits before its next attempt: the vendor's own hint when it gave one
// (Retry-After, Discord's `retry_after`), else an exponential backoff, both with a little jitter so a
// burst of deliveries refused together does not come back together.

/** SQS's longest visibility timeout, counted from the receive: the time already spent comes off it. */
export const MAX_VISIBILITY_SECONDS = 43_200;
/** The first retry waits about this long; each next one four times longer (Rollbar's webhook backoff is 4^n s). */
export const FIRST_RETRY_SECONDS = 5;
/** No retry without a hint waits longer than this. */
export const MAX_BACKOFF_SECONDS = 15 * 60;

export interface RetryDelayOptions {
  /** The attempt that just failed, from 1. */
  attempt: number;
  /** The vendor's hint, in milliseconds. */
  retryAfterMs?: number;
  /** Seconds already spent since the message was received (SQS's 12 hours count from there). */
  elapsedSeconds?: number;
  /** In [0, 1). */
  random?: () => number;
}

/** Whole seconds until the next attempt (SQS visibility is in seconds), at least 1. */
export function retryDelaySeconds({
  attempt,
  retryAfterMs,
  elapsedSeconds = 0,
  random = Math.random,
}: RetryDelayOptions): number {
  const ceiling = Math.max(1, MAX_VISIBILITY_SECONDS - Math.ceil(elapsedSeconds));
  if (retryAfterMs !== undefined) {
    // Never before the vendor's time; up to 10% (at most 30 s) after it.
    const jitterMs = random() * Math.min(retryAfterMs * 0.1, 30_000);
    return clamp(Math.ceil((retryAfterMs + jitterMs) / 1000), 1, ceiling);
  }
  const base = Math.min(FIRST_RETRY_SECONDS * 4 ** Math.max(0, attempt - 1), MAX_BACKOFF_SECONDS);
  // ±20% around the base, never past the cap.
  const jittered = base * (0.8 + 0.4 * random());
  return clamp(Math.round(jittered), 1, Math.min(MAX_BACKOFF_SECONDS, ceiling));
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));
