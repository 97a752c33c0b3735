// Items in the items table: reading them by id, by counter and by project, and writing the changes
// made by hand that the item rules (`#shared/items/rules`) planned.
import { ConditionalCheckFailedException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Level } from '#shared/domain/levels';
import type { ItemRecord, ItemStatus } from '#shared/items/item';
import type { UserChangePlan } from '#shared/items/rules';
import { itemsByProjectIndex as byProject } from '#shared/wiring/tables';
import { backOff, batchGetAll } from './batch-get';
import { itemKeys } from './keys';

// The index's key attributes by the names the tables declaration gives them, so the two cannot drift.
const byProjectNames = { '#pk': byProject.partitionKey.name, '#counter': byProject.sortKey.name };

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
  findByCounter(projectId: number, counter: number): Promise<ItemRecord | undefined>;
  /** Writes a change someone asked for, as planned; undefined when the project has no such item. */
  applyUserChange(plan: UserChangePlan): Promise<ItemRecord | undefined>;
  /** A project's items, newest counter first. */
  listIds(
    projectId: number,
    options: { limit: number; exclusiveStartCounter?: number },
  ): Promise<{
    ids: number[];
    lastCounter: number | undefined;
  }>;
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

  async findByCounter(projectId: number, counter: number): Promise<ItemRecord | undefined> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: byProject.indexName,
        KeyConditionExpression: '#pk = :pk AND #counter = :counter',
        ExpressionAttributeNames: byProjectNames,
        ExpressionAttributeValues: { ':pk': itemKeys.byProjectPartition(projectId), ':counter': counter },
      }),
    );
    const key = result.Items?.[0];
    return key ? this.get(Number(String(key.PK).slice('ITEM#'.length))) : undefined;
  }

  async listIds(
    projectId: number,
    options: { limit: number; exclusiveStartCounter?: number },
  ): Promise<{ ids: number[]; lastCounter: number | undefined }> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: byProject.indexName,
        KeyConditionExpression:
          options.exclusiveStartCounter === undefined ? '#pk = :pk' : '#pk = :pk AND #counter < :start',
        ExpressionAttributeNames:
          options.exclusiveStartCounter === undefined ? { '#pk': byProjectNames['#pk'] } : byProjectNames,
        ExpressionAttributeValues: {
          ':pk': itemKeys.byProjectPartition(projectId),
          ...(options.exclusiveStartCounter === undefined ? {} : { ':start': options.exclusiveStartCounter }),
        },
        ScanIndexForward: false,
        Limit: options.limit,
      }),
    );
    const rows = result.Items ?? [];
    return {
      ids: rows.map((row) => Number(String(row.PK).slice('ITEM#'.length))),
      lastCounter: result.LastEvaluatedKey ? Number(rows.at(-1)?.[byProject.sortKey.name]) : undefined,
    };
  }
}

/**
 * How many numbered items the project has (below `belowCounter` when given): read from the same
 * index as `listIds`, keys only, for a progress bar over a walk of it.
 */
export async function countItemIds(
  documents: DynamoDBDocumentClient,
  tableName: string,
  projectId: number,
  options: { belowCounter?: number } = {},
): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: byProject.indexName,
        KeyConditionExpression:
          options.belowCounter === undefined ? '#pk = :pk' : '#pk = :pk AND #counter < :below',
        ExpressionAttributeNames:
          options.belowCounter === undefined ? { '#pk': byProjectNames['#pk'] } : byProjectNames,
        ExpressionAttributeValues: {
          ':pk': itemKeys.byProjectPartition(projectId),
          ...(options.belowCounter === undefined ? {} : { ':below': options.belowCounter }),
        },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
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
