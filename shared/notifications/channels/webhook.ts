// The webhook channel: Rollbar's webhook payload (`{"event_name":…,"data":{"item":…}}`), POSTed as JSON
// and signed with the Standard Webhooks scheme when the rule has a `whsec_` secret. `webhook-id` is the
// delivery key, the same on every retry, so a receiver that keeps the ids it took drops a repeat.
import { Webhook } from 'standardwebhooks';
import type { Channel } from '../channel';
import type { NotificationEvent, NotifiedDeploy, NotifiedItem, TriggerName } from '../model';
import { periodWords } from './message';
import { sendAndClassify } from './outcome';

/** Rollbar's event names: ours, except the rate event, which Rollbar's webhooks call `item_velocity`. */
const EVENT_NAMES: Partial<Record<TriggerName, string>> = { occurrence_rate: 'item_velocity' };

/** The last occurrence as Rollbar shows it beside an item: its payload `data`, with its uuid and time. */
function occurrenceOf(event: NotificationEvent): Record<string, unknown> | undefined {
  const occurrence = event.occurrence;
  if (!occurrence) return undefined;
  return { ...occurrence.data, uuid: occurrence.uuid, timestamp: occurrence.timestamp };
}

function itemOf(item: NotifiedItem, lastOccurrence: Record<string, unknown> | undefined) {
  return {
    id: item.id,
    project_id: item.project_id,
    counter: item.counter,
    environment: item.environment,
    platform: item.platform,
    framework: item.framework,
    language: item.language,
    title: item.title,
    level: item.level,
    status: item.status,
    hash: item.hash,
    total_occurrences: item.total_occurrences,
    unique_occurrences: item.unique_people,
    first_occurrence_timestamp: item.first_occurrence_timestamp,
    last_occurrence_timestamp: item.last_occurrence_timestamp,
    last_occurrence_id: item.last_occurrence_id,
    last_code_version: item.last_code_version,
    resolved_in_version: item.resolved_in_version,
    ...(lastOccurrence ? { last_occurrence: lastOccurrence } : {}),
  };
}

function deployOf(deploy: NotifiedDeploy) {
  return {
    id: deploy.id,
    project_id: deploy.project_id,
    environment: deploy.environment,
    revision: deploy.revision,
    comment: deploy.comment,
    local_username: deploy.local_username,
    rollbar_username: deploy.rollbar_username,
    status: deploy.status,
    start_time: deploy.start_time,
    finish_time: deploy.finish_time,
  };
}

/** Rollbar's webhook payload for an event, or undefined when the event has nothing a webhook carries. */
export function webhookPayloadOf(event: NotificationEvent): Record<string, unknown> | undefined {
  const marked = event.sample ? { sample: true } : {};
  if (event.trigger === 'deploy') {
    return event.deploy
      ? { event_name: 'deploy', ...marked, data: { deploy: deployOf(event.deploy) } }
      : undefined;
  }
  if (!event.item || event.trigger === 'daily_summary') return undefined;
  const occurrence = occurrenceOf(event);
  const data: Record<string, unknown> = { item: itemOf(event.item, occurrence) };
  if (occurrence) data.occurrence = occurrence;
  if (event.trigger === 'exp_repeat_item' || event.trigger === 'occurrence')
    data.occurrences = event.occurrences;
  if (event.trigger === 'occurrence_rate' && event.rate) {
    data.occurrences = event.occurrences;
    data.trigger = {
      threshold: event.rate.count,
      window_size: event.rate.period,
      window_size_description: periodWords(event.rate.period),
      window_start: event.rate.window_start,
    };
  }
  return { event_name: EVENT_NAMES[event.trigger] ?? event.trigger, ...marked, data };
}

export const webhookChannel: Channel<'webhook'> = {
  name: 'webhook',
  async deliver({ rule, event, deliveryKey, http, now }) {
    const payload = webhookPayloadOf(event);
    if (!payload)
      return { status: 'skipped', httpStatus: null, response: `a webhook carries no ${event.trigger}` };
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'webhook-id': deliveryKey,
      'webhook-timestamp': String(Math.floor(now / 1000)),
    };
    // Signed at each attempt: the timestamp is the attempt's, as receivers refuse a stale one.
    if (rule.config.secret) {
      headers['webhook-signature'] = new Webhook(rule.config.secret).sign(deliveryKey, new Date(now), body);
    }
    return sendAndClassify(http, { method: 'POST', url: rule.config.url, headers, body });
  },
  // A customer's own endpoint: no vendor pace to keep.
  rateLimit: () => undefined,
};
