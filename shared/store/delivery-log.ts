// A rule's delivery log in the notifications table: one row per attempt, read newest first; the
// API shows the last 50 and rows expire after 30 days, so the log never grows without bound.
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryLogEntry } from '#shared/notifications/model';
import { notificationKeys } from './keys';

export const DELIVERY_LOG_SHOWN = 50;
const DELIVERY_LOG_DAYS = 30;

export interface DeliveryLog {
  append(ruleId: number, entry: DeliveryLogEntry): Promise<void>;
  /** The newest entries first. */
  recent(ruleId: number, limit?: number): Promise<DeliveryLogEntry[]>;
}

export class DynamoDBDeliveryLog implements DeliveryLog {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(ruleId: number, entry: DeliveryLogEntry): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...notificationKeys.deliveryLog(ruleId, entry.time, entry.key, entry.attempt),
          entity: 'delivery_log',
          rule_id: ruleId,
          ...entry,
          expires_at: Math.floor(entry.time / 1000) + DELIVERY_LOG_DAYS * 86_400,
        },
      }),
    );
  }

  async recent(ruleId: number, limit = DELIVERY_LOG_SHOWN): Promise<DeliveryLogEntry[]> {
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': notificationKeys.deliveryLogPartition(ruleId) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (Items ?? []).map((row) => ({
      time: Number(row.time),
      key: String(row.key),
      event_id: String(row.event_id),
      trigger: row.trigger,
      item_id: row.item_id === null || row.item_id === undefined ? null : Number(row.item_id),
      attempt: Number(row.attempt),
      status: row.status,
      http_status: row.http_status === null || row.http_status === undefined ? null : Number(row.http_status),
      response: String(row.response ?? ''),
    }));
  }
}
