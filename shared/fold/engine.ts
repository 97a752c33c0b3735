// The fold: counts stored occurrences into their items, counts for graphs, people and listings,
// reading the occurrence table's stream, so each occurrence is counted exactly once. This is the
// protocol; what it reads and writes goes through the `FoldStorage` port (storage.ts).
//
// Why this shape: the storing worker writes each occurrence row once (a conditional put), and
// DynamoDB emits one INSERT record per row it creates, so the stream carries every occurrence
// exactly once. What is left is to apply a stream batch exactly once although Lambda may run it
// again (after a crash, a timeout or a throttled write). The batch is applied in steps; a step's
// counting writes commit at once together with a ledger row keyed by the step's first record,
// which says "these records are counted". A retried batch starts at a record where a step started
// (Lambda retries a failed batch from its first record, and a fold out of time reports the batch's
// first record as the failure), finds that step's ledger row and skips what it covers.
//
// The rest is written before the commit, and each such write is idempotent by itself:
// - listing pages: plain writes under keys derived from the step, read with duplicates dropped;
// - people markers: conditional writes that remember the record that made them, so a retry
//   still counts the people its earlier attempt marked (people.ts);
// - new items: created whole (with their number, first counts in `seed_hours` and people) on
//   condition that they are absent, remembering the step and the last record they hold
//   (`created_by`, roles.ts), so a retry skips those records for the item. Two folds racing to
//   create one item: the loser re-reads and updates it instead, and its number is never used.
// Only decisions taken from what was read (create, reactivate, raise the level, add people to the
// item's own set) are conditions; counts are atomic adds. A concurrent writer overtakes the step,
// which re-reads and tries again.
//
// An item id is 52 bits of a hash, so a group can land on another project's item: the engine moves
// such a record to its group's next id (`collisionItemId`) before planning, and every item update
// is conditioned on the item's project, so a wrong read overtakes the step instead of counting.
import { planItemChange } from '#shared/items/rules';
import { collisionItemId } from '#shared/storing/occurrence';
import { countAdds, hourCounts } from './count-rows';
import {
  DEFAULT_PEOPLE_IN_ITEM_ROW,
  markerMeansKnown,
  peopleNotInItemRow,
  personHash,
  placePeople,
} from './people';
import type { FoldRecord, FoldReport, OccurrenceMove } from './records';
import { createdByOf, stepTag } from './roles';
import { groupBy, listingPages, planStep, type StepPlan } from './step-plan';
import {
  FoldError,
  type FoldItem,
  type FoldStorage,
  type ItemUpdate,
  type NewItem,
  type StepCommit,
} from './storage';

/** Enough for dozens of concurrent folds on one hot item; a step that still fails is retried by Lambda. */
export const MAX_RETRIES = 25;
/** Ids tried for one group whose item id is taken; a second collision is already beyond belief. */
export const MAX_COLLISION_PROBES = 8;
/** Time kept in hand when the function's deadline nears: a step takes a few round trips. */
export const STOP_MARGIN_MS = 10_000;

/** Exponential back-off with jitter before the `attempt`-th retry (from 0) of an overtaken step. */
export function retryDelayMs(attempt: number, random: number = Math.random()): number {
  return Math.min(1000, 20 * 2 ** attempt) * (0.5 + random);
}

export interface FoldOptions {
  now?: () => number;
  /**
   * How many people an item remembers in its own row (as short hashes) before it marks further
   * people in rows of their own. An item seen by a few people then costs no write per person.
   */
  peopleInItemRow?: number;
  /** Waits before a retry (tests pass one that does not wait). */
  sleep?: (ms: number) => Promise<void>;
}

/** Items as read during one batch; null for one read and found absent. */
type ItemCache = Map<number, FoldItem | null>;

/** Where each record of the batch is, and the items read so far. */
interface Batch {
  records: readonly FoldRecord[];
  /** Event id → index in the batch. */
  positions: Map<string, number>;
  /** Step tag of each record → index in the batch. */
  steps: Map<string, number>;
  items: ItemCache;
}

export class FoldEngine {
  private readonly peopleInItemRow: number;

  constructor(
    private readonly storage: FoldStorage,
    private readonly options: FoldOptions = {},
  ) {
    this.peopleInItemRow = options.peopleInItemRow ?? DEFAULT_PEOPLE_IN_ITEM_ROW;
  }

  /**
   * Counts a stream batch's occurrence records, in their stream order. Before each step it stops
   * when `remainingTimeMs` (the function's time left) is under `STOP_MARGIN_MS`; the records from
   * `stoppedAt` on are then left for Lambda to deliver again.
   */
  async fold(
    records: readonly FoldRecord[],
    options: { remainingTimeMs?: () => number } = {},
  ): Promise<FoldReport> {
    const report: FoldReport = {
      counted: 0,
      skipped: 0,
      steps: 0,
      retries: 0,
      itemsCreated: 0,
      collisions: 0,
      moves: [],
      stoppedAt: undefined,
      error: undefined,
    };
    const batch: Batch = {
      records,
      positions: new Map(records.map((record, index) => [record.eventId, index])),
      steps: new Map(records.map((record, index) => [stepTag(record.eventId), index])),
      items: new Map(),
    };
    let index = 0;
    while (index < records.length) {
      if (options.remainingTimeMs && options.remainingTimeMs() < STOP_MARGIN_MS) {
        report.stoppedAt = index;
        break;
      }
      try {
        const ledger = await this.storage.readLedger(records[index]!.eventId);
        if (ledger) {
          const last = batch.positions.get(ledger.lastEventId);
          // A committed step reaching past this batch covers the rest of it.
          const end = last === undefined || last < index ? records.length : last + 1;
          report.skipped += end - index;
          index = end;
          continue;
        }
        index = await this.step(batch, index, report);
      } catch (error) {
        report.stoppedAt = index;
        report.error = error;
        break;
      }
    }
    return report;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Applies the step starting at `start` and returns where the next one starts. */
  private async step(batch: Batch, start: number, report: FoldReport): Promise<number> {
    const { records } = batch;
    const sleep = this.options.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 0; ; attempt++) {
      if (attempt > MAX_RETRIES) {
        throw new FoldError(`gave up on the step at record ${start} after ${MAX_RETRIES} retries`);
      }
      if (attempt > 0) {
        await sleep(retryDelayMs(attempt - 1));
        report.retries++;
      }
      // A retry re-reads the items: a concurrent writer changed one of them.
      const { records: addressed, items } = await this.addressItems(batch, start, attempt > 0);
      const plan = planStep(addressed, start, items, batch.steps);
      await this.storage.writePages(listingPages(plan, items));
      const moves = await this.moveOccurrences(plan, batch);
      const created = await this.createItems(plan, batch);
      if (created === 'overtaken') continue;
      const commit: StepCommit = {
        ledger: {
          firstEventId: records[start]!.eventId,
          lastEventId: records[plan.end - 1]!.eventId,
          lastSequenceNumber: records[plan.end - 1]!.sequenceNumber,
          records: plan.end - start,
          at: this.now(),
        },
        updates: await this.itemUpdates(plan, items, batch),
        environmentCounts: countAdds(plan.records, ({ projectId, environment }) => ({
          projectId,
          environment,
        })),
      };
      if ((await this.storage.commitStep(commit)) === 'overtaken') continue;
      for (const itemId of [...plan.creations.keys(), ...plan.updates.keys()]) batch.items.delete(itemId);
      report.counted += plan.end - start;
      report.steps++;
      report.itemsCreated += created;
      report.collisions += moves.length;
      report.moves.push(...moves);
      return plan.end;
    }
  }

  /**
   * The items of the records, as last read in this batch: each is read once, and again only after
   * this fold changed it (or when `fresh`, after a concurrent writer did).
   */
  private async readItems(
    records: readonly FoldRecord[],
    cache: ItemCache,
    fresh: boolean,
  ): Promise<Map<number, FoldItem>> {
    const itemIds = [...new Set(records.map((record) => record.occurrence.itemId))];
    const unread = fresh ? itemIds : itemIds.filter((itemId) => !cache.has(itemId));
    const found = unread.length > 0 ? await this.storage.readItems(unread) : new Map<number, FoldItem>();
    for (const itemId of unread) cache.set(itemId, found.get(itemId) ?? null);
    const items = new Map<number, FoldItem>();
    for (const itemId of itemIds) {
      const item = cache.get(itemId);
      if (item) items.set(itemId, item);
    }
    return items;
  }

  /**
   * The batch's records with those from `start` addressed to their items, and those items as last
   * read. A record whose item belongs to another project (the ids collided), or that an earlier
   * record of another project is about to create, goes to its group's next id (`collisionItemId`)
   * until it finds an item of its own project or none, at most `MAX_COLLISION_PROBES` times. So
   * it is never counted into another project's item, and its group, which takes the same ids,
   * still makes one item. Items never change project, so every attempt addresses records alike;
   * only a creation race can change that, and the loser re-reads.
   */
  private async addressItems(
    batch: Batch,
    start: number,
    fresh: boolean,
  ): Promise<{ records: FoldRecord[]; items: Map<number, FoldItem> }> {
    let addressed = batch.records.slice(start);
    const probes = addressed.map(() => 0);
    let items = await this.readItems(addressed, batch.items, fresh);
    for (;;) {
      // Each id's project: its item's, or else that of the first record that would create it.
      const owners = new Map<number, number>();
      for (const { occurrence } of addressed) {
        if (!owners.has(occurrence.itemId)) {
          owners.set(
            occurrence.itemId,
            items.get(occurrence.itemId)?.item.project_id ?? occurrence.projectId,
          );
        }
      }
      const taken = (record: FoldRecord) =>
        owners.get(record.occurrence.itemId) !== record.occurrence.projectId;
      if (!addressed.some(taken)) break;
      addressed = addressed.map((record, index) => {
        if (!taken(record)) return record;
        const probe = ++probes[index]!;
        if (probe > MAX_COLLISION_PROBES) {
          throw new FoldError(
            `no free item id for occurrence ${record.occurrence.uuid} after ${MAX_COLLISION_PROBES} tries`,
          );
        }
        return {
          ...record,
          occurrence: { ...record.occurrence, itemId: collisionItemId(record.occurrence, probe) },
        };
      });
      // On a retry the moved ids are read afresh too: an earlier attempt may have created them.
      items = await this.readItems(addressed, batch.items, fresh);
    }
    return { records: [...batch.records.slice(0, start), ...addressed], items };
  }

  /**
   * Names the item that counts them in the rows of the step's records that were moved to another
   * id, before the step commits: once committed, a redelivery skips them.
   */
  private async moveOccurrences(plan: StepPlan, batch: Batch): Promise<OccurrenceMove[]> {
    const moves = plan.records.flatMap(({ occurrence }, offset): OccurrenceMove[] => {
      const takenItemId = batch.records[plan.start + offset]!.occurrence.itemId;
      if (takenItemId === occurrence.itemId) return [];
      const { uuid, projectId, itemId } = occurrence;
      return [{ uuid, projectId, takenItemId, itemId }];
    });
    await Promise.all(
      moves.map(({ projectId, uuid, itemId }) => this.storage.moveOccurrence(projectId, uuid, itemId)),
    );
    return moves;
  }

  /** People of the records the item has not seen: not in its own set, and not marked before. */
  private async newPeople(
    itemId: number,
    records: readonly FoldRecord[],
    inItemRow: ReadonlySet<string>,
    batch: Batch,
    start: number,
  ): Promise<Map<string, FoldRecord>> {
    const candidates = peopleNotInItemRow(records, inItemRow);
    if (candidates.size === 0) return candidates;
    const markers = await this.storage.readPeopleMarkers(itemId, [...candidates.keys()]);
    for (const [personId, createdBy] of markers) {
      if (markerMeansKnown(createdBy, batch.positions, start)) candidates.delete(personId);
    }
    return candidates;
  }

  /**
   * Creates the step's new items, each whole, numbered with one take of numbers per project.
   * Returns how many it created, or `overtaken` when another fold created one of them first.
   */
  private async createItems(plan: StepPlan, batch: Batch): Promise<number | 'overtaken'> {
    if (plan.creations.size === 0) return 0;
    const first = batch.records[plan.start]!;
    const byProject = groupBy([...plan.creations.values()], (records) =>
      String(records[0]!.occurrence.projectId),
    );
    const now = this.now();
    const newItems: NewItem[] = [];
    for (const projectCreations of byProject.values()) {
      const projectId = projectCreations[0]![0]!.occurrence.projectId;
      let counter = await this.storage.takeItemNumbers(projectId, projectCreations.length);
      for (const records of projectCreations) {
        const itemId = records[0]!.occurrence.itemId;
        // People who all fit in a new item's own row need no read of their markers: an item that
        // does not exist yet has markers only for people past its row (an earlier attempt of this
        // step, whose markers count as new anyway, or a fold racing to create it, whose creation
        // then overtakes this one), so the read could change nothing, and it billed every new
        // error with a person a consistent read of a row that is not there.
        const candidates = peopleNotInItemRow(records, new Set());
        const people =
          candidates.size <= this.peopleInItemRow
            ? candidates
            : await this.newPeople(itemId, records, new Set(), batch, plan.start);
        const { inItemRow, marked } = placePeople(people, this.peopleInItemRow);
        const newlyMarked = await this.storage.markPeople(itemId, marked);
        newItems.push({
          change: planItemChange(
            undefined,
            records.map((record) => record.occurrence),
            inItemRow.length + newlyMarked,
            now,
          ),
          counter,
          seedHours: hourCounts(records),
          createdBy: createdByOf(first, records.at(-1)!),
          people: inItemRow.map(personHash),
        });
        counter++;
      }
    }
    // A lost race: update the item instead (the number taken for it is burnt).
    if ((await this.storage.createItems(newItems)) === 'overtaken') return 'overtaken';
    return newItems.length;
  }

  private async itemUpdates(
    plan: StepPlan,
    items: Map<number, FoldItem>,
    batch: Batch,
  ): Promise<ItemUpdate[]> {
    const now = this.now();
    return Promise.all(
      [...plan.updates].map(async ([itemId, records]) => {
        const { item, people: inItemRow } = items.get(itemId)!;
        const people = await this.newPeople(itemId, records, inItemRow, batch, plan.start);
        const { inItemRow: added, marked } = placePeople(people, this.peopleInItemRow - inItemRow.size);
        const newlyMarked = await this.storage.markPeople(itemId, marked);
        return {
          change: planItemChange(
            item,
            records.map((record) => record.occurrence),
            added.length + newlyMarked,
            now,
          ),
          newPeople: added.map(personHash),
          peopleInItemRow: inItemRow.size,
          counts: countAdds(records, () => ({ itemId })),
        };
      }),
    );
  }
}
