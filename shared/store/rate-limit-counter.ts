// The rate limiter's shared counter in the rate limits table: one row per token and minute window.
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type RateLimitCounter, WINDOW_SECONDS } from '#shared/rate-limits/limiter';
import { rateLimitKeys } from './keys';

/** TTL deletes rows days late at worst, and nothing reads a past window: a minute's margin is enough. */
const EXPIRES_AFTER_WINDOW_SECONDS = 60;

export class DynamoDBRateLimitCounter implements RateLimitCounter {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One `ADD` (a row under 1 KB: one write unit), returning the new total; nothing is read first. */
  async add(tokenKey: string, windowStart: number, calls: number): Promise<number> {
    const result = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: rateLimitKeys.window(tokenKey, windowStart),
        UpdateExpression: 'ADD calls :calls SET expires_at = if_not_exists(expires_at, :expires)',
        ExpressionAttributeValues: {
          ':calls': calls,
          ':expires': windowStart + WINDOW_SECONDS + EXPIRES_AFTER_WINDOW_SECONDS,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(result.Attributes?.calls);
  }
}
