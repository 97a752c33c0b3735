// The notification queue's message: one delivery (an event through one rule), for the sender.
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryMessage } from '#shared/notifications/model';

export interface DeliveryQueue {
  send(message: DeliveryMessage): Promise<void>;
}

export class SqsDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: DeliveryMessage): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        // For reading the queue by hand: the rule and key without opening the body.
        MessageAttributes: {
          rule_id: { DataType: 'Number', StringValue: String(message.rule_id) },
          key: { DataType: 'String', StringValue: message.key },
        },
      }),
    );
  }
}
