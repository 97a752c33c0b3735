// Noise control: whether a rule tells of an event now, or holds it back. Per rule and item, an action
// interval (at most one message per `action_interval` seconds) and, for `occurrence`, at most
// `max_per_hour` messages per UTC hour. The protocol lives here; the rows are the store's
// (`NoiseStore`, implemented on DynamoDB by shared/store/notification-noise.ts). No AWS imports.
//
// Re-deciding is safe: the fan-out decides an item's events in stream order and queues each record's
// deliveries before it decides the next record of the same item, so a redelivered record is either
// the last one decided for the item (its own key is on the rows: the same answer again) or was
// queued already (any answer then queues nothing new that was not sent).
import { type NoiseSettings, noiseSettingsOf, noiseSettingsSchema } from '../channel-configs';
import type { NotificationEvent, Rule } from '../model';

export interface NoiseStore {
  /**
   * Takes the rule's interval for the item at `atMs` unless the rule told of it less than
   * `intervalSeconds` before; true when taken. Taking it again with the same `key` answers true.
   */
  takeInterval(input: {
    ruleId: number;
    itemId: number;
    key: string;
    atMs: number;
    intervalSeconds: number;
  }): Promise<boolean>;
  /**
   * Counts one message in the rule's hour for the item unless `max` are counted; true when counted.
   * Counting again with the same `key` as the last one counted answers true and counts nothing.
   */
  takeHourSlot(input: {
    ruleId: number;
    itemId: number;
    key: string;
    hour: string;
    max: number;
  }): Promise<boolean>;
}

export type NoiseVerdict = { send: true } | { send: false; reason: 'action_interval' | 'max_per_hour' };

/** The rule's noise settings; a config that does not parse (it was checked when saved) gets the defaults. */
export function noiseSettingsOfRule(rule: Rule, trigger = rule.trigger): Required<NoiseSettings> {
  const parsed = noiseSettingsSchema.safeParse(rule.config);
  return noiseSettingsOf(trigger, parsed.success ? parsed.data : {});
}

/** The UTC hour an instant falls in, `2026-11-30T10`. */
export function hourOf(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 13);
}

export async function noiseVerdict(
  store: NoiseStore,
  rule: Rule,
  event: NotificationEvent,
  key: string,
): Promise<NoiseVerdict> {
  const item = event.item;
  // A resolve always goes out (a PagerDuty incident must close); deploys and summaries have no item.
  if (!item || event.trigger === 'resolved_item') return { send: true };
  const settings = noiseSettingsOfRule(rule, event.trigger);
  const base = { ruleId: rule.id, itemId: item.id, key };
  if (settings.action_interval > 0) {
    const taken = await store.takeInterval({
      ...base,
      atMs: event.occurred_at,
      intervalSeconds: settings.action_interval,
    });
    if (!taken) return { send: false, reason: 'action_interval' };
  }
  if (event.trigger === 'occurrence') {
    const counted = await store.takeHourSlot({
      ...base,
      hour: hourOf(event.occurred_at),
      max: settings.max_per_hour,
    });
    if (!counted) return { send: false, reason: 'max_per_hour' };
  }
  return { send: true };
}
