// The item rules as plain logic: what a change by hand and what an occurrence do to an item.
import { describe, expect, it } from 'vitest';
import type { Level } from '#shared/domain/levels';
import type { ItemRecord } from '#shared/items/item';
import {
  planItemChange,
  planUserChange,
  type UserChangePlan,
  type UserItemChange,
} from '#shared/items/rules';
import { errorData, occurrence } from '../../support/occurrences';

const projectId = 1;

function existing(overrides: Partial<ItemRecord> = {}): ItemRecord {
  const first = occurrence(projectId);
  return {
    id: first.itemId,
    project_id: projectId,
    counter: 3,
    created_at: Math.floor(Date.now() / 1000) - 3600,
    environment: 'production',
    platform: 'node',
    framework: null,
    language: 'javascript',
    hash: first.fingerprint,
    grouping_method: 'trace',
    title: first.title,
    level: 'error',
    level_lock: false,
    status: 'active',
    total_occurrences: 5,
    unique_people: 0,
    first_occurrence_id: first.uuid,
    first_occurrence_timestamp: 1_700_000_000,
    last_occurrence_id: first.uuid,
    last_occurrence_timestamp: 1_700_000_000,
    last_activated_timestamp: 1_700_000_000,
    activating_occurrence_id: first.uuid,
    reactivated_count: 0,
    resolved_timestamp: null,
    resolved_in_version: null,
    last_code_version: null,
    ...overrides,
  };
}

describe('what occurrences do to an item', () => {
  it('a new item is created active, at the highest level of its first occurrences', () => {
    const batch = [
      occurrence(projectId, errorData({ level: 'warning' })),
      occurrence(projectId, errorData({ level: 'critical' })),
    ];
    const change = planItemChange(undefined, batch, 1);
    expect(change).toMatchObject({
      expected: undefined,
      add: { total_occurrences: 2, unique_people: 1 },
    });
    expect(change.set).toMatchObject({ status: 'active', level: 'critical' });
  });

  it('a new item is created at the time of the fold, in seconds', () => {
    const change = planItemChange(undefined, [occurrence(projectId)], 0, 1_700_000_000_750);
    expect(change.set.created_at).toBe(1_700_000_000);
  });

  it('an occurrence that reactivates an item clears the version it was resolved in', () => {
    const change = planItemChange(
      existing({ status: 'resolved', resolved_in_version: '2.0.0' }),
      [occurrence(projectId, errorData({ code_version: '2.1.0' }))],
      0,
    );
    expect(change.set).toMatchObject({ status: 'active', resolved_in_version: null });
  });

  it('the update is of the occurrences’ project, which the fold makes a condition', () => {
    const theirs = occurrence(projectId + 1);
    expect(planItemChange(existing(), [theirs], 0).projectId).toBe(projectId + 1);
  });

  it('a higher level raises the item, conditioned on the level read', () => {
    const change = planItemChange(existing({ level: 'warning' }), [occurrence(projectId)], 0);
    expect(change.set.level).toBe('error');
    expect(change.expected).toEqual({ status: 'active', level: 'warning' });
  });

  it('a level set by hand is not raised', () => {
    const change = planItemChange(
      existing({ level: 'info', level_lock: true }),
      [occurrence(projectId, errorData({ level: 'critical' }))],
      0,
    );
    expect(change.set.level).toBeUndefined();
    expect(change.expected).toEqual({ status: 'active' });
  });

  it.each<[string, Partial<ItemRecord>, string | undefined, boolean]>([
    ['an occurrence of a resolved item reactivates it', { status: 'resolved' }, '1.0.0', true],
    [
      'one from a release older than the fix does not',
      { status: 'resolved', resolved_in_version: '2.0.0' },
      '1.9.0',
      false,
    ],
    [
      'one from the fixed release or later does',
      { status: 'resolved', resolved_in_version: '2.0.0' },
      '2.0.0',
      true,
    ],
    [
      'one from an unordered version (a SHA) does',
      { status: 'resolved', resolved_in_version: 'f00ba47' },
      'a1b2c3d',
      true,
    ],
    ['a muted item stays muted', { status: 'muted' }, '1.0.0', false],
  ])('%s', (_name, item, codeVersion, reactivates) => {
    const change = planItemChange(
      existing(item),
      [occurrence(projectId, errorData({ code_version: codeVersion }))],
      0,
    );
    expect(change.set.status === 'active').toBe(reactivates);
    expect(change.add.reactivated_count ?? 0).toBe(reactivates ? 1 : 0);
    if (reactivates) expect(change.set.status_changed_by).toBe('occurrence');
    expect(change.expected?.status).toBe(item.status);
  });

  it('an occurrence received before the item was resolved does not reactivate it; one received after does', () => {
    const resolvedAt = Math.floor(Date.now() / 1000) - 60;
    const item = existing({ status: 'resolved', resolved_timestamp: resolvedAt });
    const backlog = occurrence(projectId, errorData(), { receivedAt: resolvedAt * 1000 - 5_000 });
    expect(planItemChange(item, [backlog], 0).set.status).toBeUndefined();
    const fresh = occurrence(projectId, errorData(), { receivedAt: resolvedAt * 1000 + 5_000 });
    const change = planItemChange(item, [backlog, fresh], 0);
    expect(change.set).toMatchObject({ status: 'active', activating_occurrence_id: fresh.uuid });
  });

  it('an occurrence older than the last one seen leaves the last occurrence and code version alone', () => {
    const item = existing({ last_occurrence_timestamp: 1_800_000_000, last_code_version: '2.0.0' });
    const older = occurrence(projectId, errorData({ timestamp: 1_700_000_100, code_version: '1.0.0' }));
    const change = planItemChange(item, [older], 0);
    expect(change.set).not.toHaveProperty('last_code_version');
    expect(change.set).not.toHaveProperty('last_occurrence_id');
    expect(change.add.total_occurrences).toBe(1);
  });
});

/** The time of the changes by hand in these tests, in milliseconds. */
const NOW = 1_800_000_000_000;

/** An item as a store leaves it once it has written the plan. */
const written = (item: ItemRecord, plan: UserChangePlan): ItemRecord => ({ ...item, ...plan.set });

/** The item after these changes by hand, each a second after the last, from an active item. */
function changedByHand(changes: UserItemChange[]): ItemRecord {
  return changes.reduce(
    (item, change, index) => written(item, planUserChange(projectId, item.id, change, NOW + index * 1000)),
    existing(),
  );
}

describe('what a change by hand writes', () => {
  it.each<[string, UserItemChange, Partial<ItemRecord> & { status_changed_by?: string }, string[]]>([
    [
      'a resolve in a version keeps the version and the time of the resolve',
      { status: 'resolved', resolvedInVersion: '2.0.0' },
      {
        status: 'resolved',
        status_changed_by: 'user',
        resolved_in_version: '2.0.0',
        resolved_timestamp: NOW / 1000,
      },
      ['last_activated_timestamp', 'level', 'level_lock'],
    ],
    [
      'a resolve without a version forgets the version of an earlier resolve',
      { status: 'resolved' },
      { status: 'resolved', resolved_in_version: null, resolved_timestamp: NOW / 1000 },
      [],
    ],
    [
      'a reopen forgets the version and the resolve, and makes now the time it was activated',
      { status: 'active', resolvedInVersion: '2.0.0' },
      {
        status: 'active',
        status_changed_by: 'user',
        resolved_in_version: null,
        resolved_timestamp: null,
        last_activated_timestamp: NOW / 1000,
      },
      [],
    ],
    [
      'a mute forgets the version, and keeps the time it was resolved',
      { status: 'muted', resolvedInVersion: '2.0.0' },
      { status: 'muted', status_changed_by: 'user', resolved_in_version: null },
      ['resolved_timestamp', 'last_activated_timestamp'],
    ],
    [
      'a level set by hand is locked, and leaves the status and the version alone',
      { level: 'info', resolvedInVersion: '2.0.0' },
      { level: 'info', level_lock: true },
      ['status', 'status_changed_by', 'resolved_in_version', 'resolved_timestamp'],
    ],
  ])('%s', (_name, change, sets, leaves) => {
    const plan = planUserChange(projectId, 42, change, NOW + 999);
    expect(plan.set).toMatchObject(sets);
    for (const field of leaves) expect(plan.set).not.toHaveProperty(field);
  });

  it('is the change of the item asked for, conditioned on the project asking', () => {
    expect(planUserChange(7, 42, { status: 'resolved' }, NOW)).toMatchObject({ itemId: 42, projectId: 7 });
  });

  it('a change with nothing to change is a mistake of the caller, not an empty update', () => {
    expect(() => planUserChange(projectId, 42, {}, NOW)).toThrow('a status or a level');
  });
});

describe('what an occurrence does after changes by hand', () => {
  it.each<[string, UserItemChange[], string, boolean]>([
    [
      'after a resolve in 2.0.0, an occurrence from 1.9 does not reactivate it',
      [{ status: 'resolved', resolvedInVersion: '2.0.0' }],
      '1.9.0',
      false,
    ],
    [
      'after a resolve in 2.0.0, an occurrence from 2.0.0 reactivates it',
      [{ status: 'resolved', resolvedInVersion: '2.0.0' }],
      '2.0.0',
      true,
    ],
    [
      'a resolve without a version forgets the version of an earlier resolve',
      [{ status: 'resolved', resolvedInVersion: '2.0.0' }, { status: 'resolved' }],
      '1.9.0',
      true,
    ],
    [
      'after a reopen, a resolve without a version lets an old release reactivate the item',
      [{ status: 'resolved', resolvedInVersion: '2.0.0' }, { status: 'active' }, { status: 'resolved' }],
      '1.9.0',
      true,
    ],
    [
      'after a mute, a resolve without a version lets an old release reactivate the item',
      [{ status: 'resolved', resolvedInVersion: '2.0.0' }, { status: 'muted' }, { status: 'resolved' }],
      '1.9.0',
      true,
    ],
    [
      'a level set by hand keeps the version of the resolve',
      [{ status: 'resolved', resolvedInVersion: '2.0.0' }, { level: 'info' }],
      '1.9.0',
      false,
    ],
    ['a muted item is never reactivated', [{ status: 'muted' }], '3.0.0', false],
    [
      'a reopened item is active, and stays so',
      [{ status: 'resolved' }, { status: 'active' }],
      '3.0.0',
      false,
    ],
  ])('%s', (_name, changes, codeVersion, reactivates) => {
    const item = changedByHand(changes);
    const later = occurrence(projectId, errorData({ code_version: codeVersion }), {
      receivedAt: NOW + 60_000,
    });
    const change = planItemChange(item, [later], 0, NOW + 60_000);
    expect(change.set.status === 'active').toBe(reactivates);
    expect(change.add.reactivated_count ?? 0).toBe(reactivates ? 1 : 0);
  });

  it.each<[string, UserItemChange[], Level, Level | undefined]>([
    ['an occurrence of a higher level raises an item', [], 'critical', 'critical'],
    ['one of a lower level does not lower it', [], 'warning', undefined],
    ['a level set by hand is never raised, even to critical', [{ level: 'debug' }], 'critical', undefined],
  ])('%s', (_name, changes, level, raisedTo) => {
    const item = changedByHand(changes);
    const change = planItemChange(item, [occurrence(projectId, errorData({ level }))], 0);
    expect(change.set.level).toBe(raisedTo);
  });
});
