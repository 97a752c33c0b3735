// Delivery records in the notifications table: one row per delivery key, claimed by a conditional
// write before a sender posts and settled after the vendor answers, so a redelivered queue message,
// a second fan-out run or two racing senders never post twice. Rows expire (TTL) after a week.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  ClaimRequest,
  ClaimResult,
  DeliveryRecordStatus,
  DeliveryRecords,
  Settlement,
} from '#shared/notifications/delivery/sender';
import { notificationKeys } from './keys';

export class DynamoDBDeliveryRecords implements DeliveryRecords {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(key: string, request: ClaimRequest): Promise<ClaimResult> {
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: notificationKeys.delivery(key),
          UpdateExpression:
            'SET #status = :sending, #lease = :lease, lease_until = :until, rule_id = :rule, updated_at = :now, expires_at = :expires',
          // Absent, waiting (queued by the fan-out or for its pace slot, retrying, back from the
          // dead-letter queue), or held by a sender whose lease ran out: never sent, failed or skipped,
          // and never while a live sender holds it.
          ConditionExpression:
            'attribute_not_exists(PK) OR (#status IN (:queued, :retrying, :dead, :sending) AND (attribute_not_exists(lease_until) OR lease_until < :now))',
          ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease' },
          ExpressionAttributeValues: {
            ':sending': 'sending',
            ':queued': 'queued',
            ':retrying': 'retrying',
            ':dead': 'dead_lettered',
            ':lease': request.lease,
            ':until': request.leaseUntil,
            ':rule': request.ruleId,
            ':now': request.now,
            ':expires': request.expiresAt,
          },
          // The claim leaves attempts and the pace slot as they were: the new image holds them.
          ReturnValues: 'ALL_NEW',
        }),
      );
      return {
        claimed: true,
        attempts: Number(Attributes?.attempts ?? 0),
        ...(typeof Attributes?.pace_at === 'number' ? { paceSlotAt: Attributes.pace_at } : {}),
      };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.documents.send(
        new GetCommand({
          TableName: this.tableName,
          Key: notificationKeys.delivery(key),
          ConsistentRead: true,
        }),
      );
      return { claimed: false, status: Item?.status as DeliveryRecordStatus | undefined };
    }
  }

  async settle(key: string, lease: string, settlement: Settlement): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: notificationKeys.delivery(key),
          UpdateExpression: `SET #status = :status, attempts = :attempts, http_status = :http, updated_at = :now${
            settlement.paceSlotAt === undefined ? '' : ', pace_at = :pace'
          } REMOVE #lease, lease_until${settlement.paceSlotAt === undefined ? ', pace_at' : ''}`,
          // Only the sender holding the claim settles it; one that outlived its lease changes nothing.
          ConditionExpression: '#lease = :lease',
          ExpressionAttributeNames: { '#status': 'status', '#lease': 'lease' },
          ExpressionAttributeValues: {
            ':status': settlement.status,
            ':attempts': settlement.attempts,
            ':http': settlement.httpStatus,
            ':now': settlement.now,
            ':lease': lease,
            ...(settlement.paceSlotAt === undefined ? {} : { ':pace': settlement.paceSlotAt }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
