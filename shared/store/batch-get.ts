// BatchGetItem over any number of keys: 100 keys a call, a few at once when asked, unprocessed keys retried.
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
  /** Calls of 100 keys sent at once; more than one when the caller is billed for the time it waits. @default 1 */
  inFlight?: number;
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
  const chunks: Key[][] = [];
  for (let start = 0; start < unique.length; start += 100) chunks.push(unique.slice(start, start + 100));
  const inFlight = Math.max(1, options.inFlight ?? 1);
  for (let at = 0; at < chunks.length; at += inFlight) {
    await Promise.all(chunks.slice(at, at + inFlight).map((chunk) => readChunk(chunk)));
  }
  return rows;

  async function readChunk(chunk: Key[]): Promise<void> {
    let pending: Record<string, unknown>[] | undefined = chunk.map((key) => ({ ...key }));
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
}
