// How long stored rows live: DynamoDB's TTL removes each row once its `expires_at` has passed.

export const DAY_SECONDS = 86_400;
/** Occurrences and their listing pages are kept this long (the people seen on items are kept). */
export const OCCURRENCE_RETENTION_DAYS = 90;
/** Hourly counts serve the last weeks' graphs; daily counts are kept. */
export const HOURLY_COUNT_RETENTION_DAYS = 35;
/**
 * The fold's ledger rows outlive the stream records they describe (DynamoDB keeps those 24 hours),
 * so a batch retried until its records expire still finds what it counted.
 */
export const FOLD_LEDGER_RETENTION_DAYS = 2;

/** The `expires_at` (epoch seconds) of a row written at `fromMs` that lives `days` days. */
export function expiresAt(fromMs: number, days: number): number {
  return Math.floor(fromMs / 1000) + days * DAY_SECONDS;
}
