// What the fold takes (a stream batch's occurrence records) and what it tells of a batch.
import type { OccurrenceFacts } from '#shared/storing/occurrence';

/** One occurrence's INSERT record from the occurrence table's stream. */
export interface FoldRecord {
  /** The stream record's `eventID`: unique in the stream. */
  eventId: string;
  /** Its `SequenceNumber`: increasing within its shard, which a batch never leaves. */
  sequenceNumber: string;
  occurrence: OccurrenceFacts;
}

export interface FoldReport {
  /** Records counted by this call. */
  counted: number;
  /** Records an earlier attempt had counted (found in the ledger or in an item it created). */
  skipped: number;
  /** Steps committed. */
  steps: number;
  /** Steps cancelled by a concurrent writer (or a lost creation race) and tried again. */
  retries: number;
  itemsCreated: number;
  /** Records whose item id was another project's item, counted at their group's next id. */
  collisions: number;
  /** Those records' moves, for the log. */
  moves: OccurrenceMove[];
  /** Index of the first record not counted, when the call stopped early or failed. */
  stoppedAt: number | undefined;
  /** Why it stopped, when a step failed for good. */
  error: unknown;
}

/** An occurrence counted at its group's next id, because the item at its own was another project's. */
export interface OccurrenceMove {
  uuid: string;
  projectId: number;
  takenItemId: number;
  itemId: number;
}
