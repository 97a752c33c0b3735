// What a fold step's occurrences do to their item: plain logic over the item as last read.
// Counts are commutative adds that need no condition, so concurrent folds on a hot item do not
// conflict; only decisions taken from what was read (reactivating, raising the level) are
// conditioned on it, so a concurrent resolve or a level set by hand makes the step retry.
import { isOlderVersion } from '#shared/domain/code-version';
import { higherLevel } from '#shared/domain/levels';
import type { ItemRecord } from '#shared/store/items';
import { itemIdOf, type OccurrenceFacts } from './occurrence';

export interface ItemChange {
  itemId: number;
  /** The project of the occurrences: an item of another project must never count them. */
  projectId: number;
  /** What this change assumed of the item; undefined when it assumed the item does not exist. */
  expected: { status: ItemRecord['status']; level?: ItemRecord['level'] } | undefined;
  set: Record<string, unknown>;
  add: Record<string, number>;
}

/**
 * The change for one item. `occurrences` are new (never stored before) and belong to the item;
 * `newPeople` is how many of their people the item had not seen.
 */
export function planItemChange(
  current: ItemRecord | undefined,
  occurrences: readonly OccurrenceFacts[],
  newPeople: number,
  now: number = Date.now(),
): ItemChange {
  const byTime = [...occurrences].sort((a, b) => a.timestamp - b.timestamp || a.receivedAt - b.receivedAt);
  const first = byTime[0];
  const last = byTime.at(-1);
  if (!first || !last) throw new Error('an item change needs at least one occurrence');
  const batchLevel = byTime.map((occurrence) => occurrence.level).reduce(higherLevel);
  const add = { total_occurrences: byTime.length, unique_people: newPeople };

  if (!current) {
    return {
      itemId: first.itemId,
      projectId: first.projectId,
      expected: undefined,
      add,
      set: {
        entity: 'item',
        id: first.itemId,
        created_at: Math.floor(now / 1000),
        project_id: first.projectId,
        environment: first.environment,
        platform: first.platform,
        framework: first.framework ?? undefined,
        language: first.language ?? undefined,
        hash: first.fingerprint,
        grouping_method: first.groupingMethod,
        title: first.title,
        level: batchLevel,
        level_lock: false,
        status: 'active',
        first_occurrence_id: first.uuid,
        first_occurrence_timestamp: first.timestamp,
        last_occurrence_id: last.uuid,
        last_occurrence_timestamp: last.timestamp,
        // Left out while they hold their defaults, to keep the row small (see `toItemRecord`):
        // `last_activated_timestamp` and `activating_occurrence_id` (the first occurrence's),
        // `reactivated_count` (0), `resolved_timestamp` and `resolved_in_version` (null).
        last_code_version: last.codeVersion ?? undefined,
      },
    };
  }

  const set: Record<string, unknown> = {};
  // Steps of concurrent folds may land in either order: an older occurrence changes nothing here.
  if (last.timestamp >= current.last_occurrence_timestamp) {
    set.last_occurrence_id = last.uuid;
    set.last_occurrence_timestamp = last.timestamp;
    set.last_code_version = last.codeVersion;
  }
  const expected: NonNullable<ItemChange['expected']> = { status: current.status };
  if (!current.level_lock && higherLevel(current.level, batchLevel) !== current.level) {
    set.level = batchLevel;
    expected.level = current.level;
  }
  const increments: Record<string, number> = { ...add };

  if (current.status === 'resolved') {
    // An occurrence from a release older than the fix does not reopen it: the fix is not deployed
    // there. Nor does one received before the item was resolved (counted late, from a backlog).
    const resolvedAtMs = (current.resolved_timestamp ?? 0) * 1000;
    const activating = byTime.find(
      (occurrence) =>
        occurrence.receivedAt > resolvedAtMs &&
        !isOlderVersion(occurrence.codeVersion ?? undefined, current.resolved_in_version ?? undefined),
    );
    if (activating) {
      set.status = 'active';
      set.status_changed_by = 'occurrence';
      set.last_activated_timestamp = activating.timestamp;
      set.activating_occurrence_id = activating.uuid;
      // The version belonged to the resolve this occurrence undid.
      set.resolved_in_version = null;
      increments.reactivated_count = 1;
    }
  }

  return {
    itemId: current.id,
    // The occurrences' project, not the item's: the update is conditioned on the two being one.
    projectId: first.projectId,
    expected,
    add: increments,
    set,
  };
}

/**
 * Where an occurrence's group counts when the item at its id belongs to another project: an item
 * id is 52 bits of a hash, so two groups can share one (even odds among 80 million items, one in
 * a hundred among 10 million). The `probe`-th id of the group's own sequence, the same for every
 * occurrence of the group, so its occurrences still make one item.
 */
export function collisionItemId(occurrence: OccurrenceFacts, probe: number): number {
  return itemIdOf(
    occurrence.projectId,
    occurrence.environment,
    occurrence.platform,
    `${occurrence.fingerprint}\u0000collision ${probe}`,
  );
}
