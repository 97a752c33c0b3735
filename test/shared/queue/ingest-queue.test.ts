// The ingest queue's message through fauxqs: what ingest sends is what the storing worker reads,
// with the project and uuid as attributes for whoever inspects the queue.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OccurrenceMessage,
  occurrenceMessageBody,
  occurrenceMessageSchema,
  SqsOccurrenceQueue,
} from '#shared/queue/ingest-queue';
import { type Queues, startQueues } from '../../support/emulators';

let queues: Queues;

beforeAll(async () => {
  queues = await startQueues({ prefix: 'ingest-queue' });
});

afterAll(async () => {
  await queues?.stop();
});

const message: OccurrenceMessage = {
  version: 1,
  project_id: 7,
  grouping_version: 2,
  received_at: Date.UTC(2026, 10, 30, 9, 0, 0),
  uuid: '0b5cfa1c-6e4d-4d3a-9b8e-2f1a3c4d5e6f',
  data: { environment: 'production', title: 'Über 😀', body: { message: { body: 'Hello' } } },
};

describe('an occurrence message', () => {
  it('reaches the queue as the worker reads it, with its project and uuid as attributes', async () => {
    await new SqsOccurrenceQueue(queues.client, queues.queues.ingest.url).send(message);
    const { Messages = [] } = await queues.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queues.ingest.url,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    expect(Messages).toHaveLength(1);
    expect(Messages[0]!.Body).toBe(occurrenceMessageBody(message));
    expect(occurrenceMessageSchema.parse(JSON.parse(Messages[0]!.Body!))).toEqual(message);
    expect(Messages[0]!.MessageAttributes).toMatchObject({
      project_id: { DataType: 'Number', StringValue: '7' },
      uuid: { DataType: 'String', StringValue: message.uuid },
    });
  });

  it('that the queue refuses fails the send, so ingest does not answer that it was kept', async () => {
    const queue = new SqsOccurrenceQueue(queues.client, `${queues.queues.ingest.url}-missing`);
    await expect(queue.send(message)).rejects.toThrow();
  });
});
