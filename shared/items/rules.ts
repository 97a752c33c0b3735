// The item rules: what a change by hand (resolve, reopen, mute, a level set) and what new occurrences
// (counts, reactivation, level raises) do to an item. Plain logic with no AWS import: each returns a
// plan (the fields to write and what the write is conditioned on) that a store carries out as one
// conditional update, so the rules test without an emulator and the stores only read and write rows.
import { isOlderVersion } from '#shared/domain/code-version';
import { higherLevel, type Level } from '#shared/domain/levels';
import type { OccurrenceFacts } from '#shared/storing/occurrence';
import type { ItemRecord, ItemStatus, StatusChangedBy } from './item';

/** A change someone asked for through the API (never by an occurrence). */
export interface UserItemChange {
  status?: ItemStatus;
  /**
   * The release that fixes it: occurrences from older releases do not reactivate it. It belongs to
   * the resolve that sets it, so it is read only with `status: 'resolved'`.
   */
  resolvedInVersion?: string | null;
  /** Set by hand, the level is locked: occurrences no longer raise it. */
  level?: Level;
}

/** The fields of an item row a change writes; null writes null (the API shows null). */
export type ItemFields = Partial<ItemRecord> & { status_changed_by?: StatusChangedBy };

/**
 * What a change by hand writes. It is planned without reading the item (what it sets does not
 * depend on what was there), so its only condition is that the item exists in the project asking:
 * another project's item is left alone and reported as absent.
 */
export interface UserChangePlan {
  itemId: number;
  projectId: number;
  set: ItemFields;
}

/** The plan for a change by hand; `now` in milliseconds. */
export function planUserChange(
  projectId: number,
  itemId: number,
  change: UserItemChange,
  now: number,
): UserChangePlan {
  const seconds = Math.floor(now / 1000);
  const set: ItemFields = {};
  if (change.status) {
    set.status = change.status;
    set.status_changed_by = 'user';
    // Every change of status replaces the version: a resolve without one, a reopen and a mute clear
    // it, so a later resolve never inherits the version of an earlier one.
    set.resolved_in_version = change.status === 'resolved' ? (change.resolvedInVersion ?? null) : null;
    if (change.status === 'resolved') set.resolved_timestamp = seconds;
    if (change.status === 'active') {
      set.last_activated_timestamp = seconds;
      set.resolved_timestamp = null;
    }
  }
  if (change.level) {
    set.level = change.level;
    set.level_lock = true;
  }
  if (Object.keys(set).length === 0) throw new Error('a change by hand needs a status or a level');
  return { itemId, projectId, set };
}

/**
 * What a fold step's occurrences do to their item. Counts are commutative adds that need no
 * condition, so concurrent folds on a hot item never fail each other's conditions over them (their
 * transactions can still collide on the item's row, and the step then retries); only decisions taken
 * from what was read (reactivating, raising the level) are conditioned on it, so a concurrent resolve
 * or a level set by hand makes the step retry.
 */
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
  const raised = raisedLevel(current, batchLevel);
  if (raised) {
    set.level = raised;
    expected.level = current.level;
  }
  const increments: Record<string, number> = { ...add };

  const activating = reactivatingOccurrence(current, byTime);
  if (activating) {
    set.status = 'active';
    set.status_changed_by = 'occurrence' satisfies StatusChangedBy;
    set.last_activated_timestamp = activating.timestamp;
    set.activating_occurrence_id = activating.uuid;
    // The version belonged to the resolve this occurrence undid.
    set.resolved_in_version = null;
    increments.reactivated_count = 1;
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

/** The level occurrences raise an item to; undefined when it stays (not higher, or set by hand). */
function raisedLevel(item: ItemRecord, level: Level): Level | undefined {
  if (item.level_lock || higherLevel(item.level, level) === item.level) return undefined;
  return level;
}

/**
 * The first of `byTime` that reactivates a resolved item. An occurrence from a release older than
 * the fix does not: the fix is not deployed there. Nor does one received before the item was
 * resolved (counted late, from a backlog). A muted or active item is never reactivated.
 */
function reactivatingOccurrence(
  item: ItemRecord,
  byTime: readonly OccurrenceFacts[],
): OccurrenceFacts | undefined {
  if (item.status !== 'resolved') return undefined;
  const resolvedAtMs = (item.resolved_timestamp ?? 0) * 1000;
  return byTime.find(
    (occurrence) =>
      occurrence.receivedAt > resolvedAtMs &&
      !isOlderVersion(occurrence.codeVersion ?? undefined, item.resolved_in_version ?? undefined),
  );
}
