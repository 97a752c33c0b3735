// The API's resources: Rollbar's fields only, whatever else the rows they are read from hold.

import { describe, expect, it } from 'vitest';
import { countsResource, deployResource, instanceResource, itemResource } from '#shared/api/resources';
import type { ItemRecord } from '#shared/items/item';
import type { Deploy } from '#shared/store/deploys';
import { toItemRecord } from '#shared/store/items';
import { itemKeys } from '#shared/store/keys';
import type { OccurrenceRecord } from '#shared/store/occurrences';

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

/** An item row as the fold leaves it: keys and its bookkeeping beside Rollbar's fields. */
const row = {
  ...itemKeys.item(42),
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
      for (const hidden of ['PK', 'SK', 'entity', 'created_by', 'people', 'seed_hours']) {
        expect(shown).not.toHaveProperty(hidden);
      }
      expect(JSON.parse(JSON.stringify(shown))).toEqual({ ...fields, level_lock: 1 });
    }
  });
});

describe('an instance as the API shows it', () => {
  const occurrence: OccurrenceRecord = {
    uuid: '11111111-1111-4111-8111-111111111111',
    project_id: 7,
    item_id: 42,
    timestamp: 1_700_000_000,
    received_at: 1_700_000_000_250,
    environment: 'production',
    level: 'error',
    code_version: '2.0.0',
    person_id: 'alice',
    payload_truncated: false,
    data: { environment: 'production', body: { message: { body: 'Hello' } } },
  };

  it('is named by its uuid, with its payload, version and whether it was truncated', () => {
    expect(instanceResource(occurrence)).toEqual({
      id: occurrence.uuid,
      uuid: occurrence.uuid,
      project_id: 7,
      item_id: 42,
      timestamp: 1_700_000_000,
      version: '2.0.0',
      billable: 1,
      truncated: false,
      data: occurrence.data,
    });
  });
});

describe('a deploy as the API shows it', () => {
  const deploy: Deploy = {
    id: 3,
    project_id: 7,
    environment: 'production',
    revision: 'f00ba47',
    local_username: 'alice',
    rollbar_username: null,
    comment: null,
    status: 'succeeded',
    start_time: 1_700_000_000,
    finish_time: 1_700_000_000,
  };

  it('has Rollbar’s fields, never the keys of the row it was read from', () => {
    const row = { ...itemKeys.deploy(7, 3), entity: 'deploy', ...deploy } as Deploy;
    expect(deployResource(row)).toEqual(deploy);
  });
});

describe('counts as the API shows them', () => {
  const hour = 3_600_000;
  const start = Date.UTC(2026, 10, 23, 10);

  it('one bucket per hour from the first to the last, oldest first, zero where nothing was counted', () => {
    const counts = new Map([['2026-11-23T11', 4]]);
    expect(countsResource('hour', start, start + 2 * hour, counts)).toEqual({
      granularity: 'hour',
      counts: [
        { timestamp: start / 1000, count: 0 },
        { timestamp: start / 1000 + 3600, count: 4 },
        { timestamp: start / 1000 + 7200, count: 0 },
      ],
    });
  });

  it('one bucket per day, each at the second its day starts', () => {
    const day = Date.UTC(2026, 10, 23);
    const shown = countsResource('day', day, day + 24 * hour, new Map([['2026-11-24', 2]]));
    expect(shown.counts).toEqual([
      { timestamp: day / 1000, count: 0 },
      { timestamp: day / 1000 + 86_400, count: 2 },
    ]);
  });
});
