// The API's resources: items, instances, deploys and counts as Rollbar's API shows them, in one place
// for every service that answers with them (reading, changing items, updating deploys).
import type { ItemRecord } from '#shared/items/item';
import type { Deploy } from '#shared/store/deploys';
import { countBucket, type Granularity } from '#shared/store/keys';
import type { OccurrenceRecord } from '#shared/store/occurrences';

/**
 * An item as the API shows it: Rollbar's fields, named one by one. An item row also holds keys and
 * the fold's bookkeeping (`seed_hours`, `people`, `created_by`), which must never reach a client
 * even if a record carries them.
 */
export function itemResource(item: ItemRecord) {
  return {
    id: item.id,
    project_id: item.project_id,
    counter: item.counter,
    created_at: item.created_at,
    environment: item.environment,
    platform: item.platform,
    framework: item.framework,
    language: item.language,
    hash: item.hash,
    grouping_method: item.grouping_method,
    title: item.title,
    level: item.level,
    level_lock: item.level_lock ? 1 : 0,
    status: item.status,
    total_occurrences: item.total_occurrences,
    unique_people: item.unique_people,
    first_occurrence_id: item.first_occurrence_id,
    first_occurrence_timestamp: item.first_occurrence_timestamp,
    last_occurrence_id: item.last_occurrence_id,
    last_occurrence_timestamp: item.last_occurrence_timestamp,
    last_activated_timestamp: item.last_activated_timestamp,
    activating_occurrence_id: item.activating_occurrence_id,
    reactivated_count: item.reactivated_count,
    resolved_timestamp: item.resolved_timestamp,
    resolved_in_version: item.resolved_in_version,
    last_code_version: item.last_code_version,
  };
}

/** An occurrence, which Rollbar's API calls an instance; its id is its uuid (ours are not integers). */
export function instanceResource(occurrence: OccurrenceRecord) {
  return {
    id: occurrence.uuid,
    uuid: occurrence.uuid,
    project_id: occurrence.project_id,
    item_id: occurrence.item_id,
    timestamp: occurrence.timestamp,
    version: occurrence.code_version,
    billable: 1,
    truncated: occurrence.payload_truncated,
    data: occurrence.data,
  };
}

/** A deploy, its fields named one by one as an item's are: its row holds keys too. */
export function deployResource(deploy: Deploy) {
  return {
    id: deploy.id,
    project_id: deploy.project_id,
    environment: deploy.environment,
    revision: deploy.revision,
    local_username: deploy.local_username,
    rollbar_username: deploy.rollbar_username,
    comment: deploy.comment,
    status: deploy.status,
    start_time: deploy.start_time,
    finish_time: deploy.finish_time,
  };
}

const BUCKET_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 };

/**
 * Counts for a graph: one bucket per hour or day from `start` to `end` (the epoch milliseconds their
 * buckets start at), oldest first, each with the epoch second it starts at and zero where nothing
 * was counted. `counts` holds the counted buckets by their row's bucket key.
 */
export function countsResource(
  granularity: Granularity,
  start: number,
  end: number,
  counts: ReadonlyMap<string, number>,
) {
  const series: Array<{ timestamp: number; count: number }> = [];
  for (let bucket = start; bucket <= end; bucket += BUCKET_MS[granularity]) {
    series.push({ timestamp: bucket / 1000, count: counts.get(countBucket(bucket, granularity)) ?? 0 });
  }
  return { granularity, counts: series };
}
