// An item: its fields in Rollbar's names, what the rules read and write, the store keeps and the API shows.
import type { Level } from '#shared/domain/levels';

export const ITEM_STATUSES = ['active', 'resolved', 'muted'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/** Who moved an item's status last: an occurrence that reactivated it, or someone by hand. */
export type StatusChangedBy = 'occurrence' | 'user';

/** An item, in Rollbar's field names. */
export interface ItemRecord {
  id: number;
  project_id: number;
  counter: number | null;
  /** Server time of creation, in seconds like every timestamp the API shows. */
  created_at: number;
  environment: string;
  platform: string;
  framework: string | null;
  language: string | null;
  hash: string;
  grouping_method: string;
  title: string;
  level: Level;
  /** Set when someone chose the level by hand; occurrences then no longer raise it. */
  level_lock: boolean;
  status: ItemStatus;
  total_occurrences: number;
  unique_people: number;
  first_occurrence_id: string;
  first_occurrence_timestamp: number;
  last_occurrence_id: string;
  last_occurrence_timestamp: number;
  last_activated_timestamp: number;
  activating_occurrence_id: string;
  reactivated_count: number;
  resolved_timestamp: number | null;
  resolved_in_version: string | null;
  last_code_version: string | null;
}
