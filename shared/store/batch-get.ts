// BatchGetItem over any number of keys: 100 keys a call, unprocessed keys retried with back-off.
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Key } from './keys';

export interface BatchGetOptions {
  consistent?: boolean;
  projection?: string;
  names?: Record<string, string>;
}

export function backOff(attempt: number): Promise<void> {
  const delay = Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, delay));
}

export async function batchGetAll(
  documents: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Key[],
  options: BatchGetOptions = {},
): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  const unique = [...new Map(keys.map((key) => [`${key.PK}|${key.SK}`, key])).values()];
  for (let start = 0; start < unique.length; start += 100) {
    let pending: Record<string, unknown>[] | undefined = unique
      .slice(start, start + 100)
      .map((key) => ({ ...key }));
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      const result: BatchGetCommandOutput = await documents.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: pending,
              ConsistentRead: options.consistent,
              ProjectionExpression: options.projection,
              ExpressionAttributeNames: options.names,
            },
          },
        }),
      );
      rows.push(...(result.Responses?.[tableName] ?? []));
      pending = result.UnprocessedKeys?.[tableName]?.Keys;
      if (pending && pending.length > 0) await backOff(attempt);
    }
  }
  return rows;
}
