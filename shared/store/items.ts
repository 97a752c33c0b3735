// Items in the items table: reading them by id, walking the table, and writing the changes made by
// hand that the item rules (`#shared/items/rules`) planned. The table has no index: the listing by
// counter is the search index's (`#shared/search/service`).
import { ConditionalCheckFailedException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Level } from '#shared/domain/levels';
import type { ItemRecord, ItemStatus } from '#shared/items/item';
import type { UserChangePlan } from '#shared/items/rules';
import { backOff, batchGetAll } from './batch-get';
import { itemKeys } from './keys';

/**
 * Tries of a change made by hand. While the fold's transaction holds a busy item, an UpdateItem on
 * it fails with TransactionConflictException, which the SDK does not retry; the transaction is
 * short, so a few tries a few tens of milliseconds apart get through.
 */
const USER_CHANGE_ATTEMPTS = 5;

// The item's type is the rules' (`#shared/items/item`); named here too because the fold's storage
// reads it from this module.

export interface ItemRepository {
  get(itemId: number, options?: { consistent?: boolean }): Promise<ItemRecord | undefined>;
  getMany(itemIds: number[], options?: { consistent?: boolean }): Promise<Map<number, ItemRecord>>;
  /** Writes a change someone asked for, as planned; undefined when the project has no such item. */
  applyUserChange(plan: UserChangePlan): Promise<ItemRecord | undefined>;
}

export class DynamoDBItemRepository implements ItemRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(itemId: number, options: { consistent?: boolean } = {}): Promise<ItemRecord | undefined> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: itemKeys.item(itemId),
        ConsistentRead: options.consistent,
      }),
    );
    return result.Item ? toItemRecord(result.Item) : undefined;
  }

  async getMany(itemIds: number[], options: { consistent?: boolean } = {}): Promise<Map<number, ItemRecord>> {
    const rows = await batchGetAll(
      this.documents,
      this.tableName,
      [...new Set(itemIds)].map(itemKeys.item),
      options,
    );
    return new Map(rows.map((row) => [Number(row.id), toItemRecord(row)]));
  }

  async applyUserChange(plan: UserChangePlan): Promise<ItemRecord | undefined> {
    const names: Record<string, string> = { '#project': 'project_id' };
    const values: Record<string, unknown> = { ':project': plan.projectId };
    // Every field through a name placeholder: `status` and `level` are reserved words.
    const sets = Object.entries(plan.set).map(([field, value], index) => {
      names[`#f${index}`] = field;
      values[`:v${index}`] = value;
      return `#f${index} = :v${index}`;
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: itemKeys.item(plan.itemId),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: 'attribute_exists(PK) AND #project = :project',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        return result.Attributes ? toItemRecord(result.Attributes) : undefined;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        if (!(error instanceof TransactionConflictException) || attempt + 1 >= USER_CHANGE_ATTEMPTS)
          throw error;
        await backOff(attempt);
      }
    }
  }
}

/** A page of a walk of the items table: the items it held, and where the next page starts. */
export interface ItemScanPage {
  items: ItemRecord[];
  /** The key the next page starts after (the Scan's LastEvaluatedKey); undefined at the end. */
  next: Record<string, unknown> | undefined;
}

/** Only item rows (the table also holds deploys), of one project when it is named. */
function itemFilter(projectId: number | undefined) {
  return {
    FilterExpression: projectId === undefined ? '#entity = :item' : '#entity = :item AND #project = :project',
    ExpressionAttributeNames: {
      '#entity': 'entity',
      ...(projectId === undefined ? {} : { '#project': 'project_id' }),
    },
    ExpressionAttributeValues: {
      ':item': 'item',
      ...(projectId === undefined ? {} : { ':project': projectId }),
    },
  };
}

/**
 * One page of a walk of the items table itself, for `faultline search reindex`: the table has no
 * index by project (the search index is the listing's, and a reindex must not read what it
 * rebuilds). `limit` rows are read a page, items or not, consistently: the index gets each item as
 * it is now.
 */
export async function scanItems(
  documents: DynamoDBDocumentClient,
  tableName: string,
  options: { projectId?: number; limit: number; start?: Record<string, unknown> },
): Promise<ItemScanPage> {
  const page = await documents.send(
    new ScanCommand({
      TableName: tableName,
      ...itemFilter(options.projectId),
      Limit: options.limit,
      ExclusiveStartKey: options.start,
      ConsistentRead: true,
    }),
  );
  return { items: (page.Items ?? []).map(toItemRecord), next: page.LastEvaluatedKey };
}

/**
 * How many numbered items each project has (one, when named), from one walk of the items table: the
 * reindex's progress bar and `faultline search status`. A Scan bills what it reads, whatever it
 * returns: about a read unit per 8 KB of the table (eventually consistent).
 */
export async function countItemsByProject(
  documents: DynamoDBDocumentClient,
  tableName: string,
  options: { projectId?: number } = {},
): Promise<Map<number, number>> {
  const filter = itemFilter(options.projectId);
  const counts = new Map<number, number>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: tableName,
        ...filter,
        FilterExpression: `${filter.FilterExpression} AND attribute_exists(#counter)`,
        ExpressionAttributeNames: {
          ...filter.ExpressionAttributeNames,
          '#counter': 'counter',
          '#p': 'project_id',
        },
        ProjectionExpression: '#p',
        ExclusiveStartKey: start,
      }),
    );
    for (const row of page.Items ?? []) {
      const projectId = Number(row.project_id);
      counts.set(projectId, (counts.get(projectId) ?? 0) + 1);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return counts;
}

export function toItemRecord(row: Record<string, unknown>): ItemRecord {
  const numberOr = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
  const textOrNull = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    id: Number(row.id),
    project_id: Number(row.project_id),
    counter: typeof row.counter === 'number' ? row.counter : null,
    created_at: createdAtSeconds(row.created_at),
    environment: String(row.environment),
    platform: String(row.platform ?? ''),
    framework: textOrNull(row.framework),
    language: textOrNull(row.language),
    hash: String(row.hash),
    grouping_method: String(row.grouping_method ?? 'trace'),
    title: String(row.title ?? ''),
    level: (row.level as Level) ?? 'error',
    level_lock: row.level_lock === true,
    status: (row.status as ItemStatus) ?? 'active',
    total_occurrences: numberOr(row.total_occurrences, 0),
    unique_people: numberOr(row.unique_people, 0),
    first_occurrence_id: String(row.first_occurrence_id ?? ''),
    first_occurrence_timestamp: numberOr(row.first_occurrence_timestamp, 0),
    last_occurrence_id: String(row.last_occurrence_id ?? ''),
    last_occurrence_timestamp: numberOr(row.last_occurrence_timestamp, 0),
    // An item never reactivated keeps these out of its row: they are its first occurrence's.
    last_activated_timestamp: numberOr(
      row.last_activated_timestamp,
      numberOr(row.first_occurrence_timestamp, 0),
    ),
    activating_occurrence_id: String(row.activating_occurrence_id ?? row.first_occurrence_id ?? ''),
    reactivated_count: numberOr(row.reactivated_count, 0),
    resolved_timestamp: typeof row.resolved_timestamp === 'number' ? row.resolved_timestamp : null,
    resolved_in_version: textOrNull(row.resolved_in_version),
    last_code_version: textOrNull(row.last_code_version),
  };
}

/**
 * Rows created before `created_at` was kept in seconds hold milliseconds. No time in seconds
 * reaches 10^11 before the year 5138, so a larger value is milliseconds.
 */
function createdAtSeconds(value: unknown): number {
  if (typeof value !== 'number') return 0;
  return value >= 1e11 ? Math.floor(value / 1000) : value;
}
