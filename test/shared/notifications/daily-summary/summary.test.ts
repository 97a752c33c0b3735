// When a daily summary rule is due, and what its summary of a day holds.
import { describe, expect, it } from 'vitest';
import type { ItemRecord } from '#shared/items/item';
import {
  buildSummary,
  dueDay,
  isEmptySummary,
  summarySettingsOf,
} from '#shared/notifications/daily-summary/summary';
import type { Rule } from '#shared/notifications/model';

const rule = (config: Record<string, unknown>): Rule => ({
  id: 9,
  project_id: 1,
  channel: 'email',
  trigger: 'daily_summary',
  status: 'enabled',
  filters: [],
  config: { to: ['team@example.com'], ...config },
  created_at: 0,
  updated_at: 0,
});

const at = (iso: string) => Date.parse(iso);

describe('when a daily summary is due', () => {
  it.each<[string, Record<string, unknown>, string, string | undefined]>([
    ['by default at midnight UTC, telling the day before', {}, '2026-11-30T00:03:00Z', '2026-11-29'],
    ['not before its quarter hour', { summary_time: 9 * 3600 }, '2026-11-30T08:59:59Z', undefined],
    ['at 09:00 for 09:00', { summary_time: 9 * 3600 }, '2026-11-30T09:00:00Z', '2026-11-29'],
    [
      'a time inside a quarter hour is rounded down to it',
      { summary_time: 9 * 3600 + 600 },
      '2026-11-30T09:01:00Z',
      '2026-11-29',
    ],
    [
      'a late run of the schedule still catches it within the hour',
      { summary_time: 9 * 3600 },
      '2026-11-30T09:59:00Z',
      '2026-11-29',
    ],
    ['not hours later', { summary_time: 9 * 3600 }, '2026-11-30T10:00:00Z', undefined],
    [
      'a 23:50 summary caught up after midnight tells the same day',
      { summary_time: 23 * 3600 + 3000 },
      '2026-12-01T00:10:00Z',
      '2026-11-29',
    ],
    ['a 23:50 summary on time', { summary_time: 23 * 3600 + 3000 }, '2026-11-30T23:46:00Z', '2026-11-29'],
  ])('%s', (_name, config, now, day) => {
    expect(dueDay(summarySettingsOf(rule(config)), at(now))).toBe(day);
  });
});

const item = (id: number, overrides: Partial<ItemRecord> = {}): ItemRecord => ({
  id,
  project_id: 1,
  counter: id,
  created_at: 0,
  environment: 'production',
  platform: 'node',
  framework: null,
  language: null,
  hash: `h${id}`,
  grouping_method: 'trace',
  title: `Error ${id}`,
  level: 'error',
  level_lock: false,
  status: 'active',
  total_occurrences: 1,
  unique_people: 0,
  first_occurrence_id: '',
  first_occurrence_timestamp: 0,
  last_occurrence_id: '',
  last_occurrence_timestamp: 0,
  last_activated_timestamp: 0,
  activating_occurrence_id: '',
  reactivated_count: 0,
  resolved_timestamp: null,
  resolved_in_version: null,
  last_code_version: null,
  ...overrides,
});

describe('a day’s summary', () => {
  const items = new Map<number, ItemRecord>(
    Array.from({ length: 14 }, (_, index) => {
      const id = index + 1;
      return [id, item(id, id === 3 ? { environment: 'staging' } : id === 4 ? { level: 'warning' } : {})];
    }),
  );
  const tallies = {
    newItems: [1, 2, 3],
    reactivatedItems: [4],
    counts: new Map(Array.from({ length: 14 }, (_, index) => [index + 1, (index + 1) * 10])),
  };

  it('lists the new, the reactivated and the ten most frequent items', () => {
    const summary = buildSummary('2026-11-29', tallies, items, summarySettingsOf(rule({})));
    expect(summary.new_items.map((listed) => listed.id)).toEqual([3, 2, 1]);
    expect(summary.reactivated_items.map((listed) => listed.id)).toEqual([4]);
    expect(summary.top_items.map(({ item: listed, occurrences }) => [listed.id, occurrences])).toEqual(
      [14, 13, 12, 11, 10, 9, 8, 7, 6, 5].map((id) => [id, id * 10]),
    );
  });

  it('keeps to the rule’s environments and minimum level', () => {
    const summary = buildSummary(
      '2026-11-29',
      tallies,
      items,
      summarySettingsOf(rule({ environments: ['production'], min_item_level: 'error' })),
    );
    expect(summary.new_items.map((listed) => listed.id)).toEqual([2, 1]);
    expect(summary.reactivated_items).toEqual([]);
  });

  it('is empty on a quiet day, and sends only with data unless told otherwise', () => {
    const summary = buildSummary(
      '2026-11-29',
      { newItems: [], reactivatedItems: [], counts: new Map() },
      items,
      summarySettingsOf(rule({})),
    );
    expect(isEmptySummary(summary)).toBe(true);
    expect(summarySettingsOf(rule({})).sendOnlyIfData).toBe(true);
    expect(summarySettingsOf(rule({ send_only_if_data: false })).sendOnlyIfData).toBe(false);
  });
});
