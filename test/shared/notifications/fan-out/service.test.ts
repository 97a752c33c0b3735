// The fan-out on DynamoDB Local and fauxqs: real item and deploy writes, their records read from the
// items table's real stream, rules from the rule repository, deliveries read back from the queue.
// Also the daily summaries' schedule over the tallies the fan-out wrote.
import { randomBytes } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planUserChange } from '#shared/items/rules';
import { createDailySummaries } from '#shared/notifications/daily-summary/service';
import { RuleCache } from '#shared/notifications/fan-out/rule-cache';
import { createFanOut, lastOccurrencesOf } from '#shared/notifications/fan-out/service';
import type { DeliveryMessage, RuleFilter } from '#shared/notifications/model';
import { createSecretBox } from '#shared/notifications/secrets';
import { type DeliveryQueue, DeliveryQueueError, SqsDeliveryQueue } from '#shared/queue/notification-queue';
import { DynamoDBDailySummaries } from '#shared/store/daily-summaries';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBNoiseStore } from '#shared/store/notification-noise';
import { DynamoDBRuleRepository, type RuleDraft } from '#shared/store/notification-rules';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { type Queues, startQueues } from '../../../support/emulators';
import { type FoldTables, openFoldTables } from '../../../support/fold-tables';
import { type ItemsStream, openItemsStream } from '../../../support/items-stream';
import { errorData, occurrence } from '../../../support/occurrences';

let tables: FoldTables;
let queues: Queues;
let stream: ItemsStream;
let rules: DynamoDBRuleRepository;
let notificationsTable: string;
let sqsQueue: SqsDeliveryQueue;

beforeAll(async () => {
  tables = await openFoldTables('fan-out');
  queues = await startQueues({ prefix: 'fan-out' });
  // Every declared table is created; the fold's helper names only its own.
  notificationsTable = (tables.dynamo.tableNames as Record<string, string>).notifications!;
  rules = new DynamoDBRuleRepository(tables.documents, notificationsTable, createSecretBox(randomBytes(32)));
  stream = await openItemsStream(
    tables.dynamo.client,
    tables.dynamo.streamsClient,
    tables.dynamo.tableNames.items,
  );
  sqsQueue = new SqsDeliveryQueue(queues.client, queues.queues.notifications.url);
}, 60_000);

afterAll(async () => {
  await queues?.stop();
  await tables?.stop();
});

/** The fan-out as its handler builds it; rules read afresh on every record so a test's rule applies at once. */
function fanOut(queue: DeliveryQueue = sqsQueue) {
  const noise = new DynamoDBNoiseStore(tables.documents, notificationsTable);
  return createFanOut({
    rules: new RuleCache((projectId) => rules.list(projectId), { ttlMs: 0 }),
    occurrences: lastOccurrencesOf(
      new DynamoDBOccurrenceRepository(
        tables.documents,
        tables.dynamo.tableNames.occurrences,
        new DynamoDBPayloadCodec(tables.documents, tables.dynamo.tableNames.occurrences),
      ),
    ),
    noise,
    rates: noise,
    summaries: new DynamoDBDailySummaries(tables.documents, notificationsTable),
    queue,
  });
}

/** Everything on the notification queue now, taken off it. */
async function delivered(): Promise<DeliveryMessage[]> {
  const messages: DeliveryMessage[] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await queues.client.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queues.notifications.url, MaxNumberOfMessages: 10 }),
    );
    if (Messages.length === 0) empty++;
    for (const message of Messages) {
      messages.push(JSON.parse(message.Body!) as DeliveryMessage);
      await queues.client.send(
        new DeleteMessageCommand({
          QueueUrl: queues.queues.notifications.url,
          ReceiptHandle: message.ReceiptHandle,
        }),
      );
    }
  }
  return messages.sort((a, b) => a.key.localeCompare(b.key));
}

const draft = (overrides: Partial<RuleDraft>): RuleDraft => ({
  channel: 'webhook',
  trigger: 'new_item',
  status: 'enabled',
  filters: [],
  config: { url: 'https://hooks.example.com/faultline' },
  ...overrides,
});

/** Stores and folds occurrences of one error as one fold step; the step's item records from the stream. */
async function step(projectId: number, count: number, className = 'TypeError'): Promise<DynamoDBRecord[]> {
  const batch = Array.from({ length: count }, () => occurrence(projectId, errorData({ className })));
  await tables.folder().fold(await tables.store(batch));
  return stream.readNew(projectId);
}

describe('the fan-out', () => {
  it('a new item with a matching rule queues one delivery, keyed by the event and the rule, with the occurrence for a webhook', async () => {
    const projectId = await tables.newProject();
    const rule = await rules.create(
      projectId,
      draft({ filters: [{ type: 'environment', operation: 'eq', value: 'production' }] }),
      1,
    );
    const records = await step(projectId, 1);
    expect(records).toHaveLength(1);

    expect(await fanOut()(records)).toEqual({ batchItemFailures: [] });
    const messages = await delivered();
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      key: `${records[0]!.eventID}:new_item#${rule.id}`,
      project_id: projectId,
      rule_id: rule.id,
      channel: 'webhook',
      attempt: 1,
      event: { trigger: 'new_item', item: { counter: 1, total_occurrences: 1, environment: 'production' } },
    });
    const { item, occurrence: last } = messages[0]!.event;
    expect(last?.uuid).toBe(item?.last_occurrence_id);
    expect(last?.data).toMatchObject({
      environment: 'production',
      body: { trace: { exception: { class: 'TypeError' } } },
    });

    // The same batch delivered again queues the same key, which the sender posts once.
    expect(await fanOut()(records)).toEqual({ batchItemFailures: [] });
    expect((await delivered()).map((message) => message.key)).toEqual([messages[0]!.key]);
  });

  it.each<[string, RuleFilter[]]>([
    ['another environment', [{ type: 'environment', operation: 'eq', value: 'staging' }]],
    [
      'a payload path that differs',
      [{ type: 'path', path: 'body.trace.exception.class', operation: 'eq', value: 'RangeError' }],
    ],
    [
      'a method that is not the top frame’s',
      [{ type: 'method', operation: 'regex', value: '^handleRequest$' }],
    ],
    ['a regex that does not compile', [{ type: 'title', operation: 'regex', value: '([' }]],
  ])('a rule filtering on %s queues nothing', async (_name, filters) => {
    const projectId = await tables.newProject();
    await rules.create(
      projectId,
      draft({ channel: 'slack', config: { url: 'https://hooks.slack.com/x' }, filters }),
      1,
    );
    expect(await fanOut()(await step(projectId, 1))).toEqual({ batchItemFailures: [] });
    expect(await delivered()).toEqual([]);
  });

  it('a payload filter that matches reads the last occurrence, and a disabled rule tells nothing', async () => {
    const projectId = await tables.newProject();
    const matching = await rules.create(
      projectId,
      draft({
        channel: 'slack',
        config: { url: 'https://hooks.slack.com/x' },
        filters: [
          { type: 'path', path: 'body.trace.exception.class', operation: 'eq', value: 'TypeError' },
          { type: 'method', operation: 'regex', value: '^placeOrder$' },
        ],
      }),
      1,
    );
    await rules.create(projectId, draft({ status: 'disabled' }), 1);
    await fanOut()(await step(projectId, 1));
    const messages = await delivered();
    expect(messages.map((message) => message.rule_id)).toEqual([matching.id]);
    // Only webhooks carry the occurrence.
    expect(messages[0]!.event.occurrence).toBeUndefined();
  });

  it('tells the 10th occurrence once when a step moves the count from 9 to 12, and holds a second occurrence message within 5 minutes', async () => {
    const projectId = await tables.newProject();
    const milestone = await rules.create(projectId, draft({ trigger: 'exp_repeat_item' }), 1);
    const every = await rules.create(projectId, draft({ trigger: 'occurrence' }), 1);
    const first = await step(projectId, 9);
    const second = await step(projectId, 3);
    const records = [...first, ...second];
    expect(await fanOut()(records)).toEqual({ batchItemFailures: [] });
    const messages = await delivered();
    expect(messages.map((message) => message.key).sort()).toEqual(
      [
        `${second[0]!.eventID}:exp_repeat_item:10#${milestone.id}`,
        `${first[0]!.eventID}:occurrence#${every.id}`,
      ].sort(),
    );
    expect(messages.find((message) => message.rule_id === every.id)?.event.occurrences).toBe(9);

    // Delivered again: the same keys, and still nothing for the occurrence message held back.
    expect(await fanOut()(records)).toEqual({ batchItemFailures: [] });
    expect((await delivered()).map((message) => message.key)).toEqual(messages.map((message) => message.key));
  });

  it('an occurrence rate rule fires once in its window, however often the batch is delivered', async () => {
    const projectId = await tables.newProject();
    const rate = await rules.create(
      projectId,
      draft({ trigger: 'occurrence_rate', filters: [{ type: 'rate', period: 86_400, count: 3 }] }),
      1,
    );
    const records = [
      ...(await step(projectId, 2)),
      ...(await step(projectId, 2)),
      ...(await step(projectId, 1)),
    ];
    expect(records).toHaveLength(3);
    // The invocation dies before its last record, after the second one queued the rate event.
    await fanOut()(records.slice(0, 2));
    const messages = await delivered();
    expect(messages).toHaveLength(1);
    const window = Math.floor(records[1]!.dynamodb!.ApproximateCreationDateTime! / 86_400) * 86_400;
    expect(messages[0]).toMatchObject({
      key: `rate:${messages[0]!.event.item!.id}:86400:${window}#${rate.id}`,
      event: {
        trigger: 'occurrence_rate',
        occurrences: 4,
        rate: { period: 86_400, count: 3, window_start: window },
      },
    });
    // Lambda delivers the whole batch again: the last change counted answers as it did (the same key,
    // which the sender posts once), the first is known, the third counts on without firing.
    await fanOut()(records);
    expect((await delivered()).map((message) => message.key)).toEqual([messages[0]!.key]);
    // Once a later change is counted, the earlier ones' deliveries were queued already: nothing more.
    await fanOut()(records);
    expect(await delivered()).toEqual([]);
  });

  it('a resolve by hand is told; muting is not, nor are a muted item’s occurrences', async () => {
    const projectId = await tables.newProject();
    const resolved = await rules.create(projectId, draft({ trigger: 'resolved_item' }), 1);
    await rules.create(projectId, draft({ trigger: 'occurrence' }), 1);
    const created = await step(projectId, 1);
    await fanOut()(created);
    await delivered();
    const itemId = Number(created[0]!.dynamodb!.NewImage!.id!.N);
    const change = (status: 'resolved' | 'muted') =>
      tables.items.applyUserChange(planUserChange(projectId, itemId, { status }, Date.now()));
    await change('muted');
    const muted = [...(await stream.readNew(projectId)), ...(await step(projectId, 2))];
    await fanOut()(muted);
    expect(await delivered()).toEqual([]);
    await change('resolved');
    await fanOut()(await stream.readNew(projectId));
    expect((await delivered()).map((message) => [message.rule_id, message.event.trigger])).toEqual([
      [resolved.id, 'resolved_item'],
    ]);
  });

  it('tells a deploy once, by its project and id, when its comment matches', async () => {
    const projectId = await tables.newProject();
    const rule = await rules.create(
      projectId,
      draft({ trigger: 'deploy', filters: [{ type: 'comment', operation: 'within', value: 'release' }] }),
      1,
    );
    const deploys = new DynamoDBDeployRepository(tables.documents, tables.dynamo.tableNames.items);
    const deploy = {
      project_id: projectId,
      environment: 'production',
      revision: 'abc123',
      local_username: 'ci',
      rollbar_username: null,
      status: 'started' as const,
      start_time: 1,
      finish_time: null,
    };
    await deploys.put({ ...deploy, id: 1, comment: 'release 2.3' });
    await deploys.put({ ...deploy, id: 2, comment: 'hotfix' });
    await deploys.updateStatus(projectId, 1, 'succeeded', 2);
    await fanOut()(await stream.readNew(projectId));
    const messages = await delivered();
    expect(messages.map((message) => message.key)).toEqual([`deploy:${projectId}:1#${rule.id}`]);
    expect(messages[0]!.event.deploy).toMatchObject({ revision: 'abc123', comment: 'release 2.3' });
  });

  it('a record whose deliveries cannot be queued is handed back to Lambda by its sequence number; the others are done', async () => {
    const projectId = await tables.newProject();
    await rules.create(projectId, draft({}), 1);
    const records = [
      ...(await step(projectId, 1, 'FirstError')),
      ...(await step(projectId, 1, 'SecondError')),
    ];
    expect(records).toHaveLength(2);
    const failing = records[1]!.dynamodb!.NewImage!.id!.N;
    // A queue that refuses one item's deliveries, as SQS would when it is unreachable.
    const flaky: DeliveryQueue = {
      async send(messages) {
        if (messages.some((message) => String(message.event.item?.id) === failing))
          throw new DeliveryQueueError('the queue is unreachable');
        return sqsQueue.send(messages);
      },
    };
    expect(await fanOut(flaky)(records)).toEqual({
      batchItemFailures: [{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber }],
    });
    expect(await delivered()).toHaveLength(1);
    // Lambda delivers it again from there.
    expect(await fanOut()(records.slice(1))).toEqual({ batchItemFailures: [] });
    expect(await delivered()).toHaveLength(1);
  });
});

describe('the daily summaries', () => {
  it('tallies the day, then queues one summary for a due rule, none for a rule not due, none for a quiet day', async () => {
    const busy = await tables.newProject();
    const quiet = await tables.newProject();
    const email = { channel: 'email' as const, trigger: 'daily_summary' as const };
    const due = await rules.create(busy, draft({ ...email, config: { to: ['team@example.com'] } }), 1);
    await rules.create(
      busy,
      draft({ ...email, config: { to: ['team@example.com'], summary_time: 12 * 3600 } }),
      1,
    );
    await rules.create(quiet, draft({ ...email, config: { to: ['quiet@example.com'] } }), 1);

    const records = [
      ...(await step(busy, 3, 'Frequent')),
      ...(await step(busy, 2, 'Frequent')),
      ...(await step(busy, 1, 'Rare')),
    ];
    await fanOut()(records);
    // Delivered twice, the tallies count each occurrence once.
    await fanOut()(records);
    const day = new Date(records[0]!.dynamodb!.ApproximateCreationDateTime! * 1000)
      .toISOString()
      .slice(0, 10);
    const nextDay = Date.parse(`${day}T00:00:00Z`) + 86_400_000;

    const summaries = createDailySummaries({
      rules,
      records: new DynamoDBDailySummaries(tables.documents, notificationsTable),
      items: tables.items,
      queue: sqsQueue,
      now: () => nextDay + 5 * 60_000,
    });
    expect(await summaries()).toMatchObject({ due: 2, queued: 1, empty: 1, failed: 0 });
    const messages = await delivered();
    expect(messages.map((message) => message.key)).toEqual([`summary:${due.id}:${day}#${due.id}`]);
    const summary = messages[0]!.event.summary!;
    expect(summary.day).toBe(day);
    expect(summary.new_items.map((item) => item.title).sort()).toEqual(
      ['Rare: x is not a function', 'Frequent: x is not a function'].sort(),
    );
    expect(summary.top_items.map(({ item, occurrences }) => [item.title, occurrences])).toEqual([
      ['Frequent: x is not a function', 5],
      ['Rare: x is not a function', 1],
    ]);

    // A second run in the same quarter hour queues nothing more.
    expect(await summaries()).toMatchObject({ due: 0, queued: 0 });
    expect(await delivered()).toEqual([]);
  });
});
