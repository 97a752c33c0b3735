// The forwarder against two fauxqs servers standing for two regions: an edge's ingest queue and the
// home's. Bodies and attributes arrive unchanged, big batches are split under SQS's limits, and what
// cannot be sent (home unreachable, an entry refused) waits in the edge queue, pushed back; a pipeline
// region's worker re-sends it to its own queue instead, so its dead-letter queue never takes it.
import { createServer } from 'node:net';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toRecord } from '#infra/local/sqs-poller';
import {
  createForwarder,
  type Forwarder,
  LONGEST_RETRY_SECONDS,
  messageBytes,
  type ReceivedMessage,
  receivedMessageOf,
  retryDelaySeconds,
  SEND_BATCH_LIMITS,
  sendBatchesOf,
  WAITING_ATTRIBUTES,
} from '#shared/regions/forwarder';
import { LOCAL_RETRY_SCHEDULE_VAR, regionSettings } from '#shared/regions/settings';
import { queues as queueDeclarations } from '#shared/wiring/topology';
import { credentials, type Queues, region, startQueues } from '../../support/emulators';

let edge: Queues;
let home: Queues;
let forwarder: Forwarder;
let unreachableUrl: string;
let smallQueueUrl: string;
const clients: SQSClient[] = [];

/** A port nobody listens on: one the system gave and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  [edge, home] = await Promise.all([startQueues({ prefix: 'edge' }), startQueues({ prefix: 'home' })]);
  // A home queue that takes messages of at most 2 KiB: larger entries of a batch fail alone.
  smallQueueUrl = home.server.createQueue('home-small', {
    attributes: { MaximumMessageSize: '2048' },
  }).queueUrl;
  unreachableUrl = `http://sqs.us-west-2.localhost:${await closedPort()}/000000000000/gone-ingest`;
  forwarder = createForwarder(forwarderOptions());
}, 60_000);

function forwarderOptions() {
  return {
    queueUrl: edge.queues.ingest.url,
    pipelineQueues: {
      'us-east-1': home.queues.ingest.url,
      'us-west-2': unreachableUrl,
      'eu-west-1': smallQueueUrl,
    },
    sqs: edge.client,
    sqsFor: (target: string) => {
      const endpoint = target === 'us-west-2' ? new URL(unreachableUrl).origin : home.endpoint;
      const client = new SQSClient({ endpoint, region, credentials, maxAttempts: 1 });
      clients.push(client);
      return client;
    },
  };
}

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all([edge?.stop(), home?.stop()]);
});

/** Sends these bodies to the edge queue and receives them as Lambda would hand them over. */
async function receivedAtEdge(
  bodies: string[],
  attributes: (index: number) => ReceivedMessage['attributes'] = () => ({}),
): Promise<ReceivedMessage[]> {
  for (const [index, body] of bodies.entries()) {
    await edge.client.send(
      new SendMessageCommand({
        QueueUrl: edge.queues.ingest.url,
        MessageBody: body,
        MessageAttributes: attributes(index),
      }),
    );
  }
  const received: ReceivedMessage[] = [];
  while (received.length < bodies.length) {
    const output = await edge.client.send(
      new ReceiveMessageCommand({
        QueueUrl: edge.queues.ingest.url,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of output.Messages ?? []) {
      received.push(receivedMessageOf(toRecord(message, { queueArn: edge.queues.ingest.arn })));
    }
  }
  return received;
}

async function drain(client: SQSClient, queueUrl: string, expected: number) {
  const messages = [];
  for (let round = 0; round < 20 && messages.length < expected; round++) {
    const output = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    messages.push(...(output.Messages ?? []));
  }
  return messages;
}

/** Seconds until each in-flight message of the edge queue is received again. */
function secondsUntilVisible(): number[] {
  const inflight = edge.server.inspectQueue('edge-IngestQueue')?.messages.inflight ?? [];
  return inflight.map((entry) => (entry.visibilityDeadline - Date.now()) / 1000);
}

describe('forwarding to the home region', () => {
  // What a test leaves in flight (Lambda would delete what was forwarded) is not the next one's.
  beforeEach(() => {
    edge.server.reset();
    home.server.reset();
  });

  it('moves a batch to the home queue with its bodies and attributes unchanged', async () => {
    const bodies = ['{"uuid":"a","data":"é ✓ 🚀"}', '{"uuid":"b"}', '{"uuid":"c"}'];
    const received = await receivedAtEdge(bodies, (index) => ({
      project_id: { DataType: 'Number', StringValue: String(index + 1) },
      uuid: { DataType: 'String', StringValue: `uuid-${index}` },
      signature: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 255, index]) },
    }));

    const report = await forwarder.forward(received, 'us-east-1');

    expect(report).toEqual({ forwarded: 3, failedMessageIds: [] });
    const arrived = await drain(home.client, home.queues.ingest.url, 3);
    expect(arrived.map((message) => message.Body).sort()).toEqual([...bodies].sort());
    const first = arrived.find((message) => message.Body === bodies[0])!;
    expect(first.MessageAttributes?.project_id).toMatchObject({ DataType: 'Number', StringValue: '1' });
    expect(first.MessageAttributes?.uuid).toMatchObject({ DataType: 'String', StringValue: 'uuid-0' });
    expect([...(first.MessageAttributes?.signature?.BinaryValue ?? [])]).toEqual([0, 255, 0]);
  });

  it('splits a batch larger than SendMessageBatch takes in one call, and every message arrives', async () => {
    // Five messages of 300 KB: 1.5 MB in all, which one call would have refused whole.
    const bodies = Array.from({ length: 5 }, (_, index) => `${index}:${'x'.repeat(300_000)}`);
    const received = await receivedAtEdge(bodies);

    const report = await forwarder.forward(received, 'us-east-1');

    expect(report).toEqual({ forwarded: 5, failedMessageIds: [] });
    const arrived = await drain(home.client, home.queues.ingest.url, 5);
    expect(arrived.map((message) => message.Body?.slice(0, 2)).sort()).toEqual([
      '0:',
      '1:',
      '2:',
      '3:',
      '4:',
    ]);
  });

  it('keeps every message at the edge while home is unreachable, back again in 10 s rather than minutes', async () => {
    const received = await receivedAtEdge(['{"uuid":"d"}', '{"uuid":"e"}']);

    const report = await forwarder.forward(received, 'us-west-2');

    expect(report.forwarded).toBe(0);
    expect(report.failedMessageIds.sort()).toEqual(received.map((message) => message.messageId).sort());
    // Pushed back by the first back-off (10 s), not left to the queue's 180 s visibility timeout.
    const waits = secondsUntilVisible();
    expect(waits).toHaveLength(2);
    for (const wait of waits) {
      expect(wait).toBeGreaterThan(5);
      expect(wait).toBeLessThanOrEqual(10);
    }
  });

  it('fails only the entries home refuses in a partly failed batch, and pushes only those back', async () => {
    const big = JSON.stringify({ uuid: 'big', data: 'y'.repeat(4_000) });
    const received = await receivedAtEdge(['{"uuid":"f"}', big, '{"uuid":"g"}']);

    const report = await forwarder.forward(received, 'eu-west-1');

    const bigId = received.find((message) => message.body === big)!.messageId;
    expect(report).toEqual({ forwarded: 2, failedMessageIds: [bigId] });
    expect((await drain(home.client, smallQueueUrl, 2)).map((message) => message.Body).sort()).toEqual([
      '{"uuid":"f"}',
      '{"uuid":"g"}',
    ]);
    // Only the refused one had its visibility changed (the others keep the queue's 180 s, and Lambda deletes them).
    const waits = secondsUntilVisible().sort((a, b) => a - b);
    expect(waits[0]).toBeLessThanOrEqual(10);
    expect(waits.filter((wait) => wait <= 10)).toHaveLength(1);
  });

  it('holds a batch back without sending it anywhere', async () => {
    const received = await receivedAtEdge(['{"uuid":"h"}']);
    const report = await forwarder.holdBack(received);
    expect(report).toEqual({ forwarded: 0, failedMessageIds: [received[0]!.messageId] });
    expect(secondsUntilVisible()[0]).toBeLessThanOrEqual(10);
  });
});

describe("a pipeline region's worker forwarding while home is unreachable", () => {
  beforeEach(() => {
    edge.server.reset();
    home.server.reset();
  });

  /** Receives what is visible in the worker's queue now, as Lambda hands it over. */
  async function receiveVisible(): Promise<ReceivedMessage[]> {
    const output = await edge.client.send(
      new ReceiveMessageCommand({
        QueueUrl: edge.queues.ingest.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return (output.Messages ?? []).map((message) =>
      receivedMessageOf(toRecord(message, { queueArn: edge.queues.ingest.arn })),
    );
  }

  /** Lambda's part after an invocation: deletes what the function did not report failed. */
  async function acknowledge(received: ReceivedMessage[], failedMessageIds: string[]): Promise<void> {
    const done = received.filter((message) => !failedMessageIds.includes(message.messageId));
    if (done.length === 0) return;
    await edge.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: edge.queues.ingest.url,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.receiptHandle! })),
      }),
    );
  }

  it('re-sends what it cannot forward to its own queue, delayed by the back-off, and acknowledges what it received', async () => {
    const requeuing = createForwarder({ ...forwarderOptions(), waiting: 'requeue' });
    const received = await receivedAtEdge(['{"uuid":"w"}'], () => ({
      uuid: { DataType: 'String', StringValue: 'w' },
    }));

    const report = await requeuing.forward(received, 'us-west-2');

    expect(report).toEqual({ forwarded: 0, failedMessageIds: [], requeued: 1 });
    const delayed = edge.server.inspectQueue('edge-IngestQueue')?.messages.delayed ?? [];
    expect(delayed).toHaveLength(1);
    expect(delayed[0]!.body).toBe('{"uuid":"w"}');
    const wait = (delayed[0]!.delayUntil! - Date.now()) / 1000;
    expect(wait).toBeGreaterThan(5);
    expect(wait).toBeLessThanOrEqual(10);
    expect(delayed[0]!.messageAttributes[WAITING_ATTRIBUTES.attempts]?.StringValue).toBe('1');
  });

  it('never lets its dead-letter queue take a message however often home fails, and forwards it unchanged when home returns', async () => {
    // No delay between attempts, so the test runs through more receives than the queue allows in a moment.
    const requeuing = createForwarder({
      ...forwarderOptions(),
      waiting: 'requeue',
      retrySchedule: { firstSeconds: 0, longestSeconds: 0 },
    });
    const original = { uuid: { DataType: 'String', StringValue: 'outlasting' } };
    await edge.client.send(
      new SendMessageCommand({
        QueueUrl: edge.queues.ingest.url,
        MessageBody: '{"uuid":"outlasting"}',
        MessageAttributes: original,
      }),
    );
    const attempts = queueDeclarations.ingest.maxReceiveCount + 3;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const received = await receiveVisible();
      expect(received).toHaveLength(1);
      const report = await requeuing.forward(received, 'us-west-2');
      expect(report.requeued).toBe(1);
      await acknowledge(received, report.failedMessageIds);
    }
    const deadLetters = await edge.client.send(
      new ReceiveMessageCommand({ QueueUrl: edge.queues.ingest.deadLetterUrl, MaxNumberOfMessages: 10 }),
    );
    expect(deadLetters.Messages ?? []).toHaveLength(0);

    // Home is back: the message arrives there as ingest sent it, without the attributes it waited with.
    const received = await receiveVisible();
    expect(received[0]!.attributes[WAITING_ATTRIBUTES.attempts]?.StringValue).toBe(String(attempts));
    const report = await requeuing.forward(received, 'us-east-1');
    expect(report).toEqual({ forwarded: 1, failedMessageIds: [], requeued: 0 });
    await acknowledge(received, report.failedMessageIds);
    const arrived = await drain(home.client, home.queues.ingest.url, 1);
    expect(arrived.map((message) => message.Body)).toEqual(['{"uuid":"outlasting"}']);
    expect(Object.keys(arrived[0]!.MessageAttributes ?? {})).toEqual(['uuid']);
  });

  it('holds a batch during a promotion by re-sending it to wait, not by spending its receives', async () => {
    const requeuing = createForwarder({ ...forwarderOptions(), waiting: 'requeue' });
    const received = await receivedAtEdge(['{"uuid":"held"}']);
    expect(await requeuing.holdBack(received)).toEqual({ forwarded: 0, failedMessageIds: [], requeued: 1 });
    expect(edge.server.inspectQueue('edge-IngestQueue')?.messages.delayed).toHaveLength(1);
  });

  it('falls back to pushing a message back when even re-sending it to its own queue fails', async () => {
    const cutOff = new SQSClient({
      endpoint: new URL(unreachableUrl).origin,
      region,
      credentials,
      maxAttempts: 1,
    });
    clients.push(cutOff);
    const received = await receivedAtEdge(['{"uuid":"stuck"}']);
    // Its own queue refuses too (an SQS outage in its own region): the receive is pushed back instead.
    const requeuing = createForwarder({ ...forwarderOptions(), waiting: 'requeue', sqs: cutOff });
    const report = await requeuing.forward(received, 'us-west-2');
    expect(report).toEqual({ forwarded: 0, failedMessageIds: [received[0]!.messageId], requeued: 0 });
  });
});

describe('the back-off and the batches', () => {
  it('doubles from 10 s at each receive and never waits more than 5 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((attempt) => retryDelaySeconds(attempt))).toEqual([
      10, 20, 40, 80, 160, 300, 300, 300,
    ]);
    expect(LONGEST_RETRY_SECONDS).toBe(300);
  });

  it('takes a shorter schedule from the environment only where the local stack runs', () => {
    const env = {
      FAULTLINE_REGION: 'eu-west-1',
      FAULTLINE_INITIAL_HOME: 'us-east-1',
      [LOCAL_RETRY_SCHEDULE_VAR]: '5,15',
    };
    expect(regionSettings(env)?.retrySchedule).toBeUndefined();
    const local = regionSettings({ ...env, FAULTLINE_LOCAL: '1' })?.retrySchedule;
    expect(local).toEqual({ firstSeconds: 5, longestSeconds: 15 });
    expect([1, 2, 3].map((attempt) => retryDelaySeconds(attempt, local))).toEqual([5, 10, 15]);
  });

  it('puts at most 10 messages and at most 1 MiB, attributes counted, in one call', () => {
    const message = (bytes: number) => ({
      body: 'z'.repeat(bytes),
      attributes: { uuid: { DataType: 'String', StringValue: 'u'.repeat(36) } },
    });
    const small = Array.from({ length: 25 }, () => message(10));
    expect(sendBatchesOf(small).map((batch) => batch.length)).toEqual([10, 10, 5]);
    // Two bodies that fit exactly without their attributes do not fit with them.
    const half = SEND_BATCH_LIMITS.bytes / 2;
    expect(sendBatchesOf([message(half), message(half)]).map((batch) => batch.length)).toEqual([1, 1]);
    expect(messageBytes(message(10))).toBe(10 + 'uuid'.length + 'String'.length + 36);
    // A message as large as SQS allows goes alone.
    expect(sendBatchesOf([message(10), message(SEND_BATCH_LIMITS.bytes - 100), message(10)])).toHaveLength(3);
  });
});
