// Noise control and rate windows on DynamoDB Local: what a rule holds back, and that deciding the
// same delivery again answers the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { noiseVerdict } from '#shared/notifications/fan-out/noise';
import { rateEventsOf } from '#shared/notifications/fan-out/rate';
import type { NotificationEvent, NotifiedItem, Rule, TriggerName } from '#shared/notifications/model';
import { DynamoDBNoiseStore } from '#shared/store/notification-noise';
import { type Dynamo, startDynamoWithTables } from '../../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<string, string> };
let store: DynamoDBNoiseStore;
let nextId = 1;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('noise');
  store = new DynamoDBNoiseStore(createDocumentClient(dynamo.client), dynamo.tableNames.notifications!);
});

afterAll(async () => {
  await dynamo?.stop();
});

const T0 = Date.UTC(2026, 10, 30, 10, 0, 0);

function item(): NotifiedItem {
  return {
    id: nextId++,
    project_id: 1,
    counter: 1,
    title: 'Error',
    level: 'error',
    environment: 'production',
    platform: 'node',
    framework: null,
    language: null,
    status: 'active',
    total_occurrences: 1,
    unique_people: 0,
    first_occurrence_timestamp: 0,
    last_occurrence_timestamp: 0,
    last_occurrence_id: 'u',
    last_code_version: null,
    resolved_in_version: null,
    hash: 'h',
  };
}

function rule(
  trigger: TriggerName,
  config: Record<string, unknown> = {},
  filters: Rule['filters'] = [],
): Rule {
  return {
    id: nextId++,
    project_id: 1,
    channel: 'slack',
    trigger,
    status: 'enabled',
    filters,
    config: { url: 'https://hooks.slack.com/x', ...config },
    created_at: 0,
    updated_at: 0,
  };
}

const event = (trigger: TriggerName, on: NotifiedItem, id: string, atMs: number): NotificationEvent => ({
  id,
  trigger,
  project_id: 1,
  occurred_at: atMs,
  item: on,
});

describe('noise control', () => {
  it('tells of an item’s occurrences at most once per 5 minutes by default, and again after', async () => {
    const told = item();
    const every = rule('occurrence');
    const at = (id: string, ms: number) =>
      noiseVerdict(store, every, event('occurrence', told, id, ms), `${id}#${every.id}`);
    expect(await at('a', T0)).toEqual({ send: true });
    expect(await at('b', T0 + 60_000)).toEqual({ send: false, reason: 'action_interval' });
    expect(await at('c', T0 + 299_000)).toEqual({ send: false, reason: 'action_interval' });
    expect(await at('d', T0 + 300_000)).toEqual({ send: true });
  });

  it('the interval is per rule and per item', async () => {
    const [first, second] = [item(), item()];
    const [one, other] = [rule('occurrence'), rule('occurrence')];
    expect(await noiseVerdict(store, one, event('occurrence', first, 'a', T0), 'a#1')).toEqual({
      send: true,
    });
    expect(await noiseVerdict(store, one, event('occurrence', second, 'b', T0), 'b#1')).toEqual({
      send: true,
    });
    expect(await noiseVerdict(store, other, event('occurrence', first, 'c', T0), 'c#2')).toEqual({
      send: true,
    });
  });

  it('other triggers have no interval unless the rule sets one', async () => {
    const told = item();
    const plain = rule('exp_repeat_item');
    const quiet = rule('exp_repeat_item', { action_interval: 3600 });
    for (const [id, ms] of [
      ['a', T0],
      ['b', T0 + 1000],
    ] as const) {
      expect(await noiseVerdict(store, plain, event('exp_repeat_item', told, id, ms), `${id}#p`)).toEqual({
        send: true,
      });
    }
    expect(await noiseVerdict(store, quiet, event('exp_repeat_item', told, 'c', T0), 'c#q')).toEqual({
      send: true,
    });
    expect(await noiseVerdict(store, quiet, event('exp_repeat_item', told, 'd', T0 + 1000), 'd#q')).toEqual({
      send: false,
      reason: 'action_interval',
    });
  });

  it('a resolve is never held back, whatever the interval', async () => {
    const told = item();
    const resolves = rule('resolved_item', { action_interval: 86_400 });
    for (const id of ['a', 'b', 'c']) {
      expect(await noiseVerdict(store, resolves, event('resolved_item', told, id, T0), `${id}#r`)).toEqual({
        send: true,
      });
    }
  });

  it('caps occurrence messages per item and UTC hour', async () => {
    const told = item();
    const capped = rule('occurrence', { action_interval: 0, max_per_hour: 2 });
    const verdicts = [];
    for (const [index, ms] of [T0, T0 + 1000, T0 + 2000, T0 + 3_600_000].entries()) {
      verdicts.push(
        await noiseVerdict(store, capped, event('occurrence', told, `e${index}`, ms), `e${index}#c`),
      );
    }
    expect(verdicts).toEqual([
      { send: true },
      { send: true },
      { send: false, reason: 'max_per_hour' },
      // The next hour starts afresh.
      { send: true },
    ]);
  });

  it('deciding the same delivery again answers the same (a redelivered record)', async () => {
    const told = item();
    const every = rule('occurrence', { max_per_hour: 1 });
    const first = event('occurrence', told, 'same', T0);
    expect(await noiseVerdict(store, every, first, 'same#1')).toEqual({ send: true });
    // Interval taken and hour counted by this key: the repeat still sends, and counts nothing more.
    expect(await noiseVerdict(store, every, first, 'same#1')).toEqual({ send: true });
    const later = event('occurrence', told, 'later', T0 + 600_000);
    expect(await noiseVerdict(store, every, later, 'later#1')).toEqual({
      send: false,
      reason: 'max_per_hour',
    });
    expect(await noiseVerdict(store, every, later, 'later#1')).toEqual({
      send: false,
      reason: 'max_per_hour',
    });
  });
});

describe('occurrence rate windows', () => {
  const rateRule = (period: number, count: number) =>
    rule('occurrence_rate', {}, [{ type: 'rate', period, count } as Rule['filters'][number]]);

  it('fires when a window’s count is reached, once per window, and again in the next window', async () => {
    const told = item();
    const ten = rateRule(300, 10);
    const steps: Array<[number, number, number]> = [
      // total after the step, growth, time
      [4, 4, T0],
      [9, 5, T0 + 10_000],
      [12, 3, T0 + 20_000],
      [30, 18, T0 + 30_000],
      // The next aligned window (10:05): counted from zero.
      [40, 10, T0 + 300_000],
    ];
    const fired: string[] = [];
    for (const [total, growth, changedAt] of steps) {
      const events = await rateEventsOf(store, [ten], {
        item: { ...told, total_occurrences: total },
        growth,
        changedAt,
      });
      fired.push(...events.map(({ event: rate }) => `${rate.id}=${rate.occurrences}`));
    }
    const window = T0 / 1000;
    expect(fired).toEqual([`rate:${told.id}:300:${window}=12`, `rate:${told.id}:300:${window + 300}=10`]);
  });

  it('a change counted again fires as it did, and adds nothing', async () => {
    const told = item();
    const five = rateRule(3600, 5);
    const change = { item: { ...told, total_occurrences: 6 }, growth: 6, changedAt: T0 };
    const first = await rateEventsOf(store, [five], change);
    const again = await rateEventsOf(store, [five], change);
    expect(again.map(({ event: rate }) => rate.id)).toEqual(first.map(({ event: rate }) => rate.id));
    expect(first).toHaveLength(1);
    const next = await rateEventsOf(store, [five], {
      ...change,
      item: { ...told, total_occurrences: 7 },
      growth: 1,
    });
    expect(next).toEqual([]);
    // Had the first been added twice, the window would hold 13 now; a later repeat of the first says nothing.
    expect(
      await store.count({ itemId: told.id, period: 3600, windowStart: T0 / 1000, total: 8, growth: 1 }),
    ).toEqual({
      before: 7,
      after: 8,
    });
    expect(await rateEventsOf(store, [five], change)).toEqual([]);
  });

  it('rules of different counts on the same period share the window, each firing at its own count', async () => {
    const told = item();
    const [three, six] = [rateRule(60, 3), rateRule(60, 6)];
    const at = (total: number, growth: number) =>
      rateEventsOf(store, [three, six], {
        item: { ...told, total_occurrences: total },
        growth,
        changedAt: T0,
      });
    expect((await at(4, 4)).map(({ rule: fired }) => fired.id)).toEqual([three.id]);
    expect((await at(8, 4)).map(({ rule: fired }) => fired.id)).toEqual([six.id]);
  });
});
