// The fold: counts stored occurrences into their items, counts for graphs, people and listings,
// reading the occurrence table's stream, so each occurrence is counted exactly once.
//
// Why this shape: the grouping worker writes each occurrence row once (a conditional put), and
// DynamoDB emits one INSERT record per row it creates, so the stream carries every occurrence
// exactly once. What is left is to apply a stream batch exactly once although Lambda may run it
// again (after a crash, a timeout or a throttled write). The batch is applied in steps; a step's
// counting writes commit in one TransactWriteItems together with a ledger row keyed by the
// step's first record, which says "these records are counted". A retried batch starts at a
// record where a step started (Lambda retries a failed batch from its first record; a fold out
// of time reports a failure at the first record of the next step), finds that step's ledger row
// and skips what it covers.
//
// The rest is written before the transaction, and each such write is idempotent by itself:
// - listing pages: plain puts under keys derived from the step, read with duplicates dropped;
// - people markers: conditional puts that remember the record that created them, so a retry
//   still counts the people its earlier attempt marked;
// - new items: created whole (with their number, first counts in `seed_hours` and people) by a
//   conditional put that remembers the step and the last record it holds (`created_by`), so a
//   retry skips those records for the item. Two folds racing to create one item: the loser
//   re-reads and updates it instead, and its number is never used.
// Only decisions taken from what was read (create, reactivate, raise the level, add people to the
// item's own set) are conditions; counts are atomic adds. A concurrent writer cancels the step,
// which re-reads and tries again.
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { collisionItemId, type ItemChange, planItemChange } from '#shared/grouping/item-changes';
import type { OccurrenceFacts } from '#shared/grouping/occurrence';
import { logger } from '#shared/observability';
import { backOff, batchGetAll } from './batch-get';
import type { ItemRecord } from './items';
import { countBucket, type Granularity, itemKeys, type Key, occurrenceKeys } from './keys';
import { packUuids } from './pages';
import type { ProjectRepository } from './projects';
import {
  expiresAt,
  FOLD_LEDGER_RETENTION_DAYS,
  HOURLY_COUNT_RETENTION_DAYS,
  OCCURRENCE_RETENTION_DAYS,
} from './retention';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

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
  /** Records whose item id belonged to another project's item, counted at their group's next id. */
  collisions: number;
  /** Index of the first record not counted, when the call stopped early or failed. */
  stoppedAt: number | undefined;
  /** Why it stopped, when a step failed for good. */
  error: unknown;
}

export interface FoldTables {
  items: string;
  occurrences: string;
}

export interface FoldOptions {
  now?: () => number;
  /**
   * How many people an item remembers in its own row (as short hashes) before it marks further
   * people in rows of their own. An item seen by a few people then costs no write per person.
   */
  peopleInItemRow?: number;
  /** Sees every transaction before it is sent (the benchmark checks its meter with it). */
  onTransaction?: (items: TransactItem[]) => void;
}

export class FoldError extends Error {
  override readonly name = 'FoldError';
}

/** Ids tried for one group whose item id is taken; a second collision is already beyond belief. */
const MAX_COLLISION_PROBES = 8;
/** DynamoDB's limit on the actions of one transaction. */
const MAX_ACTIONS_PER_TRANSACTION = 100;
/** Enough for dozens of concurrent folds on one hot item; a step that still fails is retried by Lambda. */
const MAX_RETRIES = 25;
/**
 * Fixed for the life of the data: a fold that allowed more would add to an item's own set a person
 * that a fold allowing fewer has just marked in a row, and count them twice.
 */
const DEFAULT_PEOPLE_IN_ITEM_ROW = 16;
/** Why a transaction may be cancelled and succeed when tried again; any other reason is final. */
const RETRYABLE_CANCELLATIONS = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** Items as read during one batch; null for one read and found absent. */
type ItemCache = Map<number, ItemRecord | null>;

/** A step was overtaken by a concurrent writer: re-read and plan it again. */
class StepOvertaken extends Error {}

type Role = 'create' | 'update' | 'seeded';

interface StepPlan {
  /** Records [start, end) of the batch make the step. */
  end: number;
  creations: Map<number, FoldRecord[]>;
  updates: Map<number, FoldRecord[]>;
  /** Every record of the step: all add to their environment's counts and appear in listings. */
  records: FoldRecord[];
}

/**
 * A short name for the step that starts at this stream record, kept in the rows it writes
 * (an item's `created_by`, page keys). 72 bits: no two steps of one batch share one.
 */
export function stepTag(eventId: string): string {
  return createHash('sha256').update(eventId).digest('base64url').slice(0, 12);
}

/** A short, stable name for a person in an item's own row. */
export function personHash(personId: string): string {
  return createHash('sha256').update(personId).digest('base64url').slice(0, 8);
}

export class DynamoDBFoldStore {
  private readonly peopleInItemRow: number;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: FoldTables,
    private readonly projects: ProjectRepository,
    private readonly options: FoldOptions = {},
  ) {
    this.peopleInItemRow = options.peopleInItemRow ?? DEFAULT_PEOPLE_IN_ITEM_ROW;
  }

  /**
   * Counts a stream batch's occurrence records, in their stream order. `shouldStop` is asked
   * before each step (the function's time running out); the records from `stoppedAt` on are then
   * left for Lambda to deliver again.
   */
  async fold(
    records: readonly FoldRecord[],
    options: { shouldStop?: () => boolean } = {},
  ): Promise<FoldReport> {
    const report: FoldReport = {
      counted: 0,
      skipped: 0,
      steps: 0,
      retries: 0,
      itemsCreated: 0,
      collisions: 0,
      stoppedAt: undefined,
      error: undefined,
    };
    const positions = new Map(records.map((record, index) => [record.eventId, index]));
    const steps = new Map(records.map((record, index) => [stepTag(record.eventId), index]));
    const items: ItemCache = new Map();
    let index = 0;
    while (index < records.length) {
      if (options.shouldStop?.()) {
        report.stoppedAt = index;
        break;
      }
      try {
        const ledger = await this.ledger(records[index]!.eventId);
        if (ledger) {
          const last = positions.get(ledger.lastEventId);
          // A committed step reaching past this batch covers the rest of it.
          const end = last === undefined || last < index ? records.length : last + 1;
          report.skipped += end - index;
          index = end;
          continue;
        }
        index = await this.step(records, index, { positions, steps, items }, report);
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

  private async ledger(firstEventId: string): Promise<{ lastEventId: string } | undefined> {
    const { Item: row } = await this.documents.send(
      new GetCommand({
        TableName: this.tables.occurrences,
        Key: occurrenceKeys.foldLedger(firstEventId),
        ConsistentRead: true,
      }),
    );
    return row ? { lastEventId: String(row.last_event_id) } : undefined;
  }

  /** Applies the step starting at `start` and returns where the next one starts. */
  private async step(
    records: readonly FoldRecord[],
    start: number,
    batch: { positions: Map<string, number>; steps: Map<string, number>; items: ItemCache },
    report: FoldReport,
  ): Promise<number> {
    const { positions, steps } = batch;
    for (let attempt = 0; ; attempt++) {
      if (attempt > MAX_RETRIES) {
        throw new FoldError(`gave up on the step at record ${start} after ${MAX_RETRIES} retries`);
      }
      if (attempt > 0) {
        await backOff(attempt - 1);
        report.retries++;
      }
      // A retry re-reads the items: a concurrent writer changed one of them.
      const {
        records: addressed,
        items,
        collisions,
      } = await this.addressItems(records, start, batch.items, attempt > 0);
      const plan = this.plan(addressed, start, items, steps);
      try {
        await this.writePages(plan.records, items);
        const created = await this.createItems(plan, records[start]!, positions, start);
        const transaction = [
          this.ledgerPut(records[start]!, records[plan.end - 1]!, plan.end - start),
          ...(await this.itemUpdates(plan.updates, items, positions, start)),
          ...this.environmentCountUpdates(plan.records),
        ];
        this.options.onTransaction?.(transaction);
        await this.documents.send(new TransactWriteCommand({ TransactItems: transaction }));
        for (const itemId of [...plan.creations.keys(), ...plan.updates.keys()]) batch.items.delete(itemId);
        report.counted += plan.end - start;
        report.steps++;
        report.itemsCreated += created;
        report.collisions += collisions.filter((index) => index < plan.end).length;
        return plan.end;
      } catch (error) {
        if (error instanceof StepOvertaken) continue;
        if (error instanceof TransactionCanceledException) {
          const refusals = (error.CancellationReasons ?? [])
            .map((reason) => reason.Code ?? 'None')
            .filter((code) => !RETRYABLE_CANCELLATIONS.has(code));
          if (refusals.length > 0) {
            throw new FoldError(`transaction refused: ${refusals.join(', ')}`, { cause: error });
          }
          continue;
        }
        throw error;
      }
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
  ): Promise<Map<number, ItemRecord>> {
    const itemIds = [...new Set(records.map((record) => record.occurrence.itemId))];
    const unread = fresh ? itemIds : itemIds.filter((itemId) => !cache.has(itemId));
    const rows = await batchGetAll(
      this.documents,
      this.tables.items,
      unread.map((itemId) => itemKeys.item(itemId)),
      { consistent: true },
    );
    for (const itemId of unread) cache.set(itemId, null);
    for (const row of rows) cache.set(Number(row.id), row as unknown as ItemRecord);
    const items = new Map<number, ItemRecord>();
    for (const itemId of itemIds) {
      const item = cache.get(itemId);
      if (item) items.set(itemId, item);
    }
    return items;
  }

  /**
   * The records from `start` addressed to their items, and those items as last read. A record
   * whose item belongs to another project (its id collided) goes to its group's next id
   * (`collisionItemId`) until it finds its own item or none, so it is never counted into another
   * project's item nor lost; its occurrence row is stamped with that id, so its instance names the
   * item that counts it. Items never change project, so the same records land on the same ids in
   * every attempt; only a race to create one can change that, and the loser re-reads.
   */
  private async addressItems(
    records: readonly FoldRecord[],
    start: number,
    cache: ItemCache,
    fresh: boolean,
  ): Promise<{ records: FoldRecord[]; items: Map<number, ItemRecord>; collisions: number[] }> {
    let addressed = records.slice(start);
    const probes = addressed.map(() => 0);
    let items = await this.readItems(addressed, cache, fresh);
    for (;;) {
      const colliding = addressed.flatMap((record, index) => {
        const item = items.get(record.occurrence.itemId);
        return item && Number(item.project_id) !== record.occurrence.projectId ? [index] : [];
      });
      if (colliding.length === 0) break;
      addressed = addressed.map((record, index) => {
        if (!colliding.includes(index)) return record;
        const probe = ++probes[index]!;
        if (probe > MAX_COLLISION_PROBES) {
          throw new FoldError(
            `no free item id for occurrence ${record.occurrence.uuid} after ${probe - 1} tries`,
          );
        }
        const itemId = collisionItemId(record.occurrence, probe);
        logger.warn('item id taken by another project; counting the occurrence at its group’s next id', {
          uuid: record.occurrence.uuid,
          project_id: record.occurrence.projectId,
          taken_item_id: record.occurrence.itemId,
          item_id: itemId,
        });
        return { ...record, occurrence: { ...record.occurrence, itemId } };
      });
      items = await this.readItems(addressed, cache, false);
    }
    const moved = probes.flatMap((probe, index) => (probe > 0 ? [index] : []));
    await Promise.all(moved.map((index) => this.stampItemId(addressed[index]!.occurrence)));
    return {
      records: [...records.slice(0, start), ...addressed],
      items,
      collisions: moved.map((index) => start + index),
    };
  }

  /** Idempotent, and a MODIFY on the stream, which the fold never reads. */
  private async stampItemId(occurrence: OccurrenceFacts): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tables.occurrences,
          Key: occurrenceKeys.occurrence(occurrence.projectId, occurrence.uuid),
          UpdateExpression: 'SET item_id = :itemId',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':itemId': occurrence.itemId },
        }),
      );
    } catch (error) {
      // Gone already (past its retention): nothing to name.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Takes records from `start` while the step's transaction has room: the ledger row, and per
   * record its item, the item's two count rows and its environment's two (each row once).
   */
  private plan(
    records: readonly FoldRecord[],
    start: number,
    items: Map<number, ItemRecord>,
    steps: Map<string, number>,
  ): StepPlan {
    const rows = new Set<string>(['ledger']);
    const plan: StepPlan = { end: start, creations: new Map(), updates: new Map(), records: [] };
    for (let index = start; index < records.length; index++) {
      const record = records[index]!;
      const { occurrence } = record;
      const role = this.roleOf(record, items.get(occurrence.itemId), steps);
      const needed = countRowIds('env', `${occurrence.projectId}/${occurrence.environment}`, occurrence);
      if (role === 'update') {
        needed.push(
          `item/${occurrence.itemId}`,
          ...countRowIds('item', String(occurrence.itemId), occurrence),
        );
      }
      const added = needed.filter((row) => !rows.has(row));
      if (index > start && rows.size + added.length > MAX_ACTIONS_PER_TRANSACTION) break;
      for (const row of added) rows.add(row);
      plan.records.push(record);
      plan.end = index + 1;
      if (role === 'seeded') continue;
      const group = role === 'create' ? plan.creations : plan.updates;
      group.set(occurrence.itemId, [...(group.get(occurrence.itemId) ?? []), record]);
    }
    return plan;
  }

  /**
   * Whether the record creates its item, adds to it, or was put in it when an earlier attempt
   * created it. `created_by` names the creating step's first record, its last record for the item
   * and that record's sequence number. Sequence numbers compare only within a shard, so the
   * creation must be of this very batch: one of the two records is in it. (A retry that resumes
   * after the creating step still holds its last record: a step never outruns its batch.)
   */
  private roleOf(record: FoldRecord, item: ItemRecord | undefined, steps: Map<string, number>): Role {
    if (!item) return 'create';
    const createdBy = (item as unknown as { created_by?: unknown }).created_by;
    if (typeof createdBy !== 'string') return 'update';
    const [firstTag, lastTag, lastSequence] = createdBy.split('/');
    if (!firstTag || !lastTag || !lastSequence || !(steps.has(firstTag) || steps.has(lastTag)))
      return 'update';
    return BigInt(record.sequenceNumber) <= BigInt(lastSequence) ? 'seeded' : 'update';
  }

  /** One page per item and per person of the step, newest first. */
  private async writePages(records: FoldRecord[], items: Map<number, ItemRecord>): Promise<void> {
    const tag = stepTag(records[0]!.eventId);
    const byItem = groupBy(records, (record) => String(record.occurrence.itemId));
    const byPerson = groupBy(
      records.filter((record) => record.occurrence.person),
      (record) => `${record.occurrence.projectId}/${record.occurrence.person!.id}`,
    );
    const puts: Promise<unknown>[] = [];
    for (const itemRecords of byItem.values()) {
      const { itemId, projectId } = itemRecords[0]!.occurrence;
      const firstOccurrence = items.get(itemId)?.first_occurrence_id ?? earliest(itemRecords).occurrence.uuid;
      // An item's first occurrence is listed from the item itself.
      if (itemRecords.length === 1 && itemRecords[0]!.occurrence.uuid === firstOccurrence) continue;
      puts.push(
        this.putPage(itemRecords, projectId, (newest) => occurrenceKeys.itemPage(itemId, newest, tag)),
      );
    }
    for (const personRecords of byPerson.values()) {
      const { projectId, person } = personRecords[0]!.occurrence;
      puts.push(
        this.putPage(personRecords, projectId, (newest) =>
          occurrenceKeys.personPage(projectId, person!.id, newest, tag),
        ),
      );
    }
    await Promise.all(puts);
  }

  private putPage(
    records: FoldRecord[],
    projectId: number,
    keyOf: (newest: number) => Key,
  ): Promise<unknown> {
    const newestFirst = [...records].sort(
      (a, b) =>
        b.occurrence.receivedAt - a.occurrence.receivedAt || b.occurrence.timestamp - a.occurrence.timestamp,
    );
    const newest = newestFirst[0]!.occurrence.receivedAt;
    return this.documents.send(
      new PutCommand({
        TableName: this.tables.occurrences,
        Item: {
          ...keyOf(newest),
          entity: 'page',
          project_id: projectId,
          uuids: packUuids(newestFirst.map((record) => record.occurrence.uuid)),
          expires_at: expiresAt(newest, OCCURRENCE_RETENTION_DAYS),
        },
      }),
    );
  }

  /**
   * Marks people seen on an item for the first time in rows of their own; returns how many of
   * them are new to the item. A marker made by an earlier attempt of this step (it names one of
   * the step's records) still counts as new: that attempt's counts were never committed.
   */
  private async markPeople(itemId: number, people: Map<string, FoldRecord>): Promise<number> {
    const outcomes = await Promise.all(
      [...people].map(async ([personId, record]) => {
        try {
          await this.documents.send(
            new PutCommand({
              TableName: this.tables.occurrences,
              Item: {
                ...occurrenceKeys.itemPerson(itemId, personId),
                entity: 'person',
                item_id: itemId,
                person_id: personId,
                created_by: record.eventId,
              },
              ConditionExpression: 'attribute_not_exists(PK) OR created_by = :eventId',
              ExpressionAttributeValues: { ':eventId': record.eventId },
            }),
          );
          return true;
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) return false;
          throw error;
        }
      }),
    );
    return outcomes.filter(Boolean).length;
  }

  /** People of the records the item has not seen: in its own set, or marked in a row. */
  private async newPeople(
    itemId: number,
    records: FoldRecord[],
    known: ReadonlySet<string>,
    positions: Map<string, number>,
    start: number,
  ): Promise<Map<string, FoldRecord>> {
    const candidates = new Map<string, FoldRecord>();
    for (const record of records) {
      const person = record.occurrence.person;
      if (person && !known.has(personHash(person.id)) && !candidates.has(person.id)) {
        candidates.set(person.id, record);
      }
    }
    if (candidates.size === 0) return candidates;
    const markers = await batchGetAll(
      this.documents,
      this.tables.occurrences,
      [...candidates.keys()].map((personId) => occurrenceKeys.itemPerson(itemId, personId)),
      { consistent: true, projection: 'person_id, created_by' },
    );
    for (const marker of markers) {
      const creator = positions.get(String(marker.created_by));
      // Marked by an uncommitted attempt of this step: still new. Marked otherwise: known.
      if (creator === undefined || creator < start) candidates.delete(String(marker.person_id));
    }
    return candidates;
  }

  /**
   * Creates the step's new items, each whole in one conditional put, numbered in one counter
   * update per project. Returns how many it created.
   */
  private async createItems(
    plan: StepPlan,
    first: FoldRecord,
    positions: Map<string, number>,
    start: number,
  ): Promise<number> {
    if (plan.creations.size === 0) return 0;
    const byProject = groupBy([...plan.creations.values()], (records) =>
      String(records[0]!.occurrence.projectId),
    );
    const now = this.now();
    const rows: Record<string, unknown>[] = [];
    for (const projectCreations of byProject.values()) {
      const projectId = projectCreations[0]![0]!.occurrence.projectId;
      const last = await this.projects.takeNumber(projectId, 'item_counter', projectCreations.length);
      let counter = last - projectCreations.length + 1;
      for (const records of projectCreations) {
        const itemId = records[0]!.occurrence.itemId;
        const people = await this.newPeople(itemId, records, new Set(), positions, start);
        const inline = [...people.keys()].slice(0, this.peopleInItemRow);
        const marked = new Map([...people].slice(this.peopleInItemRow));
        const newlyMarked = await this.markPeople(itemId, marked);
        const change = planItemChange(
          undefined,
          records.map((record) => record.occurrence),
          inline.length + newlyMarked,
          now,
        );
        const last = records.at(-1)!;
        rows.push({
          ...itemKeys.item(itemId),
          ...change.set,
          ...change.add,
          counter,
          ...itemKeys.byProject(projectId, counter),
          seed_hours: hourCounts(records),
          created_by: `${stepTag(first.eventId)}/${stepTag(last.eventId)}/${BigInt(last.sequenceNumber)}`,
          people: inline.length > 0 ? new Set(inline.map(personHash)) : undefined,
        });
        counter++;
      }
    }
    const outcomes = await Promise.allSettled(
      rows.map((row) =>
        this.documents.send(
          new PutCommand({
            TableName: this.tables.items,
            Item: row,
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        ),
      ),
    );
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failure) {
      // Another fold created one of these items first: update it instead (its number is burnt).
      if (failure.reason instanceof ConditionalCheckFailedException) throw new StepOvertaken();
      throw failure.reason;
    }
    return rows.length;
  }

  private async itemUpdates(
    updates: Map<number, FoldRecord[]>,
    items: Map<number, ItemRecord>,
    positions: Map<string, number>,
    start: number,
  ): Promise<TransactItem[]> {
    const now = this.now();
    const actions: TransactItem[] = [];
    await Promise.all(
      [...updates].map(async ([itemId, records]) => {
        const item = items.get(itemId)!;
        const inItemRow = peopleOf(item);
        const people = await this.newPeople(itemId, records, inItemRow, positions, start);
        const room = Math.max(0, this.peopleInItemRow - inItemRow.size);
        const inline = [...people.keys()].slice(0, room);
        const newlyMarked = await this.markPeople(itemId, new Map([...people].slice(room)));
        const change = planItemChange(
          item,
          records.map((record) => record.occurrence),
          inline.length + newlyMarked,
          now,
        );
        actions.push(this.itemUpdate(change, inline.map(personHash), inItemRow.size));
        for (const row of countRows(records, (granularity, bucket) =>
          occurrenceKeys.itemCount(itemId, granularity, bucket),
        ).values()) {
          actions.push(countUpdate(this.tables.occurrences, row));
        }
      }),
    );
    return actions;
  }

  private environmentCountUpdates(records: FoldRecord[]): TransactItem[] {
    return [
      ...countRows(records, (granularity, bucket, occurrence) =>
        occurrenceKeys.environmentCount(occurrence.projectId, occurrence.environment, granularity, bucket),
      ).values(),
    ].map((row) => countUpdate(this.tables.occurrences, row));
  }

  private ledgerPut(first: FoldRecord, last: FoldRecord, records: number): TransactItem {
    return {
      Put: {
        TableName: this.tables.occurrences,
        Item: {
          ...occurrenceKeys.foldLedger(first.eventId),
          entity: 'fold',
          last_event_id: last.eventId,
          last_sequence_number: last.sequenceNumber,
          records,
          expires_at: expiresAt(this.now(), FOLD_LEDGER_RETENTION_DAYS),
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    };
  }

  private itemUpdate(change: ItemChange, newPeople: string[], peopleInRow: number): TransactItem {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const adds: string[] = [];
    let index = 0;
    for (const [attribute, value] of Object.entries(change.set)) {
      names[`#s${index}`] = attribute;
      values[`:s${index}`] = value;
      sets.push(`#s${index} = :s${index}`);
      index++;
    }
    for (const [attribute, value] of Object.entries(change.add)) {
      names[`#a${index}`] = attribute;
      values[`:a${index}`] = value;
      adds.push(`#a${index} :a${index}`);
      index++;
    }
    names['#status'] = 'status';
    names['#project'] = 'project_id';
    values[':expectedStatus'] = change.expected?.status;
    values[':project'] = change.projectId;
    // An item id can collide across projects: never count into another project's item.
    let condition = 'attribute_exists(PK) AND #project = :project AND #status = :expectedStatus';
    if (change.expected?.level) {
      names['#level'] = 'level';
      names['#levelLock'] = 'level_lock';
      values[':expectedLevel'] = change.expected.level;
      values[':unlocked'] = false;
      condition += ' AND #level = :expectedLevel AND #levelLock = :unlocked';
    }
    if (newPeople.length > 0) {
      // The item's own set of people is as read, so no one else counted these people meanwhile.
      names['#people'] = 'people';
      values[':people'] = new Set(newPeople);
      adds.push('#people :people');
      if (peopleInRow === 0) condition += ' AND attribute_not_exists(#people)';
      else {
        values[':peopleInRow'] = peopleInRow;
        condition += ' AND size(#people) = :peopleInRow';
      }
    }
    return {
      Update: {
        TableName: this.tables.items,
        Key: itemKeys.item(change.itemId),
        UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', `ADD ${adds.join(', ')}`]
          .join(' ')
          .trim(),
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }
}

interface CountRow {
  key: Key;
  count: number;
  expiresAt?: number;
}

/** The ids of the hourly and daily count rows an occurrence adds to, for the step's row budget. */
function countRowIds(kind: string, subject: string, occurrence: OccurrenceFacts): string[] {
  return (['hour', 'day'] as const).map(
    (granularity) => `${kind}/${subject}/${countBucket(occurrence.receivedAt, granularity)}`,
  );
}

function countRows(
  records: FoldRecord[],
  keyOf: (granularity: Granularity, bucket: string, occurrence: OccurrenceFacts) => Key,
): Map<string, CountRow> {
  const rows = new Map<string, CountRow>();
  for (const { occurrence } of records) {
    for (const granularity of ['hour', 'day'] as const) {
      const key = keyOf(granularity, countBucket(occurrence.receivedAt, granularity), occurrence);
      const id = `${key.PK}|${key.SK}`;
      const row = rows.get(id);
      if (row) row.count++;
      else {
        rows.set(id, {
          key,
          count: 1,
          expiresAt:
            granularity === 'hour'
              ? expiresAt(occurrence.receivedAt, HOURLY_COUNT_RETENTION_DAYS)
              : undefined,
        });
      }
    }
  }
  return rows;
}

function countUpdate(tableName: string, row: CountRow): TransactItem {
  return {
    Update: {
      TableName: tableName,
      Key: row.key,
      UpdateExpression:
        row.expiresAt === undefined ? 'ADD #count :n' : 'ADD #count :n SET expires_at = :expires',
      ExpressionAttributeNames: { '#count': 'count' },
      ExpressionAttributeValues:
        row.expiresAt === undefined ? { ':n': row.count } : { ':n': row.count, ':expires': row.expiresAt },
    },
  };
}

/** A new item's counts by hour, kept in its row until graphs read them (no count rows to create). */
function hourCounts(records: FoldRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { occurrence } of records) {
    const bucket = countBucket(occurrence.receivedAt, 'hour');
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  return counts;
}

function peopleOf(item: ItemRecord): Set<string> {
  const people = (item as unknown as { people?: unknown }).people;
  return people instanceof Set ? new Set([...people].map(String)) : new Set();
}

function earliest(records: FoldRecord[]): FoldRecord {
  return records.reduce((a, b) =>
    b.occurrence.timestamp < a.occurrence.timestamp ||
    (b.occurrence.timestamp === a.occurrence.timestamp && b.occurrence.receivedAt < a.occurrence.receivedAt)
      ? b
      : a,
  );
}

function groupBy<T>(values: readonly T[], keyOf: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const key = keyOf(value);
    groups.set(key, [...(groups.get(key) ?? []), value]);
  }
  return groups;
}
