// Rollbar's rate-limit headers, on every answer to a limited call (admitted or refused).
import type { RateLimitDecision } from './limiter';

/** The header names, lowercase as HTTP/2 and API Gateway pass them; CORS exposes them to browsers. */
export const RATE_LIMIT_HEADERS = [
  'x-rate-limit-limit',
  'x-rate-limit-remaining',
  'x-rate-limit-reset',
  'x-rate-limit-remaining-seconds',
] as const;

/**
 * `Limit`: calls allowed per window; `Remaining`: calls left in it; `Reset`: when it ends, in epoch
 * seconds; `Remaining-Seconds`: how long until then, which rollbar.js waits out after a 429.
 */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    'x-rate-limit-limit': String(decision.limit),
    'x-rate-limit-remaining': String(decision.remaining),
    'x-rate-limit-reset': String(decision.resetAt),
    'x-rate-limit-remaining-seconds': String(decision.secondsToReset),
  };
}
