// The SQS poller plays Lambda's event source mapping on fauxqs: batches, partial failures, dead-letter queue.
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadedFunction } from '#infra/local/lambda-runtime';
import { type SqsPoller, startSqsPoller } from '#infra/local/sqs-poller';
import { type Queues, startQueues } from '../../support/emulators';

const running: Array<SqsPoller | Queues> = [];

afterEach(async () => {
  // Pollers first (they were pushed after their queues), then fauxqs.
  for (const resource of running.splice(0).reverse()) await resource.stop();
});

type SqsHandler = (event: SQSEvent) => SQSBatchResponse | undefined | Promise<SQSBatchResponse | undefined>;

async function setUp(
  handler: SqsHandler,
  options: { visibilityTimeout: number; batchSize?: number; windowSeconds?: number },
): Promise<{ queues: Queues; poller: SqsPoller; send(bodies: string[]): Promise<void> }> {
  const queues = await startQueues({ visibilityTimeoutOverrides: { ingest: options.visibilityTimeout } });
  running.push(queues);
  const send = async (bodies: string[]): Promise<void> => {
    for (let start = 0; start < bodies.length; start += 10) {
      await queues.client.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.queues.ingest.url,
          Entries: bodies.slice(start, start + 10).map((body, index) => ({
            Id: String(index),
            MessageBody: body,
            MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
          })),
        }),
      );
    }
  };
  const fn: LoadedFunction = {
    name: 'queueConsumer',
    entry: 'inline',
    timeoutSeconds: 5,
    memoryMb: 128,
    handler: async (event) => handler(event as SQSEvent),
  };
  const start = (): SqsPoller => {
    const poller = startSqsPoller({
      client: queues.client,
      queueUrl: queues.queues.ingest.url,
      queueArn: queues.queues.ingest.arn,
      function: fn,
      batchSize: options.batchSize ?? 10,
      maxBatchingWindowSeconds: options.windowSeconds ?? 0,
      logError: () => {},
    });
    running.push(poller);
    return poller;
  };
  return { queues, send, poller: start() };
}

async function count(queues: Queues, url: string): Promise<number> {
  const { Attributes: attributes = {} } = await queues.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(attributes.ApproximateNumberOfMessages) + Number(attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

describe('the SQS poller', () => {
  it('gathers up to the batch size within the batching window and builds Lambda-shaped records', async () => {
    const batches: SQSRecord[][] = [];
    const { queues, poller, send } = await setUp((event) => void batches.push(event.Records), {
      visibilityTimeout: 30,
      batchSize: 25,
      windowSeconds: 1,
    });
    await send(Array.from({ length: 25 }, (_, i) => `message ${i}`));
    await poller.idle();

    // More than one ReceiveMessage's worth (10) in one invocation: the window gathered them.
    expect(batches.flat()).toHaveLength(25);
    expect(batches[0]?.length).toBeGreaterThan(10);
    expect(new Set(batches.flat().map((record) => record.body)).size).toBe(25);
    expect(batches[0]?.[0]).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: queues.queues.ingest.arn,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d+$/) },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'test' } },
    });
    expect(await count(queues, queues.queues.ingest.url)).toBe(0);
  });

  it('deletes the succeeded messages and redelivers only the reported failures', async () => {
    const seen: Array<{ body: string; receiveCount: string }> = [];
    const { queues, poller, send } = await setUp(
      (event) => {
        seen.push(
          ...event.Records.map((record) => ({
            body: record.body,
            receiveCount: record.attributes.ApproximateReceiveCount,
          })),
        );
        const failures = event.Records.filter(
          (record) => record.body === 'flaky' && record.attributes.ApproximateReceiveCount === '1',
        );
        return { batchItemFailures: failures.map((record) => ({ itemIdentifier: record.messageId })) };
      },
      { visibilityTimeout: 1, windowSeconds: 0.3 },
    );
    await send(['ok 1', 'flaky', 'ok 2']);
    await poller.idle();

    expect(seen.filter((entry) => entry.body !== 'flaky').map((entry) => entry.receiveCount)).toEqual([
      '1',
      '1',
    ]);
    expect(seen.filter((entry) => entry.body === 'flaky')).toEqual([
      { body: 'flaky', receiveCount: '1' },
      { body: 'flaky', receiveCount: '2' },
    ]);
    expect(await count(queues, queues.queues.ingest.deadLetterUrl)).toBe(0);
  });

  it('deletes nothing when the invocation throws: the whole batch comes back', async () => {
    const attempts: string[][] = [];
    const { poller, send } = await setUp(
      (event) => {
        attempts.push(event.Records.map((record) => record.body).sort());
        if (attempts.length === 1) throw new Error('the batch failed');
        return undefined;
      },
      { visibilityTimeout: 1, windowSeconds: 0.3 },
    );
    await send(['one', 'two']);
    await poller.idle();
    expect(attempts.flat().sort()).toEqual(['one', 'one', 'two', 'two']);
  });

  it('moves a poison message to the dead-letter queue after maxReceiveCount receives', async () => {
    let deliveries = 0;
    const { queues, poller, send } = await setUp(
      (event) => {
        deliveries += event.Records.length;
        throw new Error('poison');
      },
      { visibilityTimeout: 1 },
    );
    await send(['poison']);
    await poller.idle({ timeoutMs: 15_000 });

    expect(deliveries).toBe(5);
    const { Messages: deadLetters = [] } = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queues.ingest.deadLetterUrl, MaxNumberOfMessages: 10 }),
    );
    expect(deadLetters.map((message) => message.Body)).toEqual(['poison']);
  });

  it('stops promptly while long-polling an empty queue', async () => {
    const { poller } = await setUp(() => undefined, { visibilityTimeout: 30 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await poller.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
