// What a tracker channel remembers of an item per rule (the GitHub issue number, the Jira issue key,
// the Trello card id, the Asana task gid) in the notifications table, so later events comment on,
// reopen or close the same issue instead of filing a new one.
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ChannelLinks } from '#shared/notifications/channel';
import { notificationKeys } from './keys';

export class DynamoDBChannelLinks implements ChannelLinks {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(ruleId: number, itemId: number): Promise<Record<string, string> | undefined> {
    // Consistent: a retry that follows a create within milliseconds must find the link it wrote,
    // or it files a second issue.
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: notificationKeys.channelLink(ruleId, itemId),
        ConsistentRead: true,
      }),
    );
    if (!Item || typeof Item.link !== 'object' || Item.link === null) return undefined;
    return Object.fromEntries(
      Object.entries(Item.link as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
  }

  /** Replaces the rule's link for the item. Links live as long as the item: they carry no TTL. */
  async put(ruleId: number, itemId: number, link: Record<string, string>): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...notificationKeys.channelLink(ruleId, itemId),
          entity: 'channel_link',
          rule_id: ruleId,
          item_id: itemId,
          link,
          linked_at: Date.now(),
        },
      }),
    );
  }
}
