// Items in the items table: reading them by id, by counter and by project.
import { ConditionalCheckFailedException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Level } from '#shared/domain/levels';
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

export const ITEM_STATUSES = ['active', 'resolved', 'muted'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** An item as stored, in Rollbar's field names. */
export interface ItemRecord {
  id: number;
  project_id: number;
  counter: number | null;
  /** Server time of creation, in seconds like every timestamp the API shows. */
  created_at: number;
  environment: string;
  platform: string;
  framework: string | null;
  language: string | null;
  hash: string;
  grouping_method: string;
  title: string;
  level: Level;
  /** Set when someone chose the level by hand; occurrences then no longer raise it. */
  level_lock: boolean;
  status: ItemStatus;
  total_occurrences: number;
  unique_people: number;
  first_occurrence_id: string;
  first_occurrence_timestamp: number;
  last_occurrence_id: string;
  last_occurrence_timestamp: number;
  last_activated_timestamp: number;
  activating_occurrence_id: string;
  reactivated_count: number;
  resolved_timestamp: number | null;
  resolved_in_version: string | null;
  last_code_version: string | null;
}

/** A change made by hand through the API (never by an occurrence). */
export interface UserItemChange {
  status?: ItemStatus;
  /**
   * The release that fixes it: occurrences from older releases do not reactivate it. It belongs to
   * the resolve that sets it, so it is read only with `status: 'resolved'`; every change of status
   * replaces it (a resolve without a version, a reopen and a mute clear it), and a later resolve
   * never inherits the version of an earlier one.
   */
  resolvedInVersion?: string | null;
  /** Set by hand, the level is locked: occurrences no longer raise it. */
  level?: Level;
}

export interface ItemRepository {
  get(itemId: number, options?: { consistent?: boolean }): Promise<ItemRecord | undefined>;
  getMany(itemIds: number[], options?: { consistent?: boolean }): Promise<Map<number, ItemRecord>>;
  findByCounter(projectId: number, counter: number): Promise<ItemRecord | undefined>;
  /** Applies a change someone asked for; undefined when the project has no such item. */
  applyUserChange(
    projectId: number,
    itemId: number,
    change: UserItemChange,
    now: number,
  ): Promise<ItemRecord | undefined>;
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

  async applyUserChange(
    projectId: number,
    itemId: number,
    change: UserItemChange,
    now: number,
  ): Promise<ItemRecord | undefined> {
    const seconds = Math.floor(now / 1000);
    const sets: string[] = [];
    const values: Record<string, unknown> = { ':project': projectId };
    const names: Record<string, string> = { '#project': 'project_id' };
    if (change.status) {
      names['#status'] = 'status';
      names['#changedBy'] = 'status_changed_by';
      values[':status'] = change.status;
      values[':user'] = 'user';
      sets.push('#status = :status', '#changedBy = :user');
      values[':resolvedIn'] = change.status === 'resolved' ? (change.resolvedInVersion ?? null) : null;
      sets.push('resolved_in_version = :resolvedIn');
      if (change.status === 'resolved') {
        values[':now'] = seconds;
        sets.push('resolved_timestamp = :now');
      }
      if (change.status === 'active') {
        values[':now'] = seconds;
        values[':null'] = null;
        sets.push('last_activated_timestamp = :now', 'resolved_timestamp = :null');
      }
    }
    if (change.level) {
      names['#level'] = 'level';
      values[':level'] = change.level;
      values[':locked'] = true;
      sets.push('#level = :level', 'level_lock = :locked');
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: itemKeys.item(itemId),
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
