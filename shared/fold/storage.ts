// The fold's storage port: what the engine reads and writes, in plain values. The engine holds the
// counting protocol; an adapter (DynamoDB's in shared/store/fold-storage.ts) only stores rows.

import type { ItemRecord } from '#shared/items/item';
import type { ItemChange } from '#shared/items/rules';
import type { CountAdd } from './count-rows';

/** A step failed for good (refused by the storage, or overtaken too often). */
export class FoldError extends Error {
  override readonly name = 'FoldError';
}

/** An item as the fold reads it: the item, and the fold's own bookkeeping in its row. */
export interface FoldItem {
  item: ItemRecord;
  /** Hashes of the people the item's own row holds (`personHash`). */
  people: ReadonlySet<string>;
  /** The step that created the item (`createdByOf`); absent on items created before it existed. */
  createdBy: string | undefined;
}

/** A step's committed records: the ledger row, keyed by the step's first record. */
export interface LedgerEntry {
  firstEventId: string;
  lastEventId: string;
  lastSequenceNumber: string;
  records: number;
  /** When the step commits, in ms: the ledger row expires from it. */
  at: number;
}

/** One listing page: an item's or a person's occurrences that one step counted. */
export interface ListingPage {
  of: { itemId: number } | { personId: string };
  projectId: number;
  /** Names the step (`stepTag`), so the pages of two steps never share a key. */
  stepTag: string;
  newestReceivedAt: number;
  /** Newest first. */
  uuids: string[];
}

/** A new item, created whole: its change from nothing, its number, first counts and people. */
export interface NewItem {
  change: ItemChange;
  counter: number;
  /** Its first counts by hour, instead of count rows. */
  seedHours: Record<string, number>;
  createdBy: string;
  /** Hashes of the people for its own row. */
  people: string[];
}

/** A change to an existing item, on the conditions of what was read. */
export interface ItemUpdate {
  change: ItemChange;
  /** Hashes to add to the item's own set, on condition that it still holds `peopleInItemRow`. */
  newPeople: string[];
  peopleInItemRow: number;
  /** The item's hourly and daily count rows. */
  counts: CountAdd[];
}

/** What one step commits at once, all or nothing. */
export interface StepCommit {
  ledger: LedgerEntry;
  updates: ItemUpdate[];
  environmentCounts: CountAdd[];
}

/**
 * A write the engine planned from what it read found the rows changed (a concurrent writer, a lost
 * creation race, a conflict or throttling): it re-reads and plans the step again.
 */
export type Overtaken = 'overtaken';

export interface FoldStorage {
  /** The committed step that starts at this record, read consistently. */
  readLedger(firstEventId: string): Promise<{ lastEventId: string } | undefined>;
  /** The items that exist among these, read consistently. */
  readItems(itemIds: readonly number[]): Promise<Map<number, FoldItem>>;
  /** Plain writes: a retry writes the same page again, or another that readers de-duplicate. */
  writePages(pages: readonly ListingPage[]): Promise<void>;
  /** The marker rows of these people on the item: person id → the record that made it. */
  readPeopleMarkers(itemId: number, personIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Marks people (person id → the record marking them) on the item, each on condition that no
   * marker exists or that the same record made it; returns how many it marked.
   */
  markPeople(itemId: number, people: ReadonlyMap<string, string>): Promise<number>;
  /** Takes `count` consecutive item numbers of the project; returns the first. */
  takeItemNumbers(projectId: number, count: number): Promise<number>;
  /** Creates each item on condition that it does not exist. */
  createItems(items: readonly NewItem[]): Promise<'created' | Overtaken>;
  /**
   * Sets the item id in an occurrence's row, once the engine counts the occurrence at another id
   * (its own was taken by another project's item), so its instance names the item that counts it.
   * Idempotent; a row already gone (past its retention) stays gone.
   */
  moveOccurrence(projectId: number, uuid: string, itemId: number): Promise<void>;
  /**
   * Commits the step on condition that its ledger row is absent and its updates' conditions hold:
   * each item exists, of the change's project, with the status (and unlocked level) it was read with.
   */
  commitStep(step: StepCommit): Promise<'committed' | Overtaken>;
}
