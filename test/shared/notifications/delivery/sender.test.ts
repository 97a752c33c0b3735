// The sender's engine on in-memory ports: what each vendor answer does to the delivery record, the
// delivery log and the queue message; duplicates; pace; the dead-letter queue; credentials kept out.
import { beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '#shared/notifications/channel';
import {
  createSender,
  DEAD_LETTER_NOTE,
  type DeliveryRecordStatus,
  destinationOf,
  type Sender,
} from '#shared/notifications/delivery/sender';
import { type DeliveryMessage, deliveryKey, type NotifiedItem, type Rule } from '#shared/notifications/model';
import {
  ManualClock,
  MemoryDeliveryLog,
  MemoryDeliveryRecords,
  MemoryDestinationPace,
  MemoryRules,
  ScriptedChannel,
} from '../../../support/memory-delivery-state';

const SLACK_URL = 'https://hooks.slack.com/services/T0001/B0001/abcdefghijklmnop';
const LEASE_MS = 60_000;

const item: NotifiedItem = {
  id: 501,
  project_id: 1,
  counter: 12,
  title: 'TypeError: x is undefined',
  level: 'error',
  environment: 'production',
  platform: 'browser',
  framework: null,
  language: 'javascript',
  status: 'active',
  total_occurrences: 1,
  unique_people: 0,
  first_occurrence_timestamp: 1_790_000_000,
  last_occurrence_timestamp: 1_790_000_000,
  last_occurrence_id: 'e2f3c1d0-0000-4000-8000-000000000001',
  last_code_version: null,
  resolved_in_version: null,
  hash: 'abc',
};

function messageFor(ruleId: number, eventId = 'evt-1'): DeliveryMessage {
  return {
    key: deliveryKey(eventId, ruleId),
    project_id: 1,
    rule_id: ruleId,
    channel: 'slack',
    event: { id: eventId, trigger: 'new_item', project_id: 1, occurred_at: 1_790_000_000_000, item },
    attempt: 1,
    queued_at: 1_790_000_000_000,
  };
}

const rule = (overrides: Partial<Rule> = {}): Rule => ({
  id: 3,
  project_id: 1,
  channel: 'slack',
  trigger: 'new_item',
  status: 'enabled',
  filters: [],
  config: { url: SLACK_URL },
  created_at: 1_790_000_000,
  updated_at: 1_790_000_000,
  ...overrides,
});

const sent: DeliveryOutcome = { status: 'sent', httpStatus: 200, response: '200 ok' };
const unavailable: DeliveryOutcome = { status: 'retry', httpStatus: 503, response: '503 try later' };
const throttled: DeliveryOutcome = {
  status: 'retry',
  httpStatus: 429,
  response: '429 slow down',
  retryAfterMs: 2_000,
};

let clock: ManualClock;
let records: MemoryDeliveryRecords;
let pace: MemoryDestinationPace;
let log: MemoryDeliveryLog;
let rules: MemoryRules;

beforeEach(() => {
  clock = new ManualClock();
  records = new MemoryDeliveryRecords();
  pace = new MemoryDestinationPace();
  log = new MemoryDeliveryLog();
  rules = new MemoryRules();
});

function senderWith(channel: ScriptedChannel, options: { maxPaceWaitMs?: number } = {}): Sender {
  return createSender({
    rules,
    records,
    log,
    pace,
    channels: { slack: channel as never },
    http: { send: () => Promise.reject(new Error('the engine never calls the network itself')) },
    email: { send: () => Promise.reject(new Error('no email here')) },
    links: { get: async () => undefined, put: async () => {} },
    publicUrl: 'https://faultline.example.com',
    leaseMs: LEASE_MS,
    maxReceives: 10,
    clock,
    // The middle of every jitter range.
    random: () => 0.5,
    newLease: (() => {
      let lease = 0;
      return () => `lease-${++lease}`;
    })(),
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    ...options,
  });
}

describe('what a vendor answer does to a delivery', () => {
  interface Case {
    answer: DeliveryOutcome | Error;
    /** Attempts already made, as the record holds them. */
    attemptsBefore?: number;
    receiveCount?: number;
    decision: { ack: true } | { ack: false; visibleAfterSeconds: number | undefined };
    record: DeliveryRecordStatus;
    logged: { status: string; http_status: number | null; response?: string | RegExp };
  }
  const cases: Array<[string, Case]> = [
    [
      'a 200 is sent: the message is deleted and the record says sent',
      {
        answer: sent,
        decision: { ack: true },
        record: 'sent',
        logged: { status: 'sent', http_status: 200, response: '200 ok' },
      },
    ],
    [
      "a 429 with Retry-After 2 comes back after the vendor's 2 s (plus at most 10%)",
      {
        answer: throttled,
        decision: { ack: false, visibleAfterSeconds: 3 },
        record: 'retrying',
        logged: { status: 'retrying', http_status: 429 },
      },
    ],
    [
      'a first 503 without a hint comes back after about 5 s',
      {
        answer: unavailable,
        decision: { ack: false, visibleAfterSeconds: 5 },
        record: 'retrying',
        logged: { status: 'retrying', http_status: 503 },
      },
    ],
    [
      'a third 503 comes back after about 80 s (5 s × 4²)',
      {
        answer: unavailable,
        attemptsBefore: 2,
        receiveCount: 3,
        decision: { ack: false, visibleAfterSeconds: 80 },
        record: 'retrying',
        logged: { status: 'retrying', http_status: 503 },
      },
    ],
    [
      'a network failure is retried like a 5xx',
      {
        answer: { status: 'retry', httpStatus: null, response: 'network: connect ECONNREFUSED' },
        decision: { ack: false, visibleAfterSeconds: 5 },
        record: 'retrying',
        logged: { status: 'retrying', http_status: null },
      },
    ],
    [
      'a 404 is final: deleted, failed',
      {
        answer: { status: 'failed', httpStatus: 404, response: '404 no_service' },
        decision: { ack: true },
        record: 'failed',
        logged: { status: 'failed', http_status: 404, response: '404 no_service' },
      },
    ],
    [
      'a refused target is final and logged as refused',
      {
        answer: {
          status: 'failed',
          httpStatus: null,
          response: 'refused: 10.0.0.1 is a private address',
          refused: true,
        },
        decision: { ack: true },
        record: 'failed',
        logged: { status: 'refused', http_status: null, response: /refused: 10\.0\.0\.1/ },
      },
    ],
    [
      'a channel with nothing to say for the event skips it',
      {
        answer: { status: 'skipped', httpStatus: null, response: 'trackers file no deploys' },
        decision: { ack: true },
        record: 'skipped',
        logged: { status: 'skipped', http_status: null },
      },
    ],
    [
      'a retry on the 10th receive is not deleted: it goes to the dead-letter queue at once, logged as failed',
      {
        answer: unavailable,
        attemptsBefore: 9,
        receiveCount: 10,
        decision: { ack: false, visibleAfterSeconds: 0 },
        record: 'dead_lettered',
        logged: { status: 'failed', http_status: 503, response: `503 try later (${DEAD_LETTER_NOTE})` },
      },
    ],
    [
      "a channel that throws (a bug) comes back after the queue's own timeout, and is logged",
      {
        answer: new TypeError('cannot read properties of undefined'),
        decision: { ack: false, visibleAfterSeconds: undefined },
        record: 'retrying',
        logged: { status: 'retrying', http_status: null, response: 'TypeError in the sender' },
      },
    ],
    [
      'a channel that throws on the 10th receive goes to the dead-letter queue',
      {
        answer: new TypeError('cannot read properties of undefined'),
        receiveCount: 10,
        decision: { ack: false, visibleAfterSeconds: 0 },
        record: 'dead_lettered',
        logged: { status: 'failed', http_status: null, response: /dead-letter queue/ },
      },
    ],
  ];

  it.each(cases)('%s', async (_name, example) => {
    rules.add(rule());
    const message = messageFor(3);
    if (example.attemptsBefore) {
      records.rows.set(message.key, { status: 'retrying', attempts: example.attemptsBefore, ruleId: 3 });
    }
    const channel = new ScriptedChannel('slack', [example.answer]);
    const decision = await senderWith(channel).deliver(message, { receiveCount: example.receiveCount ?? 1 });

    expect(decision).toEqual(example.decision);
    expect(channel.calls).toHaveLength(1);
    expect(channel.calls[0]?.attempt).toBe((example.attemptsBefore ?? 0) + 1);
    expect(records.rows.get(message.key)).toMatchObject({
      status: example.record,
      attempts: (example.attemptsBefore ?? 0) + 1,
    });
    expect(records.rows.get(message.key)?.lease).toBeUndefined();
    expect(log.entries).toHaveLength(1);
    expect(log.entries[0]).toMatchObject({
      rule_id: 3,
      key: message.key,
      event_id: 'evt-1',
      trigger: 'new_item',
      item_id: 501,
      attempt: (example.attemptsBefore ?? 0) + 1,
      status: example.logged.status,
      http_status: example.logged.http_status,
    });
    if (example.logged.response !== undefined) {
      expect(log.entries[0]?.response).toMatch(example.logged.response);
    }
  });
});

describe('a rule that changed since the delivery was queued', () => {
  it.each([
    ['disabled', rule({ status: 'disabled' }), 1],
    ['deleted', undefined, 0],
  ] as const)('a rule %s since is skipped without posting', async (_name, stored, logLines) => {
    if (stored) rules.add(stored);
    const channel = new ScriptedChannel('slack', [sent]);
    const decision = await senderWith(channel).deliver(messageFor(3), { receiveCount: 1 });
    expect(decision).toEqual({ ack: true });
    expect(channel.calls).toHaveLength(0);
    expect(records.rows.get(messageFor(3).key)?.status).toBe('skipped');
    // Nobody reads a deleted rule's log: only the disabled rule's gets a line.
    expect(log.entries.map((entry) => entry.status)).toEqual(Array(logLines).fill('skipped'));
  });

  it('a rule whose stored config no longer reads fails for good, saying which field', async () => {
    rules.add(rule({ config: { url: 'not a url' } }));
    const channel = new ScriptedChannel('slack', [sent]);
    expect(await senderWith(channel).deliver(messageFor(3), { receiveCount: 1 })).toEqual({ ack: true });
    expect(channel.calls).toHaveLength(0);
    expect(log.entries[0]).toMatchObject({
      status: 'failed',
      response: expect.stringMatching(/^the rule's config is not valid: url/),
    });
  });

  it("an event the rule's channel does not take (a daily summary to Slack) fails for good, unposted", async () => {
    rules.add(rule());
    const base = messageFor(3);
    const message = { ...base, event: { ...base.event, trigger: 'daily_summary' as const } };
    const channel = new ScriptedChannel('slack', [sent]);
    expect(await senderWith(channel).deliver(message, { receiveCount: 1 })).toEqual({ ack: true });
    expect(channel.calls).toHaveLength(0);
    expect(log.entries[0]).toMatchObject({
      status: 'failed',
      response: 'slack rules do not take daily_summary events',
    });
  });

  it('a channel this sender does not have fails for good', async () => {
    rules.add(rule({ channel: 'teams' }));
    const message = { ...messageFor(3), channel: 'teams' as const };
    expect(
      await senderWith(new ScriptedChannel('slack', [sent])).deliver(message, { receiveCount: 1 }),
    ).toEqual({
      ack: true,
    });
    expect(log.entries[0]).toMatchObject({
      status: 'failed',
      response: 'the teams channel is not built into this sender',
    });
  });
});

describe('exactly once as far as the receiver can tell', () => {
  it('a message delivered twice posts once; the second is deleted without a post or a log line', async () => {
    rules.add(rule());
    const channel = new ScriptedChannel('slack', [sent]);
    const sender = senderWith(channel);
    expect(await sender.deliver(messageFor(3), { receiveCount: 1 })).toEqual({ ack: true });
    expect(await sender.deliver(messageFor(3), { receiveCount: 2 })).toEqual({ ack: true });
    expect(channel.calls).toHaveLength(1);
    expect(log.entries).toHaveLength(1);
  });

  it.each(['sent', 'failed', 'skipped'] as const)(
    'a delivery already %s is deleted without a post',
    async (status) => {
      rules.add(rule());
      records.rows.set(messageFor(3).key, { status, attempts: 1, ruleId: 3 });
      const channel = new ScriptedChannel('slack', [sent]);
      expect(await senderWith(channel).deliver(messageFor(3), { receiveCount: 1 })).toEqual({ ack: true });
      expect(channel.calls).toHaveLength(0);
    },
  );

  it('a delivery a live sender holds is left to it; once its lease has run out, another sender takes it over', async () => {
    rules.add(rule());
    const key = messageFor(3).key;
    records.rows.set(key, {
      status: 'sending',
      lease: 'someone',
      leaseUntil: clock.now() + 10_000,
      attempts: 0,
      ruleId: 3,
    });
    const channel = new ScriptedChannel('slack', [sent]);
    const sender = senderWith(channel);
    expect(await sender.deliver(messageFor(3), { receiveCount: 1 })).toEqual({ ack: true });
    expect(channel.calls).toHaveLength(0);

    clock.advance(10_001);
    expect(await sender.deliver(messageFor(3), { receiveCount: 2 })).toEqual({ ack: true });
    expect(channel.calls).toHaveLength(1);
    expect(records.rows.get(key)?.status).toBe('sent');
  });

  it('a delivery put by the fan-out as queued is claimed and sent', async () => {
    rules.add(rule());
    records.rows.set(messageFor(3).key, { status: 'queued', attempts: 0, ruleId: 3 });
    const channel = new ScriptedChannel('slack', [sent]);
    expect(await senderWith(channel).deliver(messageFor(3), { receiveCount: 1 })).toEqual({ ack: true });
    expect(channel.calls).toHaveLength(1);
  });

  it('a 500 then a 200 is one delivery, logged as two attempts', async () => {
    rules.add(rule());
    const channel = new ScriptedChannel('slack', [unavailable, sent]);
    const sender = senderWith(channel);
    expect(await sender.deliver(messageFor(3), { receiveCount: 1 })).toMatchObject({ ack: false });
    expect(await sender.deliver(messageFor(3), { receiveCount: 2 })).toEqual({ ack: true });
    expect(log.entries.map((entry) => [entry.attempt, entry.status])).toEqual([
      [1, 'retrying'],
      [2, 'sent'],
    ]);
  });

  it('a message redriven from the dead-letter queue is delivered', async () => {
    rules.add(rule());
    records.rows.set(messageFor(3).key, { status: 'dead_lettered', attempts: 10, ruleId: 3 });
    const channel = new ScriptedChannel('slack', [sent]);
    expect(await senderWith(channel).deliver(messageFor(3), { receiveCount: 1 })).toEqual({ ack: true });
    expect(channel.calls[0]?.attempt).toBe(11);
  });
});

describe("a destination's pace", () => {
  const paced = () => new ScriptedChannel('slack', [sent], { perSecond: 1 });

  it('posts to one destination at one a second are 1.1 s apart, the next slot waited for in process', async () => {
    rules.add(rule());
    const channel = paced();
    const sender = senderWith(channel);
    const start = clock.now();
    await sender.deliver(messageFor(3, 'evt-1'), { receiveCount: 1 });
    await sender.deliver(messageFor(3, 'evt-2'), { receiveCount: 1 });
    // A free destination's slot is booked 250 ms ahead, past the booking's round trip.
    expect(channel.calls.map((call) => call.now - start)).toEqual([250, 1_350]);
    expect(clock.sleeps).toEqual([250, 1_100]);
  });

  it('a slot further than the in-process wait defers the message to it, keeping the slot for its return', async () => {
    rules.add(rule());
    const channel = paced();
    const sender = senderWith(channel);
    const start = clock.now();
    // Other senders have booked the destination's next 10 seconds.
    pace.next.set(destinationOf('slack', SLACK_URL), start + 10_000);
    const message = messageFor(3);
    expect(await sender.deliver(message, { receiveCount: 1 })).toEqual({
      ack: false,
      visibleAfterSeconds: 10,
    });
    expect(records.rows.get(message.key)).toMatchObject({
      status: 'queued',
      attempts: 0,
      paceAt: start + 10_000,
    });
    expect(records.rows.get(message.key)?.lease).toBeUndefined();
    expect(channel.calls).toHaveLength(0);
    expect(log.entries).toHaveLength(0);

    // Back at its slot, it posts without booking another.
    const booked = pace.reservations.length;
    clock.time = start + 10_000;
    expect(await sender.deliver(message, { receiveCount: 2 })).toEqual({ ack: true });
    expect(pace.reservations).toHaveLength(booked);
    expect(clock.sleeps).toEqual([]);
    expect(channel.calls.map((call) => call.attempt)).toEqual([1]);
  });

  it('the last receive is never deferred: it posts after at most the in-process wait', async () => {
    rules.add(rule());
    const channel = paced();
    pace.next.set(destinationOf('slack', SLACK_URL), clock.now() + 60_000);
    expect(await senderWith(channel).deliver(messageFor(3), { receiveCount: 10 })).toEqual({ ack: true });
    expect(clock.sleeps).toEqual([3_000]);
  });

  it("the pace row is keyed by a hash, never by the destination's URL", () => {
    const destination = destinationOf('slack', SLACK_URL);
    expect(destination).toMatch(/^[0-9a-f]{40}$/);
    expect(destination).not.toContain('hooks.slack.com');
    expect(destinationOf('discord', SLACK_URL)).not.toBe(destination);
  });
});

describe('credentials never reach the delivery log', () => {
  it("a vendor's answer that echoes the webhook URL is logged with the URL masked", async () => {
    rules.add(rule());
    const echo: DeliveryOutcome = {
      status: 'failed',
      httpStatus: 400,
      response: `400 invalid payload for ${SLACK_URL}`,
    };
    await senderWith(new ScriptedChannel('slack', [echo])).deliver(messageFor(3), { receiveCount: 1 });
    expect(log.entries[0]?.response).toBe('400 invalid payload for ••••');
  });

  it("an error's message holding a credential is not logged, only its class", async () => {
    rules.add(rule());
    const error = new Error(`could not post to ${SLACK_URL}`);
    await senderWith(new ScriptedChannel('slack', [error])).deliver(messageFor(3), { receiveCount: 1 });
    expect(JSON.stringify(log.entries)).not.toContain('abcdefghijklmnop');
  });
});
