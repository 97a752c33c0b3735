// How many calls a minute an access token may make: Rollbar's default, a project's or a token's own.

/** Rollbar's default for every project access token. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 5_000;

/**
 * The highest limit that can be set: about 16,700 calls a second, beyond the HTTP API stage's own
 * throttle. There is no "off": a limit this high never binds, and the counter still costs its ~2%.
 */
export const MAX_RATE_LIMIT_PER_MINUTE = 1_000_000;

/** Where a token's limit comes from, as `token list` shows it. */
export type RateLimitSource = 'token' | 'project' | 'default';

/** A stored limit of 0, or none, means "not set here": the next level decides. */
const isSet = (limit: number | undefined): limit is number => limit !== undefined && limit > 0;

/** The token's own limit wins over its project's, which wins over the default. */
export function effectiveRateLimit(
  tokenLimit: number | undefined,
  projectLimit: number | undefined,
): { perMinute: number; source: RateLimitSource } {
  if (isSet(tokenLimit)) return { perMinute: tokenLimit, source: 'token' };
  if (isSet(projectLimit)) return { perMinute: projectLimit, source: 'project' };
  return { perMinute: DEFAULT_RATE_LIMIT_PER_MINUTE, source: 'default' };
}

/** A limit as stored: whole calls per minute, 1 to the maximum; 0 is stored as "not set". */
export function isValidRateLimit(limit: number): boolean {
  return Number.isSafeInteger(limit) && limit >= 0 && limit <= MAX_RATE_LIMIT_PER_MINUTE;
}
