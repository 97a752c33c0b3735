// The notification events one change of the items table makes: an item's change (new, reactivated,
// 10^n-th, resolved, reopened, occurrences counted) or a deploy recorded. Plain logic, no AWS.
//
// Event ids are deterministic, built from the stream record's event id (or the deploy's key), so a
// redelivered stream batch makes the same events and the delivery key `{event.id}#{rule.id}` stops a
// second post.
import { type ItemImage, itemEventsOf } from '#shared/items/events';
import type { ItemRecord } from '#shared/items/item';
import type { NotificationEvent, NotifiedDeploy, NotifiedItem, TriggerName } from '../model';

/** One change of an item, as the service reads it from a stream record's images. */
export interface ItemChange {
  /** The stream record's `eventID`. */
  eventId: string;
  /** When DynamoDB wrote the change (ms): the record's approximate creation time, the same on every redelivery. */
  changedAt: number;
  before: ItemImage | undefined;
  after: ItemImage;
  /** The item as the new image holds it. */
  item: ItemRecord;
}

export interface ItemChangeEvents {
  /** The events of the fixed triggers, `occurrence` included; `occurrence_rate` is counted by the service. */
  events: NotificationEvent[];
  /** How many occurrences this change counted into the item (0 for a change by hand). */
  growth: number;
  /** The item is muted: nothing is told of it, and nothing of it is counted for rates and summaries. */
  muted: boolean;
}

const TRIGGER_OF = {
  new_item: 'new_item',
  reactivated_item: 'reactivated_item',
  occurrence_milestone: 'exp_repeat_item',
  resolved_item: 'resolved_item',
  reopened_item: 'reopened_item',
  // Not one of Rollbar's triggers: no rule fires on it.
  muted_item: undefined,
} as const satisfies Record<string, TriggerName | undefined>;

const isNumbered = (image: ItemImage | undefined) => typeof image?.counter === 'number';

export function eventsOfItemChange(change: ItemChange): ItemChangeEvents {
  const { before, after, eventId, changedAt } = change;
  if (!isNumbered(after)) return { events: [], growth: 0, muted: false };
  // An item announced now (numbered by this change) tells every occurrence it holds; otherwise what
  // this change added. Totals only grow, but a hand-written row could say otherwise.
  const counted = isNumbered(before) ? (before?.total_occurrences ?? 0) : 0;
  const growth = Math.max(0, (after.total_occurrences ?? 0) - counted);
  const item = notifiedItemOf(change.item);
  const event = (trigger: TriggerName, suffix = '', extra: Partial<NotificationEvent> = {}) => ({
    id: `${eventId}:${trigger}${suffix}`,
    trigger,
    project_id: item.project_id,
    occurred_at: changedAt,
    item,
    ...extra,
  });

  if (after.status === 'muted') {
    // Muting silences an item; resolving or reopening it by hand is what moves it out of `muted`,
    // and those changes have a new status, so they are told below.
    return { events: [], growth, muted: true };
  }
  const events: NotificationEvent[] = [];
  for (const itemEvent of itemEventsOf(before, after)) {
    const trigger = TRIGGER_OF[itemEvent.type];
    if (!trigger) continue;
    events.push(
      itemEvent.type === 'occurrence_milestone'
        ? event(trigger, `:${itemEvent.occurrences}`, { occurrences: itemEvent.occurrences })
        : event(trigger),
    );
  }
  if (growth > 0) events.push(event('occurrence', '', { occurrences: growth }));
  return { events, growth, muted: false };
}

export function notifiedItemOf(item: ItemRecord): NotifiedItem {
  return {
    id: item.id,
    project_id: item.project_id,
    counter: item.counter ?? 0,
    title: item.title,
    level: item.level,
    environment: item.environment,
    platform: item.platform,
    framework: item.framework,
    language: item.language,
    status: item.status,
    total_occurrences: item.total_occurrences,
    unique_people: item.unique_people,
    first_occurrence_timestamp: item.first_occurrence_timestamp,
    last_occurrence_timestamp: item.last_occurrence_timestamp,
    last_occurrence_id: item.last_occurrence_id,
    last_code_version: item.last_code_version,
    resolved_in_version: item.resolved_in_version,
    hash: item.hash,
  };
}

/** A deploy told once, when its row is inserted; its status changes tell nothing. */
export function deployEventOf(deploy: NotifiedDeploy, changedAt: number): NotificationEvent {
  return {
    id: `deploy:${deploy.project_id}:${deploy.id}`,
    trigger: 'deploy',
    project_id: deploy.project_id,
    occurred_at: changedAt,
    deploy,
  };
}

/** The start (epoch seconds) of the aligned window of `period` seconds an instant (ms) falls in. */
export function rateWindowStart(atMs: number, period: number): number {
  const seconds = Math.floor(atMs / 1000);
  return seconds - (seconds % period);
}

/**
 * An item reached a rule's `count` within one aligned window of `period` seconds. One id per item,
 * period and window: a window fires once for each rule however often it is evaluated.
 */
export function rateEventOf(
  item: NotifiedItem,
  rate: { period: number; count: number; windowStart: number; occurrences: number },
  changedAt: number,
): NotificationEvent {
  return {
    id: `rate:${item.id}:${rate.period}:${rate.windowStart}`,
    trigger: 'occurrence_rate',
    project_id: item.project_id,
    occurred_at: changedAt,
    item,
    occurrences: rate.occurrences,
    rate: { period: rate.period, count: rate.count, window_start: rate.windowStart },
  };
}
