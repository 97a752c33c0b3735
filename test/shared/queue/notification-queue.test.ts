// The notification queue on fauxqs: any number of deliveries, of any size SQS takes, all queued.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryMessage } from '#shared/notifications/model';
import { SqsDeliveryQueue } from '#shared/queue/notification-queue';
import { type Queues, startQueues } from '../../support/emulators';

let queues: Queues;

beforeAll(async () => {
  queues = await startQueues({ prefix: 'notification-queue' });
});

afterAll(async () => {
  await queues?.stop();
});

const message = (index: number, padding = 0): DeliveryMessage => ({
  key: `ev${index}:new_item#1`,
  project_id: 1,
  rule_id: 1,
  channel: 'webhook',
  event: {
    id: `ev${index}:new_item`,
    trigger: 'new_item',
    project_id: 1,
    occurred_at: 0,
    occurrence: { uuid: 'u', timestamp: 0, data: { padding: 'x'.repeat(padding) } },
  },
  attempt: 1,
  queued_at: 0,
});

describe('the notification queue', () => {
  it('queues more than a batch of deliveries, and batches whose sum passes 1 MiB, every one once', async () => {
    const url = queues.queues.notifications.url;
    const sent = [
      ...Array.from({ length: 23 }, (_, index) => message(index)),
      ...Array.from({ length: 4 }, (_, index) => message(100 + index, 300_000)),
    ];
    expect(await new SqsDeliveryQueue(queues.client, url).send(sent)).toEqual([]);
    const keys: string[] = [];
    for (let empty = 0; empty < 2; ) {
      const { Messages = [] } = await queues.client.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
      );
      if (Messages.length === 0) empty++;
      keys.push(...Messages.map((received) => (JSON.parse(received.Body!) as DeliveryMessage).key));
    }
    expect(keys.sort()).toEqual(sent.map((delivery) => delivery.key).sort());
  });
});
