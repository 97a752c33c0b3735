// An item as the read API shows it: Rollbar's fields only, whatever else its row holds.

import { describe, expect, it } from 'vitest';
import { itemResource } from '#shared/read/service';
import { type ItemRecord, toItemRecord } from '#shared/store/items';
import { itemKeys } from '#shared/store/keys';

const fields: ItemRecord = {
  id: 42,
  project_id: 7,
  counter: 3,
  created_at: 1_700_000_000,
  environment: 'production',
  platform: 'node',
  framework: null,
  language: 'javascript',
  hash: 'abc',
  grouping_method: 'trace',
  title: 'TypeError: x is not a function',
  level: 'error',
  level_lock: true,
  status: 'active',
  total_occurrences: 5,
  unique_people: 2,
  first_occurrence_id: '11111111-1111-4111-8111-111111111111',
  first_occurrence_timestamp: 1_700_000_000,
  last_occurrence_id: '22222222-2222-4222-8222-222222222222',
  last_occurrence_timestamp: 1_700_000_100,
  last_activated_timestamp: 1_700_000_000,
  activating_occurrence_id: '11111111-1111-4111-8111-111111111111',
  reactivated_count: 0,
  resolved_timestamp: null,
  resolved_in_version: null,
  last_code_version: 'v1',
};

/** An item row as the fold leaves it: keys, the index keys and its bookkeeping beside Rollbar's fields. */
const row = {
  ...itemKeys.item(42),
  ...itemKeys.byProject(7, 3),
  entity: 'item',
  ...fields,
  created_by: 'event-1/000123',
  people: new Set(['aaaaaaaa', 'bbbbbbbb']),
  seed_hours: { '2026-11-23T10': 5 },
};

const rollbarFields = Object.keys(fields).sort();

describe('an item as the API shows it', () => {
  it('has Rollbar’s fields, with level_lock as 0 or 1', () => {
    const shown = itemResource(fields);
    expect(Object.keys(shown).sort()).toEqual(rollbarFields);
    expect(shown).toEqual({ ...fields, level_lock: 1 });
    expect(itemResource({ ...fields, level_lock: false }).level_lock).toBe(0);
  });

  it('shows when it was created in seconds, also for rows that kept milliseconds', () => {
    expect(itemResource(toItemRecord({ ...row, created_at: 1_700_000_000 })).created_at).toBe(1_700_000_000);
    expect(itemResource(toItemRecord({ ...row, created_at: 1_700_000_000_999 })).created_at).toBe(
      1_700_000_000,
    );
  });

  it('never shows the keys and bookkeeping of the row it was read from', () => {
    for (const record of [toItemRecord(row), row as unknown as ItemRecord]) {
      const shown = itemResource(record);
      expect(Object.keys(shown).sort()).toEqual(rollbarFields);
      for (const hidden of ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'entity', 'created_by', 'people', 'seed_hours']) {
        expect(shown).not.toHaveProperty(hidden);
      }
      expect(JSON.parse(JSON.stringify(shown))).toEqual({ ...fields, level_lock: 1 });
    }
  });
});
