// The daily summaries' rows in the notifications table: each project's UTC day tallied by the fan-out
// (new and reactivated items, occurrences per item, in one partition per project and day), and the
// mark that a rule's summary of a day was queued.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DayTallies, SummaryTally } from '#shared/notifications/daily-summary/summary';
import { notificationKeys } from './keys';
import { queryAll } from './query-all';
import { DAY_SECONDS } from './retention';

/** A day's tallies are read within a day of its end; they are kept a few days more. */
const TALLY_RETENTION_DAYS = 3;

export interface SummaryRecord {
  wasQueued(ruleId: number, day: string): Promise<boolean>;
  markQueued(ruleId: number, day: string): Promise<void>;
  readDay(projectId: number, day: string): Promise<DayTallies>;
}

export class DynamoDBDailySummaries implements SummaryTally, SummaryRecord {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async markItem(input: {
    projectId: number;
    day: string;
    itemId: number;
    kind: 'NEW' | 'REACTIVATED';
  }): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...notificationKeys.summaryDay(input.projectId, input.day, input.kind, input.itemId),
          item_id: input.itemId,
          expires_at: expiry(input.day),
        },
      }),
    );
  }

  async countItem(input: {
    projectId: number;
    day: string;
    itemId: number;
    total: number;
    growth: number;
  }): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: notificationKeys.summaryDay(input.projectId, input.day, 'COUNT', input.itemId),
          UpdateExpression: 'SET item_id = :item, last_total = :total, expires_at = :expires ADD #n :growth',
          // Item totals only grow: a change with this total or less was counted already.
          ConditionExpression: 'attribute_not_exists(last_total) OR last_total < :total',
          ExpressionAttributeNames: { '#n': 'n' },
          ExpressionAttributeValues: {
            ':item': input.itemId,
            ':total': input.total,
            ':growth': input.growth,
            ':expires': expiry(input.day),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async readDay(projectId: number, day: string): Promise<DayTallies> {
    const tallies: DayTallies = { newItems: [], reactivatedItems: [], counts: new Map() };
    const rows = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': notificationKeys.summaryDayPartition(projectId, day) },
    });
    for (const row of rows) {
      const itemId = Number(row.item_id);
      const kind = String(row.SK).split('#')[0];
      if (kind === 'NEW') tallies.newItems.push(itemId);
      else if (kind === 'REACTIVATED') tallies.reactivatedItems.push(itemId);
      else if (kind === 'COUNT') tallies.counts.set(itemId, Number(row.n ?? 0));
    }
    return tallies;
  }

  async wasQueued(ruleId: number, day: string): Promise<boolean> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: notificationKeys.summarySent(ruleId, day) }),
    );
    return Item !== undefined;
  }

  async markQueued(ruleId: number, day: string): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...notificationKeys.summarySent(ruleId, day), expires_at: expiry(day) },
      }),
    );
  }
}

/** The end of a day (`2026-11-30`) plus the retention, in epoch seconds. */
function expiry(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / 1000 + DAY_SECONDS * (1 + TALLY_RETENTION_DAYS);
}
