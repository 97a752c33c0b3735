// Reading occurrence counts for graphs: an item's, or a project environment's, per hour or per day.
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { type Granularity, occurrenceKeys } from './keys';

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

export class DynamoDBCountRepository implements CountRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(
    subject: CountSubject,
    granularity: Granularity,
    first: string,
    last: string,
  ): Promise<Map<string, number>> {
    const partition =
      'itemId' in subject
        ? occurrenceKeys.itemCountPartition(subject.itemId, granularity)
        : occurrenceKeys.environmentCountPartition(subject.projectId, subject.environment, granularity);
    const counts = new Map<string, number>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const result: QueryCommandOutput = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
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
}
