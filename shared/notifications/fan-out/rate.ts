// `occurrence_rate`: an item reached a rule's `count` occurrences within one aligned window of
// `period` seconds (windows start at multiples of the period since the epoch: they do not slide).
// Each (item, period, window) has one counter that every change adds its growth to; a rule fires
// when a change carries the counter across its count, so once per window. No AWS imports; the
// counter rows are the store's (shared/store/notification-noise.ts).
import type { NotificationEvent, NotifiedItem, Rule } from '../model';
import { rateEventOf, rateWindowStart } from './events';

export interface RateStore {
  /**
   * Adds `growth` to the item's counter of the window, unless a change of the item with a total of
   * `total` or more was added already (totals only grow: it is this change again, or a later one).
   * Answers the counter before and after this change; for this same change added before, the values
   * it had then; undefined when a later change was added since (its deliveries were queued then).
   */
  count(input: {
    itemId: number;
    period: number;
    windowStart: number;
    total: number;
    growth: number;
  }): Promise<{ before: number; after: number } | undefined>;
}

/** The period and count of an `occurrence_rate` rule (its `rate` filter); undefined when it has none. */
export function rateOf(rule: Rule): { period: number; count: number } | undefined {
  for (const filter of rule.filters) {
    if (filter.type === 'rate') return { period: filter.period, count: filter.count };
  }
  return undefined;
}

/**
 * Counts the change into each period the rules watch, and the rate events of the rules whose count
 * it crossed: one event per rule (the id is per item, period and window; the key adds the rule).
 */
export async function rateEventsOf(
  store: RateStore,
  rules: readonly Rule[],
  change: { item: NotifiedItem; growth: number; changedAt: number },
): Promise<Array<{ rule: Rule; event: NotificationEvent }>> {
  const byPeriod = new Map<number, Array<{ rule: Rule; count: number }>>();
  for (const rule of rules) {
    const rate = rateOf(rule);
    if (!rate) continue;
    const list = byPeriod.get(rate.period) ?? [];
    list.push({ rule, count: rate.count });
    byPeriod.set(rate.period, list);
  }
  const fired: Array<{ rule: Rule; event: NotificationEvent }> = [];
  for (const [period, watching] of byPeriod) {
    const windowStart = rateWindowStart(change.changedAt, period);
    const counted = await store.count({
      itemId: change.item.id,
      period,
      windowStart,
      total: change.item.total_occurrences,
      growth: change.growth,
    });
    if (!counted) continue;
    for (const { rule, count } of watching) {
      if (counted.before < count && counted.after >= count) {
        fired.push({
          rule,
          event: rateEventOf(
            change.item,
            { period, count, windowStart, occurrences: counted.after },
            change.changedAt,
          ),
        });
      }
    }
  }
  return fired;
}
