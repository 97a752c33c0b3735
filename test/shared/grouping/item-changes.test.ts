// What a fold step's occurrences do to their item, as plain logic.
import { describe, expect, it } from 'vitest';
import { planItemChange } from '#shared/grouping/item-changes';
import type { ItemRecord } from '#shared/store/items';
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

describe('item changes', () => {
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
