// The fan-out's noise-control and rate rows in the notifications table: a rule's interval and hourly
// count per item, and each item's occurrences per rate window. Each is one conditional UpdateItem
// whose condition makes a repeat of the same change answer as the first time (see the protocols in
// shared/notifications/fan-out/noise.ts and rate.ts).
import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { NoiseStore } from '#shared/notifications/fan-out/noise';
import type { RateStore } from '#shared/notifications/fan-out/rate';
import { notificationKeys } from './keys';
import { DAY_SECONDS } from './retention';

const HOUR_SECONDS = 3600;

export class DynamoDBNoiseStore implements NoiseStore, RateStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async takeInterval(input: {
    ruleId: number;
    itemId: number;
    key: string;
    atMs: number;
    intervalSeconds: number;
  }): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: notificationKeys.ruleItemInterval(input.ruleId, input.itemId),
          UpdateExpression: 'SET last_at = :at, last_key = :key, expires_at = :expires',
          ConditionExpression: 'attribute_not_exists(last_at) OR last_at <= :cutoff OR last_key = :key',
          ExpressionAttributeValues: {
            ':at': input.atMs,
            ':key': input.key,
            ':cutoff': input.atMs - input.intervalSeconds * 1000,
            ':expires': Math.floor(input.atMs / 1000) + input.intervalSeconds + DAY_SECONDS,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async takeHourSlot(input: {
    ruleId: number;
    itemId: number;
    key: string;
    hour: string;
    max: number;
  }): Promise<boolean> {
    const hourEnd = Date.parse(`${input.hour}:00:00Z`) / 1000 + HOUR_SECONDS;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: notificationKeys.ruleItemHour(input.ruleId, input.itemId, input.hour),
          UpdateExpression: 'SET last_key = :key, expires_at = :expires ADD #n :one',
          ConditionExpression:
            '(attribute_not_exists(#n) OR #n < :max) AND (attribute_not_exists(last_key) OR last_key <> :key)',
          ExpressionAttributeNames: { '#n': 'n' },
          ExpressionAttributeValues: {
            ':key': input.key,
            ':one': 1,
            ':max': input.max,
            ':expires': hourEnd + DAY_SECONDS,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Counted already by this same delivery (a redelivered record): it stands.
      return oldImageOf(error)?.last_key === input.key;
    }
  }

  async count(input: {
    itemId: number;
    period: number;
    windowStart: number;
    total: number;
    growth: number;
  }): Promise<{ before: number; after: number } | undefined> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: notificationKeys.rateWindow(input.itemId, input.period, input.windowStart),
          // `before` keeps what the counter held before this change, so a repeat can answer as it did.
          UpdateExpression:
            'SET last_total = :total, #before = if_not_exists(#n, :zero), #n = if_not_exists(#n, :zero) + :growth, expires_at = :expires',
          ConditionExpression: 'attribute_not_exists(last_total) OR last_total < :total',
          ExpressionAttributeNames: { '#n': 'n', '#before': 'before' },
          ExpressionAttributeValues: {
            ':total': input.total,
            ':zero': 0,
            ':growth': input.growth,
            ':expires': input.windowStart + input.period + DAY_SECONDS,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { before: Number(Attributes?.before ?? 0), after: Number(Attributes?.n ?? 0) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = oldImageOf(error);
      if (old?.last_total !== input.total) return undefined;
      return { before: Number(old.before ?? 0), after: Number(old.n ?? 0) };
    }
  }
}

/** The row a failed condition saw (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), as plain values. */
function oldImageOf(error: ConditionalCheckFailedException): Record<string, unknown> | undefined {
  const item = error.Item as Record<string, AttributeValue> | undefined;
  return item ? unmarshall(item) : undefined;
}
