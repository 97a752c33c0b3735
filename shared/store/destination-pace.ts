// The pace of each destination in the notifications table: one row per destination holding the
// next free instant, moved forward by conditional updates, so every sender of every container
// shares a vendor's pace (Slack: about one message per second per webhook).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DestinationPace } from '#shared/notifications/delivery/sender';
import { notificationKeys } from './keys';

/** A pace row outlives its last slot by a day, then TTL removes it. */
const PACE_ROW_SECONDS = 86_400;

export class DynamoDBDestinationPace implements DestinationPace {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserve(destination: string, intervalMs: number, now: number): Promise<number> {
    const key = notificationKeys.destinationPace(destination);
    // No read-modify-write: the destination is either free now (take now) or booked ahead (take
    // the booked instant and push it one interval). Between the two a booking can lapse; try again.
    for (let round = 0; round < 5; round += 1) {
      try {
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET next_at = :next, expires_at = :expires',
            ConditionExpression: 'attribute_not_exists(next_at) OR next_at <= :now',
            ExpressionAttributeValues: {
              ':next': now + intervalMs,
              ':now': now,
              ':expires': this.expiry(now + intervalMs),
            },
          }),
        );
        return now;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      try {
        const { Attributes } = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET next_at = next_at + :interval, expires_at = :expires',
            ConditionExpression: 'next_at > :now',
            ExpressionAttributeValues: {
              ':interval': intervalMs,
              ':now': now,
              // Approximate (the row's slot is not known here); a day's slack covers it.
              ':expires': this.expiry(now + intervalMs) + PACE_ROW_SECONDS,
            },
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        return Number(Attributes?.next_at);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    // Five lapses in a row cannot happen without a clock far behind the others: post now.
    return now;
  }

  private expiry(slot: number): number {
    return Math.floor(slot / 1000) + PACE_ROW_SECONDS;
  }
}
