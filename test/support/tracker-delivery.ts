// What the tracker channels' tests share: DynamoDB Local with the real channel links, the real
// outbound client (loopback allowed, as the local stack does), and items, events and delivery
// contexts built the way the fan-out and the sender build them.
import { createDocumentClient } from '#shared/aws/clients';
import type { Channel, DeliveryContext, DeliveryOutcome } from '#shared/notifications/channel';
import { type ChannelConfig, channelConfigs } from '#shared/notifications/channel-configs';
import type {
  ChannelName,
  NotificationEvent,
  NotifiedItem,
  Rule,
  TriggerName,
} from '#shared/notifications/model';
import { deliveryKey } from '#shared/notifications/model';
import { createOutboundHttp } from '#shared/notifications/outbound-http';
import { DynamoDBChannelLinks } from '#shared/store/channel-links';
import { type Dynamo, startDynamoWithTables } from './emulators';

export const PUBLIC_URL = 'https://faultline.example.com';

export const outboundHttp = () =>
  createOutboundHttp({ allowLoopback: true, httpsOnly: false, timeoutMs: 2000, maxResponseBytes: 65_536 });

export async function startLinks(): Promise<{ dynamo: Dynamo; links: DynamoDBChannelLinks }> {
  const dynamo = await startDynamoWithTables('trackers');
  return {
    dynamo,
    links: new DynamoDBChannelLinks(createDocumentClient(dynamo.client), dynamo.tableNames.notifications),
  };
}

let nextItemId = 100;

export function itemOf(overrides: Partial<NotifiedItem> = {}): NotifiedItem {
  const id = overrides.id ?? nextItemId++;
  return {
    id,
    project_id: 1,
    counter: id - 90,
    title: 'TypeError: Cannot read properties of undefined (reading "id")',
    level: 'error',
    environment: 'production',
    platform: 'browser',
    framework: 'react',
    language: 'javascript',
    status: 'active',
    total_occurrences: 3,
    unique_people: 2,
    first_occurrence_timestamp: 1_790_000_000,
    last_occurrence_timestamp: 1_790_000_100,
    last_occurrence_id: '9b2a6c1e-0c1f-4e57-9a0c-1d2e3f405060',
    last_code_version: 'abc123',
    resolved_in_version: null,
    hash: 'f'.repeat(40),
    ...overrides,
  };
}

let nextEventId = 1;

export function eventOf(
  trigger: TriggerName,
  item: NotifiedItem | undefined,
  extra: Partial<NotificationEvent> = {},
): NotificationEvent {
  return {
    id: `shardId-1:${nextEventId++}:${trigger}`,
    trigger,
    project_id: item?.project_id ?? 1,
    occurred_at: Date.now(),
    ...(item ? { item } : {}),
    ...extra,
  };
}

let nextRuleId = 1;

/** A rule as the sender gets it: its config parsed by the channel's schema (defaults applied). */
export function ruleOf<N extends ChannelName>(
  channel: N,
  trigger: TriggerName,
  config: unknown,
): Rule<ChannelConfig<N>> {
  return {
    id: nextRuleId++,
    project_id: 1,
    channel,
    trigger,
    status: 'enabled',
    filters: [],
    config: channelConfigs[channel].schema.parse(config) as ChannelConfig<N>,
    created_at: 1_790_000_000,
    updated_at: 1_790_000_000,
  };
}

export interface Deliverer {
  /** Delivers one event through one rule, as the sender does on one attempt. */
  deliver<N extends ChannelName>(
    channel: Channel<N>,
    rule: Rule<ChannelConfig<N>>,
    event: NotificationEvent,
    attempt?: number,
  ): Promise<DeliveryOutcome>;
}

export function delivererOf(links: DynamoDBChannelLinks, options: { publicUrl?: string } = {}): Deliverer {
  const http = outboundHttp();
  return {
    deliver<N extends ChannelName>(
      channel: Channel<N>,
      rule: Rule<ChannelConfig<N>>,
      event: NotificationEvent,
      attempt = 1,
    ) {
      const context: DeliveryContext<ChannelConfig<N>> = {
        rule,
        event,
        deliveryKey: deliveryKey(event.id, rule.id),
        attempt,
        http,
        email: {
          send: () => Promise.reject(new Error('tracker channels send no email')),
        },
        links,
        publicUrl: options.publicUrl ?? PUBLIC_URL,
        now: Date.now(),
      };
      return channel.deliver(context);
    },
  };
}
