// What happened to an item, read from a change's old and new images (as the stream delivers them):
// the triggers of the notification rules. The writers only write; this is where events are named,
// beside the rules (`./rules`) that decide the changes they name.
import type { StatusChangedBy } from './item';

export type ItemEvent =
  | { type: 'new_item' }
  | { type: 'reactivated_item' }
  | { type: 'occurrence_milestone'; occurrences: number }
  | { type: 'resolved_item' }
  | { type: 'reopened_item' }
  | { type: 'muted_item' };

/** The fields of an item image that events are read from. */
export interface ItemImage {
  counter?: number | null;
  status?: string;
  total_occurrences?: number;
  status_changed_by?: StatusChangedBy;
}

const isNumbered = (image: ItemImage | undefined) => typeof image?.counter === 'number';

/** The 10th, 100th, 1000th… occurrences crossed between two totals. */
export function milestonesBetween(before: number, after: number): number[] {
  const crossed: number[] = [];
  for (let milestone = 10; milestone <= after; milestone *= 10) {
    if (milestone > before) crossed.push(milestone);
  }
  return crossed;
}

export function itemEventsOf(before: ItemImage | undefined, after: ItemImage | undefined): ItemEvent[] {
  // An item is announced once, when its creator gives it its number (exactly once, conditionally);
  // until then nothing is told, and what happened meanwhile is told with the announcement.
  if (!after || !isNumbered(after)) return [];
  if (!isNumbered(before)) {
    return [
      { type: 'new_item' },
      ...milestonesBetween(0, after.total_occurrences ?? 0).map((occurrences) => milestone(occurrences)),
    ];
  }
  const events: ItemEvent[] = [];
  const wasStatus = before?.status;
  if (wasStatus && wasStatus !== after.status) {
    if (after.status === 'resolved') events.push({ type: 'resolved_item' });
    if (after.status === 'muted') events.push({ type: 'muted_item' });
    if (after.status === 'active') {
      const byOccurrence = after.status_changed_by === 'occurrence' && wasStatus === 'resolved';
      events.push({ type: byOccurrence ? 'reactivated_item' : 'reopened_item' });
    }
  }
  for (const occurrences of milestonesBetween(before?.total_occurrences ?? 0, after.total_occurrences ?? 0)) {
    events.push(milestone(occurrences));
  }
  return events;
}

const milestone = (occurrences: number): ItemEvent => ({ type: 'occurrence_milestone', occurrences });
