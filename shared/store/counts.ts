// Reading occurrence counts for graphs: an item's, or a project environment's, per hour or per day.
//
// An item's counts are its count rows plus the hourly counts in its own row (`seed_hours`): the
// fold step that creates an item writes the counts of its occurrences there rather than into
// count rows of their own, and no later step adds to them.
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { countBucket, type Granularity, itemKeys, occurrenceKeys } from './keys';
import { DAY_SECONDS, HOURLY_COUNT_RETENTION_DAYS } from './retention';

export type CountSubject = { itemId: number } | { projectId: number; environment: string };

export interface CountRepository {
  /** Counts by bucket (`2026-11-23T10` or `2026-11-23`), for buckets from `first` to `last` inclusive. */
  list(
    subject: CountSubject,
    granularity: Granularity,
    first: string,
    last: string,
  ): Promise<Map<string, number>>;
}

export interface CountTables {
  /** Where the count rows are. */
  occurrences: string;
  /** Where the items are, with their `seed_hours`. */
  items: string;
}

export class DynamoDBCountRepository implements CountRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: CountTables,
    /** The clock; tests move it to read graphs of long ago. */
    private readonly now: () => number = Date.now,
  ) {}

  async list(
    subject: CountSubject,
    granularity: Granularity,
    first: string,
    last: string,
  ): Promise<Map<string, number>> {
    if (!('itemId' in subject)) {
      return this.countRows(
        occurrenceKeys.environmentCountPartition(subject.projectId, subject.environment, granularity),
        first,
        last,
      );
    }
    const [counts, seed] = await Promise.all([
      this.countRows(occurrenceKeys.itemCountPartition(subject.itemId, granularity), first, last),
      this.seedHours(subject.itemId),
    ]);
    // Seed hours live as long as the item; hourly rows expire, so older seed hours are left out too.
    const oldestHour = countBucket(this.now() - HOURLY_COUNT_RETENTION_DAYS * DAY_SECONDS * 1000, 'hour');
    for (const [hour, count] of seed) {
      if (granularity === 'hour' && hour < oldestHour) continue;
      // An hour bucket (`2026-11-23T10`) starts with its day bucket (`2026-11-23`).
      const bucket = granularity === 'hour' ? hour : hour.slice(0, 10);
      if (bucket < first || bucket > last) continue;
      counts.set(bucket, (counts.get(bucket) ?? 0) + count);
    }
    return counts;
  }

  private async countRows(partition: string, first: string, last: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const result: QueryCommandOutput = await this.documents.send(
        new QueryCommand({
          TableName: this.tables.occurrences,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :first AND :last',
          ExpressionAttributeValues: { ':pk': partition, ':first': first, ':last': last },
          ExpressionAttributeNames: { '#count': 'count' },
          ProjectionExpression: 'SK, #count',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const row of result.Items ?? []) counts.set(String(row.SK), Number(row.count));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return counts;
  }

  /** The item's counts by hour bucket that are in its own row; none for an item that has none. */
  private async seedHours(itemId: number): Promise<Map<string, number>> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.tables.items,
        Key: itemKeys.item(itemId),
        ProjectionExpression: 'seed_hours',
      }),
    );
    const seed: unknown = result.Item?.seed_hours;
    if (!seed || typeof seed !== 'object') return new Map();
    return new Map(
      Object.entries(seed).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
    );
  }
}
