// The names of Faultline's own metrics, for the handlers that write them and the dashboard that
// draws them: a plain module, so the CDK app reads it without loading Powertools.

/** The metrics' names, as the dashboard reads them. */
export const MetricNames = {
  /** Ingest: occurrences queued for storing (one per accepted item). */
  accepted: 'OccurrencesAccepted',
  /** Ingest: items refused, by `reason` (see `refusalReason`). */
  refused: 'OccurrencesRefused',
  /** Storing worker: occurrences stored (duplicates, which write nothing, are not). */
  stored: 'OccurrencesStored',
  /** Fold: occurrences counted into their items. */
  counted: 'OccurrencesCounted',
  /** Fold: seconds from the newest folded record's arrival in the stream to the end of its fold. */
  foldLag: 'FoldLagSeconds',
  /** Sender: delivery attempts, by `channel` and `outcome`. */
  deliveries: 'Deliveries',
  /** API: requests refused by a per-token rate limit (429). */
  rateLimited: 'RateLimited',
} as const;
