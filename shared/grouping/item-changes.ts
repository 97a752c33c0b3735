// What a batch of new occurrences does to their item: plain logic over the item as last read.
// The store turns this into one conditional update, so a concurrent change makes it retry, not clobber.
import { isOlderVersion } from '#shared/domain/code-version';
import { higherLevel } from '#shared/domain/levels';
import type { ItemRecord } from '#shared/store/items';
import type { PreparedOccurrence } from './occurrence';

export interface ItemChange {
  itemId: number;
  projectId: number;
  /** The version the item had when read; undefined when the item does not exist yet. */
  expectedVersion: number | undefined;
  /** True when the item needs a counter number (a new item, or one whose number was never taken). */
  needsCounter: boolean;
  set: Record<string, unknown>;
  add: Record<string, number>;
}

/**
 * The change for one item. `occurrences` are new (never stored before) and belong to the item;
 * `newPeople` is how many of their people the item had not seen.
 */
export function planItemChange(
  current: ItemRecord | undefined,
  occurrences: readonly PreparedOccurrence[],
  newPeople: number,
): ItemChange {
  const byTime = [...occurrences].sort((a, b) => a.timestamp - b.timestamp || a.receivedAt - b.receivedAt);
  const first = byTime[0];
  const last = byTime.at(-1);
  if (!first || !last) throw new Error('an item change needs at least one occurrence');
  const batchLevel = byTime.map((occurrence) => occurrence.level).reduce(higherLevel);
  const add = { total_occurrences: byTime.length, unique_people: newPeople, version: 1 };

  if (!current) {
    return {
      itemId: first.itemId,
      projectId: first.projectId,
      expectedVersion: undefined,
      needsCounter: true,
      add,
      set: {
        entity: 'item',
        id: first.itemId,
        project_id: first.projectId,
        environment: first.environment,
        platform: first.platform,
        framework: first.framework,
        language: first.language,
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
        last_activated_timestamp: first.timestamp,
        activating_occurrence_id: first.uuid,
        reactivated_count: 0,
        resolved_timestamp: null,
        resolved_in_version: null,
        last_code_version: last.codeVersion,
      },
    };
  }

  const set: Record<string, unknown> = { last_code_version: last.codeVersion };
  if (last.timestamp >= current.last_occurrence_timestamp) {
    set.last_occurrence_id = last.uuid;
    set.last_occurrence_timestamp = last.timestamp;
  }
  if (!current.level_lock && higherLevel(current.level, batchLevel) !== current.level) set.level = batchLevel;
  const increments: Record<string, number> = { ...add };

  if (current.status === 'resolved') {
    // An occurrence from a release older than the fix does not reopen it: the fix is not deployed there.
    const activating = byTime.find(
      (occurrence) => !isOlderVersion(occurrence.codeVersion ?? undefined, current.resolved_in_version ?? undefined),
    );
    if (activating) {
      set.status = 'active';
      set.last_activated_timestamp = activating.timestamp;
      set.activating_occurrence_id = activating.uuid;
      increments.reactivated_count = 1;
    }
  }

  return {
    itemId: current.id,
    projectId: current.project_id,
    expectedVersion: current.version,
    needsCounter: current.counter === null,
    add: increments,
    set,
  };
}
