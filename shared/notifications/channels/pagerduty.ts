// PagerDuty Events API v2: new, reactivated, reopened, 10^n-th and rate events trigger an alert
// whose dedup_key is the item's, so repeats fold into one incident; resolving the item resolves it.
import type { Channel, DeliveryContext, DeliveryOutcome } from '../channel';
import type { ChannelConfig } from '../channel-configs';
import type { NotificationEvent, NotifiedItem } from '../model';
import { headlineOf, itemUrlOf } from './message';
import { sendAndClassify } from './outcome';
import { baseOf, fingerprintOf, skipped, withoutSecrets } from './tracker';

type PagerDutyConfig = ChannelConfig<'pagerduty'>;

/** PagerDuty's documented limits. */
const SUMMARY_MAX = 1024;
const DEDUP_KEY_MAX = 255;

const SEVERITIES: Record<string, 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  error: 'error',
  warning: 'warning',
  info: 'info',
  debug: 'info',
};

/** One alert per item: `faultline-{project_id}-{item_id}`; a `rules test` sample gets its own. */
export function dedupKeyOf(event: NotificationEvent, item: NotifiedItem): string {
  return `faultline-${item.project_id}-${item.id}${event.sample ? '-test' : ''}`.slice(0, DEDUP_KEY_MAX);
}

export const pagerduty: Channel<'pagerduty'> = {
  name: 'pagerduty',

  async deliver(context) {
    return withoutSecrets(await deliverToPagerDuty(context), [context.rule.config.service_key]);
  },

  // The Events API takes about 120 events a minute per integration key; the key itself is a
  // credential, so the rate-limit key (which is stored) carries only its hash.
  rateLimit(config) {
    return { key: `pagerduty:${fingerprintOf(baseOf(config.api_url), config.service_key)}`, perSecond: 2 };
  },
};

async function deliverToPagerDuty(context: DeliveryContext<PagerDutyConfig>): Promise<DeliveryOutcome> {
  const { event, rule } = context;
  const item = event.item;
  if (!item) return skipped(`no item to page about for ${event.trigger}`);
  const dedupKey = dedupKeyOf(event, item);
  // A sample always triggers, so `faultline rules test` on a resolve rule shows something too.
  const body =
    event.trigger === 'resolved_item' && !event.sample
      ? { routing_key: rule.config.service_key, event_action: 'resolve', dedup_key: dedupKey }
      : triggerOf(context, item, dedupKey);
  return sendAndClassify(context.http, {
    method: 'POST',
    url: `${baseOf(rule.config.api_url)}/v2/enqueue`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function triggerOf(context: DeliveryContext<PagerDutyConfig>, item: NotifiedItem, dedupKey: string) {
  const { event, rule } = context;
  const url = itemUrlOf(item, context.publicUrl);
  const summary = headlineOf(event, SUMMARY_MAX);
  return {
    routing_key: rule.config.service_key,
    event_action: 'trigger',
    dedup_key: dedupKey,
    client: 'Faultline',
    ...(url ? { client_url: url } : {}),
    payload: {
      summary: summary.length > SUMMARY_MAX ? `${summary.slice(0, SUMMARY_MAX - 1)}…` : summary,
      source: sourceOf(event, item),
      severity: SEVERITIES[item.level] ?? 'error',
      timestamp: new Date((item.last_occurrence_timestamp || context.now / 1000) * 1000).toISOString(),
      ...(item.framework ? { component: item.framework } : {}),
      group: item.environment,
      class: item.level,
      custom_details: {
        item: `#${item.counter}`,
        title: item.title,
        trigger: event.trigger,
        level: item.level,
        environment: item.environment,
        total_occurrences: item.total_occurrences,
        unique_people: item.unique_people,
        ...(event.occurrences === undefined ? {} : { occurrences: event.occurrences }),
        ...(event.rate ? { rate: event.rate } : {}),
        first_occurrence: new Date(item.first_occurrence_timestamp * 1000).toISOString(),
        last_occurrence: new Date(item.last_occurrence_timestamp * 1000).toISOString(),
        ...(item.last_code_version ? { code_version: item.last_code_version } : {}),
        ...(url ? { link: url } : {}),
        ...(event.sample ? { test: 'sent by faultline rules test' } : {}),
      },
    },
    ...(url ? { links: [{ href: url, text: `Item #${item.counter} in Faultline` }] } : {}),
  };
}

/** PagerDuty wants the affected system: the item's environment, else the last occurrence's host. */
function sourceOf(event: NotificationEvent, item: NotifiedItem): string {
  if (item.environment) return item.environment.slice(0, 255);
  const server = event.occurrence?.data.server as { host?: unknown } | undefined;
  if (typeof server?.host === 'string' && server.host) return server.host.slice(0, 255);
  return 'faultline';
}
