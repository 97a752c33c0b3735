// Writing a batch of occurrences: each occurrence once, its item and counts exactly, in transactions.
//
// Why this shape: the occurrence uuid is the idempotency key, and an occurrence row, the counts it
// adds and its item's new state are committed in one TransactWriteItems, so a redelivered or
// concurrently processed occurrence can never be half-counted. Items are read first; counts are
// atomic adds, and the decisions taken from what was read (create, reactivate, raise the level)
// are conditions of the transaction, so a concurrent writer makes this batch re-read and retry,
// never overwrite. Occurrences of one item
// in a batch become one item update (hot items are not hot keys).
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type ItemChange, ORPHANED_COUNTER_MS, planItemChange } from '#shared/grouping/item-changes';
import type { PreparedOccurrence } from '#shared/grouping/occurrence';
import { backOff, batchGetAll } from './batch-get';
import type { ItemRepository } from './items';
import { countBucket, type Granularity, itemKeys, type Key, occurrenceKeys } from './keys';
import type { ProjectRepository } from './projects';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const DAY_SECONDS = 86_400;
/** Occurrences are kept this long, then DynamoDB's TTL removes them. */
export const OCCURRENCE_RETENTION_DAYS = 90;
/** Hourly counts serve the last weeks' graphs; daily counts are kept. */
export const HOURLY_COUNT_RETENTION_DAYS = 35;
/** DynamoDB's limits on one transaction, with room to spare for the item and count updates. */
const MAX_ACTIONS_PER_TRANSACTION = 100;
const MAX_BYTES_PER_TRANSACTION = 3_500_000;
// Enough for dozens of workers on one new hot item; a batch that still fails goes back to the queue.
const MAX_RETRIES = 25;
/** Why a transaction may be cancelled and succeed when tried again; any other reason is final. */
const RETRYABLE_CANCELLATIONS = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);
/**
 * A hot item's occurrences beyond this go to the next transaction, with the item read again. Each
 * occurrence may bring a new person's row, and the item, its count rows and the environment's take
 * up to 9 more actions (two hours and two days at a boundary): 2 × 45 + 9 fits DynamoDB's 100.
 */
const MAX_OCCURRENCES_PER_ITEM_PER_TRANSACTION = 45;

export interface GroupingTables {
  items: string;
  occurrences: string;
}

export interface WriteReport {
  /** Occurrences stored by this call. */
  stored: number;
  /** Occurrences already stored before (redelivered or sent twice), which changed nothing. */
  duplicates: number;
  /** Transactions that were cancelled by a concurrent writer and retried. */
  retries: number;
}

export interface GroupingStoreOptions {
  /** The clock; tests move it to play a crash that happened long ago. */
  now?: () => number;
  /** Sees every transaction before it is sent (the benchmark counts write units with it). */
  onTransaction?: (items: TransactItem[]) => void;
}

export class GroupingStoreError extends Error {
  override readonly name = 'GroupingStoreError';
}

interface ItemGroup {
  change: ItemChange;
  occurrences: PreparedOccurrence[];
  newPeople: PreparedOccurrence['person'][];
}

export class DynamoDBGroupingStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: GroupingTables,
    private readonly items: ItemRepository,
    private readonly projects: ProjectRepository,
    private readonly options: GroupingStoreOptions = {},
  ) {}

  async write(batch: readonly PreparedOccurrence[]): Promise<WriteReport> {
    const pending = new Map<string, PreparedOccurrence>();
    for (const occurrence of batch) pending.set(identity(occurrence), occurrence);
    const report: WriteReport = { stored: 0, duplicates: batch.length - pending.size, retries: 0 };
    const duplicateItems = new Set<number>();

    while (pending.size > 0) {
      if (report.retries >= MAX_RETRIES) {
        throw new GroupingStoreError(
          `gave up after ${MAX_RETRIES} retries; ${pending.size} occurrences unwritten`,
        );
      }
      const stored = await this.findStored([...pending.values()]);
      for (const key of stored) {
        duplicateItems.add(pending.get(key)!.itemId);
        pending.delete(key);
        report.duplicates++;
      }
      if (pending.size === 0) break;
      const groups = await this.planGroups([...pending.values()]);
      try {
        for (const transaction of this.packTransactions(groups)) {
          this.options.onTransaction?.(transaction.items);
          await this.documents.send(new TransactWriteCommand({ TransactItems: transaction.items }));
          for (const occurrence of transaction.occurrences) {
            pending.delete(identity(occurrence));
            report.stored++;
          }
          await this.assignCounters(transaction.changes.filter((change) => change.needsCounter));
        }
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const refusals = (error.CancellationReasons ?? [])
          .map((reason) => reason.Code ?? 'None')
          .filter((code) => !RETRYABLE_CANCELLATIONS.has(code));
        if (refusals.length > 0) {
          throw new GroupingStoreError(`transaction refused: ${refusals.join(', ')}`, { cause: error });
        }
        // A concurrent writer changed an item, stored a uuid, or counted a person first: re-read.
        await backOff(report.retries);
        report.retries++;
      }
    }
    await this.numberOrphans([...duplicateItems]);
    return report;
  }

  /**
   * A redelivered occurrence is a duplicate and plans nothing; but it may come back because its
   * writer died between creating its item and numbering it. Such an item is numbered here, or it
   * would never be listed nor announced.
   */
  private async numberOrphans(itemIds: number[]): Promise<void> {
    if (itemIds.length === 0) return;
    const found = await this.items.getMany(itemIds, { consistent: true });
    const orphans = [...found.values()].filter(
      (item) => item.counter === null && this.now() - item.created_at > ORPHANED_COUNTER_MS,
    );
    await this.assignCounters(orphans.map((item) => ({ itemId: item.id, projectId: item.project_id })));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The identities of occurrences that are stored already. */
  private async findStored(occurrences: PreparedOccurrence[]): Promise<Set<string>> {
    const rows = await batchGetAll(
      this.documents,
      this.tables.occurrences,
      occurrences.map((occurrence) => occurrenceKeys.occurrence(occurrence.projectId, occurrence.uuid)),
      { consistent: true, projection: 'project_id, #uuid', names: { '#uuid': 'uuid' } },
    );
    return new Set(rows.map((row) => `${row.project_id}/${row.uuid}`));
  }

  private async planGroups(occurrences: PreparedOccurrence[]): Promise<ItemGroup[]> {
    const byItem = new Map<number, PreparedOccurrence[]>();
    for (const occurrence of occurrences) {
      const list = byItem.get(occurrence.itemId) ?? [];
      list.push(occurrence);
      byItem.set(occurrence.itemId, list);
    }
    const current = await this.items.getMany([...byItem.keys()], { consistent: true });
    const knownPeople = await this.findKnownPeople(occurrences);

    const groups: ItemGroup[] = [];
    for (const [itemId, allOccurrences] of byItem) {
      const itemOccurrences = sliceForOneTransaction(allOccurrences);
      const newPeople = new Map<string, PreparedOccurrence['person']>();
      for (const { person } of itemOccurrences) {
        if (person && !knownPeople.has(`${itemId}/${person.id}`)) newPeople.set(person.id, person);
      }
      groups.push({
        change: planItemChange(current.get(itemId), itemOccurrences, newPeople.size, this.now()),
        occurrences: itemOccurrences,
        newPeople: [...newPeople.values()],
      });
    }
    return groups;
  }

  private async findKnownPeople(occurrences: PreparedOccurrence[]): Promise<Set<string>> {
    const keys = new Map<string, Key>();
    for (const { itemId, person } of occurrences) {
      if (person) keys.set(`${itemId}/${person.id}`, occurrenceKeys.itemPerson(itemId, person.id));
    }
    const rows = await batchGetAll(this.documents, this.tables.occurrences, [...keys.values()], {
      consistent: true,
      projection: 'item_id, person_id',
    });
    return new Set(rows.map((row) => `${row.item_id}/${row.person_id}`));
  }

  /**
   * Numbers are taken only for items this writer created (or found without one, after a crash),
   * after the item exists, so losing a creation race never burns a number; the conditional set
   * keeps an item from ever getting two.
   */
  private async assignCounters(changes: Array<Pick<ItemChange, 'itemId' | 'projectId'>>): Promise<void> {
    const byProject = new Map<number, Array<Pick<ItemChange, 'itemId' | 'projectId'>>>();
    for (const change of changes)
      byProject.set(change.projectId, [...(byProject.get(change.projectId) ?? []), change]);
    for (const [projectId, projectChanges] of byProject) {
      const last = await this.projects.takeNumber(projectId, 'item_counter', projectChanges.length);
      await Promise.all(
        projectChanges.map((change, index) =>
          this.items.setCounter(change.itemId, projectId, last - projectChanges.length + 1 + index),
        ),
      );
    }
  }

  private *packTransactions(
    groups: ItemGroup[],
  ): Generator<{ items: TransactItem[]; occurrences: PreparedOccurrence[]; changes: ItemChange[] }> {
    let items: TransactItem[] = [];
    let occurrences: PreparedOccurrence[] = [];
    let changes: ItemChange[] = [];
    let bytes = 0;
    const environmentCounts = new Map<string, { key: Key; count: number; expiresAt?: number }>();

    const flush = () => {
      const batch = [
        ...items,
        ...[...environmentCounts.values()].map((row) => this.countUpdate(row.key, row.count, row.expiresAt)),
      ];
      const result = { items: batch, occurrences, changes };
      items = [];
      occurrences = [];
      changes = [];
      bytes = 0;
      environmentCounts.clear();
      return result;
    };

    for (const group of groups) {
      const groupItems = this.groupActions(group);
      const groupBytes = group.occurrences.reduce(
        (sum, occurrence) => sum + occurrence.payload.byteLength + 1024,
        0,
      );
      const groupEnvironmentRows = this.environmentCountRows(group.occurrences);
      const newEnvironmentRows = [...groupEnvironmentRows.keys()].filter(
        (key) => !environmentCounts.has(key),
      ).length;
      if (groupItems.length + groupEnvironmentRows.size > MAX_ACTIONS_PER_TRANSACTION) {
        throw new GroupingStoreError(
          `item ${group.change.itemId} has too many occurrences for one transaction`,
        );
      }
      if (
        items.length > 0 &&
        (items.length + environmentCounts.size + groupItems.length + newEnvironmentRows >
          MAX_ACTIONS_PER_TRANSACTION ||
          bytes + groupBytes > MAX_BYTES_PER_TRANSACTION)
      ) {
        yield flush();
      }
      items.push(...groupItems);
      occurrences.push(...group.occurrences);
      changes.push(group.change);
      bytes += groupBytes;
      for (const [id, row] of groupEnvironmentRows) {
        const existing = environmentCounts.get(id);
        if (existing) existing.count += row.count;
        else environmentCounts.set(id, { ...row });
      }
    }
    if (items.length > 0) yield flush();
  }

  private groupActions(group: ItemGroup): TransactItem[] {
    const { change } = group;
    const actions: TransactItem[] = [this.itemUpdate(change)];
    for (const occurrence of group.occurrences) actions.push(this.occurrencePut(occurrence));
    for (const person of group.newPeople) {
      if (!person) continue;
      actions.push({
        Put: {
          TableName: this.tables.occurrences,
          Item: {
            ...occurrenceKeys.itemPerson(change.itemId, person.id),
            item_id: change.itemId,
            person_id: person.id,
            username: person.username,
            email: person.email,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      });
    }
    for (const row of this.countRows(group.occurrences, (granularity, bucket) =>
      occurrenceKeys.itemCount(change.itemId, granularity, bucket),
    ).values()) {
      actions.push(this.countUpdate(row.key, row.count, row.expiresAt));
    }
    return actions;
  }

  private environmentCountRows(occurrences: PreparedOccurrence[]) {
    return this.countRows(occurrences, (granularity, bucket, occurrence) =>
      occurrenceKeys.environmentCount(occurrence.projectId, occurrence.environment, granularity, bucket),
    );
  }

  private countRows(
    occurrences: PreparedOccurrence[],
    keyOf: (granularity: Granularity, bucket: string, occurrence: PreparedOccurrence) => Key,
  ): Map<string, { key: Key; count: number; expiresAt?: number }> {
    const rows = new Map<string, { key: Key; count: number; expiresAt?: number }>();
    for (const occurrence of occurrences) {
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
                ? Math.floor(occurrence.receivedAt / 1000) + HOURLY_COUNT_RETENTION_DAYS * DAY_SECONDS
                : undefined,
          });
        }
      }
    }
    return rows;
  }

  private countUpdate(key: Key, count: number, expiresAt: number | undefined): TransactItem {
    return {
      Update: {
        TableName: this.tables.occurrences,
        Key: key,
        UpdateExpression:
          expiresAt === undefined ? 'ADD #count :n' : 'ADD #count :n SET expires_at = :expires',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues:
          expiresAt === undefined ? { ':n': count } : { ':n': count, ':expires': expiresAt },
      },
    };
  }

  private occurrencePut(occurrence: PreparedOccurrence): TransactItem {
    const timestampMs = occurrence.timestamp * 1000;
    return {
      Put: {
        TableName: this.tables.occurrences,
        Item: {
          ...occurrenceKeys.occurrence(occurrence.projectId, occurrence.uuid),
          ...occurrenceKeys.byItem(occurrence.itemId, timestampMs, occurrence.uuid),
          ...(occurrence.person
            ? occurrenceKeys.byPerson(
                occurrence.projectId,
                occurrence.person.id,
                timestampMs,
                occurrence.uuid,
              )
            : {}),
          entity: 'occurrence',
          uuid: occurrence.uuid,
          project_id: occurrence.projectId,
          item_id: occurrence.itemId,
          timestamp: occurrence.timestamp,
          received_at: occurrence.receivedAt,
          environment: occurrence.environment,
          level: occurrence.level,
          code_version: occurrence.codeVersion,
          person_id: occurrence.person?.id,
          payload: occurrence.payload,
          payload_truncated: occurrence.payloadTruncated,
          expires_at: Math.floor(occurrence.receivedAt / 1000) + OCCURRENCE_RETENTION_DAYS * DAY_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    };
  }

  private itemUpdate(change: ItemChange): TransactItem {
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
    let condition = 'attribute_not_exists(PK)';
    if (change.expected) {
      names['#status'] = 'status';
      values[':expectedStatus'] = change.expected.status;
      condition = 'attribute_exists(PK) AND #status = :expectedStatus';
      if (change.expected.level) {
        names['#level'] = 'level';
        names['#levelLock'] = 'level_lock';
        values[':expectedLevel'] = change.expected.level;
        values[':unlocked'] = false;
        condition += ' AND #level = :expectedLevel AND #levelLock = :unlocked';
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

/** The first occurrences of an item that fit in one transaction, by count and by size. */
function sliceForOneTransaction(occurrences: PreparedOccurrence[]): PreparedOccurrence[] {
  let bytes = 0;
  let count = 0;
  for (const occurrence of occurrences) {
    bytes += occurrence.payload.byteLength + 1024;
    if (count >= MAX_OCCURRENCES_PER_ITEM_PER_TRANSACTION || (count > 0 && bytes > MAX_BYTES_PER_TRANSACTION))
      break;
    count++;
  }
  return occurrences.slice(0, count);
}

function identity(occurrence: PreparedOccurrence): string {
  return `${occurrence.projectId}/${occurrence.uuid}`;
}
