// Which notification events a change of the items table makes, read from its old and new images.
import { describe, expect, it } from 'vitest';
import type { ItemImage } from '#shared/items/events';
import type { ItemRecord } from '#shared/items/item';
import {
  deployEventOf,
  eventsOfItemChange,
  notifiedItemOf,
  rateEventOf,
  rateWindowStart,
} from '#shared/notifications/fan-out/events';

const item = (overrides: Partial<ItemRecord> = {}): ItemRecord => ({
  id: 4242,
  project_id: 3,
  counter: 7,
  created_at: 1_700_000_000,
  environment: 'production',
  platform: 'node',
  framework: null,
  language: 'javascript',
  hash: 'abc',
  grouping_method: 'trace',
  title: 'TypeError: x is not a function',
  level: 'error',
  level_lock: false,
  status: 'active',
  total_occurrences: 1,
  unique_people: 0,
  first_occurrence_id: 'u1',
  first_occurrence_timestamp: 1_700_000_000,
  last_occurrence_id: 'u2',
  last_occurrence_timestamp: 1_700_000_100,
  last_activated_timestamp: 1_700_000_000,
  activating_occurrence_id: 'u1',
  reactivated_count: 0,
  resolved_timestamp: null,
  resolved_in_version: null,
  last_code_version: null,
  ...overrides,
});

const numbered = (image: ItemImage): ItemImage => ({
  counter: 7,
  status: 'active',
  total_occurrences: 1,
  ...image,
});

function eventsOf(before: ItemImage | undefined, after: ItemImage) {
  return eventsOfItemChange({
    eventId: 'ev1',
    changedAt: 1_800_000_000_000,
    before,
    after,
    item: item({
      status: (after.status as ItemRecord['status']) ?? 'active',
      total_occurrences: after.total_occurrences ?? 0,
    }),
  });
}

describe('the events of an item change', () => {
  it.each<[string, ItemImage | undefined, ItemImage, string[]]>([
    [
      'a new item is told, with its occurrences',
      undefined,
      numbered({ total_occurrences: 1 }),
      ['ev1:new_item', 'ev1:occurrence'],
    ],
    [
      'a new item created with 12 occurrences is told with its 10th',
      undefined,
      numbered({ total_occurrences: 12 }),
      ['ev1:new_item', 'ev1:exp_repeat_item:10', 'ev1:occurrence'],
    ],
    ['an item not yet numbered tells nothing', undefined, { status: 'active', total_occurrences: 3 }, []],
    [
      'another occurrence is an occurrence event only',
      numbered({ total_occurrences: 4 }),
      numbered({ total_occurrences: 5 }),
      ['ev1:occurrence'],
    ],
    [
      'the fold moving a count from 9 to 12 crosses the 10th once',
      numbered({ total_occurrences: 9 }),
      numbered({ total_occurrences: 12 }),
      ['ev1:exp_repeat_item:10', 'ev1:occurrence'],
    ],
    [
      'from 95 to 1,050 crosses the 100th and the 1,000th',
      numbered({ total_occurrences: 95 }),
      numbered({ total_occurrences: 1050 }),
      ['ev1:exp_repeat_item:100', 'ev1:exp_repeat_item:1000', 'ev1:occurrence'],
    ],
    [
      'resolving by hand is a resolve and nothing else',
      numbered({ total_occurrences: 5 }),
      numbered({ total_occurrences: 5, status: 'resolved', status_changed_by: 'user' }),
      ['ev1:resolved_item'],
    ],
    [
      'an occurrence reopening a resolved item reactivates it',
      numbered({ total_occurrences: 5, status: 'resolved' }),
      numbered({ total_occurrences: 6, status: 'active', status_changed_by: 'occurrence' }),
      ['ev1:reactivated_item', 'ev1:occurrence'],
    ],
    [
      'reopening by hand is a reopen',
      numbered({ total_occurrences: 5, status: 'resolved' }),
      numbered({ total_occurrences: 5, status: 'active', status_changed_by: 'user' }),
      ['ev1:reopened_item'],
    ],
    [
      'muting tells nothing (not a Rollbar trigger)',
      numbered({ total_occurrences: 5 }),
      numbered({ total_occurrences: 5, status: 'muted' }),
      [],
    ],
    [
      'a muted item tells nothing of its occurrences, even its 10th',
      numbered({ total_occurrences: 9, status: 'muted' }),
      numbered({ total_occurrences: 12, status: 'muted' }),
      [],
    ],
    [
      'a muted item resolved by hand is told',
      numbered({ total_occurrences: 9, status: 'muted' }),
      numbered({ total_occurrences: 9, status: 'resolved', status_changed_by: 'user' }),
      ['ev1:resolved_item'],
    ],
    [
      'a muted item reopened by hand is told',
      numbered({ total_occurrences: 9, status: 'muted' }),
      numbered({ total_occurrences: 9, status: 'active', status_changed_by: 'user' }),
      ['ev1:reopened_item'],
    ],
  ])('%s', (_name, before, after, ids) => {
    expect(eventsOf(before, after).events.map((event) => event.id)).toEqual(ids);
  });

  it('tells the milestone crossed, the occurrences a step counted and the item, all from the new image', () => {
    const { events, growth } = eventsOf(
      numbered({ total_occurrences: 9 }),
      numbered({ total_occurrences: 12 }),
    );
    expect(growth).toBe(3);
    expect(events.map((event) => [event.trigger, event.occurrences])).toEqual([
      ['exp_repeat_item', 10],
      ['occurrence', 3],
    ]);
    for (const event of events) {
      expect(event).toMatchObject({
        project_id: 3,
        occurred_at: 1_800_000_000_000,
        item: { id: 4242, counter: 7 },
      });
    }
  });

  it('counts a muted item’s occurrences nowhere', () => {
    expect(
      eventsOf(
        numbered({ total_occurrences: 9, status: 'muted' }),
        numbered({ total_occurrences: 12, status: 'muted' }),
      ),
    ).toMatchObject({
      muted: true,
    });
  });

  it('makes the same ids from the same record, so a redelivered batch is recognised', () => {
    const change = () => eventsOf(numbered({ total_occurrences: 95 }), numbered({ total_occurrences: 1050 }));
    expect(change()).toEqual(change());
  });

  it('tells a deploy by its project and id', () => {
    const event = deployEventOf(
      {
        id: 12,
        project_id: 3,
        environment: 'production',
        revision: 'abc',
        comment: null,
        local_username: null,
        rollbar_username: null,
        status: 'succeeded',
        start_time: 1,
        finish_time: null,
      },
      1_000,
    );
    expect(event).toMatchObject({
      id: 'deploy:3:12',
      trigger: 'deploy',
      project_id: 3,
      deploy: { revision: 'abc' },
    });
  });

  it.each([
    [60, Date.UTC(2026, 10, 30, 10, 0, 59), Date.UTC(2026, 10, 30, 10, 0, 0)],
    [300, Date.UTC(2026, 10, 30, 10, 7, 0), Date.UTC(2026, 10, 30, 10, 5, 0)],
    [3600, Date.UTC(2026, 10, 30, 10, 59, 59), Date.UTC(2026, 10, 30, 10, 0, 0)],
    [86_400, Date.UTC(2026, 10, 30, 23, 59, 59), Date.UTC(2026, 10, 30)],
  ])('rate windows of %i s are aligned, not sliding', (period, at, start) => {
    expect(rateWindowStart(at, period)).toBe(start / 1000);
  });

  it('names a rate event by item, period and window, so a window fires once', () => {
    const event = rateEventOf(
      notifiedItemOf(item()),
      { period: 300, count: 5, windowStart: 1200, occurrences: 6 },
      1,
    );
    expect(event).toMatchObject({
      id: 'rate:4242:300:1200',
      trigger: 'occurrence_rate',
      occurrences: 6,
      rate: { period: 300, count: 5, window_start: 1200 },
    });
  });
});
