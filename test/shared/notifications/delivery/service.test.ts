// The sender on the real emulators (DynamoDB Local, fauxqs) posting through the real outbound client
// to a local HTTP receiver: one post per delivery however often it is queued or however many senders
// race, retries that come back when the vendor said, a destination's pace shared between senders.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import type { Channel } from '#shared/notifications/channel';
import { sendAndClassify } from '#shared/notifications/channels/outcome';
import { createSender } from '#shared/notifications/delivery/sender';
import {
  createDeliveryService,
  type ReceivedMessage,
  START_RESERVE_MS,
} from '#shared/notifications/delivery/service';
import { type DeliveryMessage, deliveryKey } from '#shared/notifications/model';
import { createOutboundHttp } from '#shared/notifications/outbound-http';
import { createSecretBox } from '#shared/notifications/secrets';
import { SqsDeliveryReturns } from '#shared/queue/notification-queue';
import { DynamoDBDeliveryLog } from '#shared/store/delivery-log';
import { DynamoDBDeliveryRecords } from '#shared/store/delivery-records';
import { DynamoDBDestinationPace } from '#shared/store/destination-pace';
import { DynamoDBRuleRepository } from '#shared/store/notification-rules';
import { type Dynamo, type Queues, startDynamoWithTables, startQueues } from '../../../support/emulators';

/** What the receiver answers on one path, in turn (the last repeated). */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Hold the answer this long (a slow vendor). */
  delayMs?: number;
}

interface Received {
  path: string;
  at: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A vendor on loopback: records each request and answers as scripted per path. */
class Receiver {
  readonly requests: Received[] = [];
  private readonly answers = new Map<string, Answer[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '';
        this.requests.push({
          path,
          at: Date.now(),
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const script = this.answers.get(path) ?? [{ status: 200 }];
        const seen = this.requests.filter((received) => received.path === path).length;
        const answer = script[Math.min(seen - 1, script.length - 1)] ?? { status: 200 };
        setTimeout(() => {
          response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
          response.end(answer.status < 300 ? 'ok' : 'not now');
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  answer(path: string, ...answers: Answer[]): string {
    this.answers.set(path, answers);
    return `${this.url}${path}`;
  }

  posts(path: string): Received[] {
    return this.requests.filter((received) => received.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * A test-only channel: posts the event to the rule's URL through the real outbound client, as the
 * webhook channel does; destinations under `/paced/` take one message a second.
 */
const testChannel: Channel<'webhook'> = {
  name: 'webhook',
  deliver: ({ rule, event, deliveryKey: key, http }) =>
    sendAndClassify(http, {
      method: 'POST',
      url: rule.config.url,
      headers: { 'content-type': 'application/json', 'webhook-id': key },
      body: JSON.stringify({ event_name: event.trigger, data: { item: event.item ?? null } }),
    }),
  rateLimit: (config) => (config.url.includes('/paced/') ? { key: config.url, perSecond: 1 } : undefined),
};

let dynamo: Dynamo & { tableNames: Record<'notifications', string> };
let queues: Queues;
let documents: DynamoDBDocumentClient;
let rules: DynamoDBRuleRepository;
let deliveryLog: DynamoDBDeliveryLog;
const receiver = new Receiver();
let queueUrl: string;
let deadLetterUrl: string;

beforeAll(async () => {
  [dynamo, queues] = await Promise.all([
    startDynamoWithTables('delivery'),
    startQueues({ prefix: 'delivery' }),
  ]);
  documents = createDocumentClient(dynamo.client);
  rules = new DynamoDBRuleRepository(
    documents,
    dynamo.tableNames.notifications,
    createSecretBox(randomBytes(32)),
  );
  deliveryLog = new DynamoDBDeliveryLog(documents, dynamo.tableNames.notifications);
  queueUrl = queues.queues.notifications.url;
  deadLetterUrl = queues.queues.notifications.deadLetterUrl;
  await receiver.start();
});

afterEach(async () => {
  await queues.client.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
});

afterAll(async () => {
  await receiver.stop();
  await queues?.stop();
  await dynamo?.stop();
});

/** One sender, as one Lambda container builds it, on the emulators. */
function newSenderService() {
  const table = dynamo.tableNames.notifications;
  return createDeliveryService({
    sender: createSender({
      rules,
      records: new DynamoDBDeliveryRecords(documents, table),
      log: deliveryLog,
      pace: new DynamoDBDestinationPace(documents, table),
      channels: { webhook: testChannel },
      http: createOutboundHttp({
        allowLoopback: true,
        httpsOnly: false,
        timeoutMs: 5_000,
        maxResponseBytes: 65_536,
      }),
      email: { send: () => Promise.reject(new Error('no email in this test')) },
      links: { get: async () => undefined, put: async () => {} },
      publicUrl: '',
      leaseMs: 60_000,
      maxReceives: 10,
      // No jitter: a hint of 2 s is exactly 2 s.
      random: () => 0,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    }),
    queue: new SqsDeliveryReturns(queues.client, queueUrl),
  });
}

let eventCounter = 0;

async function ruleFor(url: string) {
  return rules.create(
    1,
    { channel: 'webhook', trigger: 'new_item', status: 'enabled', filters: [], config: { url } },
    1_790_000_000,
  );
}

function messageFor(ruleId: number, eventId = `evt-${++eventCounter}`): DeliveryMessage {
  return {
    key: deliveryKey(eventId, ruleId),
    project_id: 1,
    rule_id: ruleId,
    channel: 'webhook',
    event: { id: eventId, trigger: 'new_item', project_id: 1, occurred_at: Date.now() },
    attempt: 1,
    queued_at: Date.now(),
  };
}

async function enqueue(message: DeliveryMessage | string): Promise<void> {
  await queues.client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: typeof message === 'string' ? message : JSON.stringify(message),
    }),
  );
}

async function receive(max = 10): Promise<ReceivedMessage[]> {
  const { Messages = [] } = await queues.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  return Messages.map((message) => ({
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
  }));
}

/** Plays Lambda's event source mapping once: the batch to the sender, the acked ones deleted. */
async function runBatch(
  deliver: ReturnType<typeof newSenderService>,
  messages: ReceivedMessage[],
): Promise<string[]> {
  const kept = await deliver(messages);
  const done = messages.filter((message) => !kept.includes(message.messageId));
  if (done.length > 0) {
    await queues.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.receiptHandle })),
      }),
    );
  }
  return kept;
}

async function messagesIn(url: string): Promise<number> {
  const { Attributes = {} } = await queues.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the sender on the emulators', () => {
  it('near the end of its time, a delivery is handed back unstarted, visible at once, and posted next time', async () => {
    const url = receiver.answer('/late');
    const rule = await ruleFor(url);
    await enqueue(messageFor(rule.id));
    const deliver = newSenderService();
    const [first] = await receive(1);
    expect(await deliver([first!], () => START_RESERVE_MS - 1)).toEqual([first!.messageId]);
    expect(receiver.posts('/late')).toHaveLength(0);
    // Visible again at once, and not claimed: the next batch delivers it.
    const again = await receive(1);
    expect(again).toHaveLength(1);
    expect(await runBatch(deliver, again)).toEqual([]);
    expect(receiver.posts('/late')).toHaveLength(1);
  });

  it('a delivery queued twice (a second fan-out run) posts once, and both messages are deleted', async () => {
    const url = receiver.answer('/twice');
    const rule = await ruleFor(url);
    const message = messageFor(rule.id);
    await enqueue(message);
    await enqueue(message);
    const deliver = newSenderService();
    for (const batch of [await receive(1), await receive(1)]) {
      expect(batch).toHaveLength(1);
      expect(await runBatch(deliver, batch)).toEqual([]);
    }
    expect(receiver.posts('/twice')).toHaveLength(1);
    expect(receiver.posts('/twice')[0]?.headers['webhook-id']).toBe(message.key);
    expect(await messagesIn(queueUrl)).toBe(0);
  });

  it('a receiver answering 500 then 200 gets one successful delivery, and the log shows both attempts', async () => {
    const url = receiver.answer('/flaky', { status: 500, headers: { 'retry-after': '1' } }, { status: 200 });
    const rule = await ruleFor(url);
    await enqueue(messageFor(rule.id));
    const deliver = newSenderService();
    const first = await receive();
    expect(await runBatch(deliver, first)).toEqual([first[0]?.messageId]);
    let second: ReceivedMessage[] = [];
    for (let tries = 0; second.length === 0 && tries < 40; tries += 1) {
      await sleep(100);
      second = await receive();
    }
    expect(second[0]?.receiveCount).toBe(2);
    expect(await runBatch(deliver, second)).toEqual([]);

    expect(receiver.posts('/flaky').length).toBe(2);
    const log = await deliveryLog.recent(rule.id);
    expect(log.map((entry) => [entry.attempt, entry.status, entry.http_status])).toEqual([
      [2, 'sent', 200],
      [1, 'retrying', 500],
    ]);
    expect(await messagesIn(queueUrl)).toBe(0);
  });

  it('a 429 with Retry-After 2 makes the message visible again after 2 s, not before', async () => {
    const url = receiver.answer(
      '/throttled',
      { status: 429, headers: { 'retry-after': '2' } },
      { status: 200 },
    );
    const rule = await ruleFor(url);
    await enqueue(messageFor(rule.id));
    const deliver = newSenderService();
    const first = await receive();
    await runBatch(deliver, first);
    const returned = Date.now();

    let again: ReceivedMessage[] = [];
    let visibleAt = 0;
    while (again.length === 0 && Date.now() - returned < 6_000) {
      again = await receive();
      visibleAt = Date.now();
      if (again.length === 0) await sleep(100);
    }
    // Hidden for the vendor's 2 s (measured from after the visibility was set), then back.
    expect(again).toHaveLength(1);
    expect(visibleAt - returned).toBeGreaterThanOrEqual(1_900);
    expect(visibleAt - returned).toBeLessThan(3_500);
    expect(again[0]?.receiveCount).toBe(2);
    await runBatch(deliver, again);
    expect(receiver.posts('/throttled')).toHaveLength(2);
  });

  it('two senders racing on one delivery post it once', async () => {
    const url = receiver.answer('/race', { status: 200, delayMs: 300 });
    const rule = await ruleFor(url);
    const message = messageFor(rule.id);
    await enqueue(message);
    await enqueue(message);
    const [one, two] = [await receive(1), await receive(1)];
    const kept = await Promise.all([runBatch(newSenderService(), one), runBatch(newSenderService(), two)]);
    expect(kept).toEqual([[], []]);
    expect(receiver.posts('/race')).toHaveLength(1);
  });

  it('two deliveries to one destination at one a second reach it at least a second apart, from two senders', async () => {
    const url = receiver.answer('/paced/slack');
    const rule = await ruleFor(url);
    // A first delivery elsewhere warms the emulator: a cold JVM's round trips are slower than the margin.
    await enqueue(messageFor((await ruleFor(receiver.answer('/warm-up'))).id));
    await runBatch(newSenderService(), await receive());
    await enqueue(messageFor(rule.id));
    await enqueue(messageFor(rule.id));
    const [one, two] = [await receive(1), await receive(1)];
    await Promise.all([runBatch(newSenderService(), one), runBatch(newSenderService(), two)]);
    const times = receiver.posts('/paced/slack').map((received) => received.at);
    expect(times).toHaveLength(2);
    expect(Math.abs(times[1]! - times[0]!)).toBeGreaterThanOrEqual(950);
  });

  it('a slow destination does not hold up another rule in the same batch', async () => {
    const slowUrl = receiver.answer('/slow', { status: 200, delayMs: 1_500 });
    const fastUrl = receiver.answer('/fast');
    const [slow, fast] = [await ruleFor(slowUrl), await ruleFor(fastUrl)];
    await enqueue(messageFor(slow.id));
    await enqueue(messageFor(fast.id));
    const batch = [...(await receive(1)), ...(await receive(1))];
    const started = Date.now();
    await runBatch(newSenderService(), batch);
    const fastAt = receiver.posts('/fast')[0]?.at ?? Number.POSITIVE_INFINITY;
    expect(fastAt - started).toBeLessThan(1_000);
    expect(receiver.posts('/slow')).toHaveLength(1);
  });

  it('a message that is not a delivery ends in the dead-letter queue after its receives, posting nothing', async () => {
    await enqueue('{"not":"a delivery"}');
    const deliver = newSenderService();
    const before = receiver.requests.length;
    for (let receives = 0; receives < 11; receives += 1) {
      const batch = await receive();
      if (batch.length === 0) break;
      expect(await runBatch(deliver, batch)).toHaveLength(1);
    }
    expect(await messagesIn(queueUrl)).toBe(0);
    expect(await messagesIn(deadLetterUrl)).toBe(1);
    expect(receiver.requests.length).toBe(before);
  });
});
