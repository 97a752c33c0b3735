// Events, rules and delivery contexts for channel tests: an item as the fan-out reads it from the
// stream, a deploy, a daily summary, and a context that reaches the network through the real client.

import type { ChannelLinks, DeliveryContext, EmailSender, OutboundHttp } from '#shared/notifications/channel';
import type { ChannelConfig } from '#shared/notifications/channel-configs';
import type {
  ChannelName,
  NotificationEvent,
  NotifiedDeploy,
  NotifiedItem,
  Rule,
  TriggerName,
} from '#shared/notifications/model';
import { deliveryKey } from '#shared/notifications/model';
import { createOutboundHttp } from '#shared/notifications/outbound-http';

export const NOW = Date.UTC(2026, 10, 23, 10, 30, 0);
export const PUBLIC_URL = 'https://faultline.example.com';

/** The outbound client with the local stack's policy: loopback allowed, plain http allowed. */
export const loopbackHttp = (): OutboundHttp =>
  createOutboundHttp({
    allowLoopback: true,
    httpsOnly: false,
    timeoutMs: 2_000,
    maxResponseBytes: 64 * 1024,
  });

export function notifiedItem(overrides: Partial<NotifiedItem> = {}): NotifiedItem {
  return {
    id: 9001,
    project_id: 1,
    counter: 12,
    title: "TypeError: Cannot read properties of undefined (reading 'id')",
    level: 'error',
    environment: 'production',
    platform: 'browser',
    framework: 'react',
    language: 'javascript',
    status: 'active',
    total_occurrences: 1,
    unique_people: 0,
    first_occurrence_timestamp: NOW / 1000 - 5,
    last_occurrence_timestamp: NOW / 1000 - 5,
    last_occurrence_id: '0b7f7f2e-5a3c-4f8e-9a53-0d2b4c6e8f10',
    last_code_version: '3.4.1',
    resolved_in_version: null,
    hash: 'f3b2c1d0e9f8a7b6',
    ...overrides,
  };
}

export function itemEvent(
  trigger: TriggerName = 'new_item',
  overrides: Partial<NotificationEvent> = {},
  item: Partial<NotifiedItem> = {},
): NotificationEvent {
  const notified = notifiedItem(item);
  return {
    id: `shardId-0001:${trigger}:${notified.id}`,
    trigger,
    project_id: 1,
    occurred_at: NOW,
    item: notified,
    occurrence: {
      uuid: notified.last_occurrence_id,
      timestamp: notified.last_occurrence_timestamp,
      data: {
        environment: notified.environment,
        level: notified.level,
        body: { trace: { exception: { class: 'TypeError', message: 'boom' }, frames: [] } },
        request: { url: 'https://shop.example.com/cart', method: 'POST' },
      },
    },
    ...overrides,
  };
}

export function notifiedDeploy(overrides: Partial<NotifiedDeploy> = {}): NotifiedDeploy {
  return {
    id: 3,
    project_id: 1,
    environment: 'production',
    revision: '9f8e7d6c5b4a',
    comment: 'Release 3.4.2',
    local_username: 'ana',
    rollbar_username: null,
    status: 'succeeded',
    start_time: NOW / 1000 - 60,
    finish_time: NOW / 1000,
    ...overrides,
  };
}

export const deployEvent = (overrides: Partial<NotifiedDeploy> = {}): NotificationEvent => ({
  id: 'deploy:1:3',
  trigger: 'deploy',
  project_id: 1,
  occurred_at: NOW,
  deploy: notifiedDeploy(overrides),
});

export function ruleFor<N extends ChannelName>(
  channel: N,
  config: ChannelConfig<N>,
  trigger: TriggerName = 'new_item',
): Rule<ChannelConfig<N>> {
  return {
    id: 77,
    project_id: 1,
    channel,
    trigger,
    status: 'enabled',
    filters: [],
    config,
    created_at: NOW / 1000 - 3600,
    updated_at: NOW / 1000 - 3600,
  };
}

const noEmail: EmailSender = {
  send: () => Promise.reject(new Error('this test sends no email')),
};

/** Tracker links in memory: the push channels never read them. */
export function memoryLinks(): ChannelLinks {
  const links = new Map<string, Record<string, string>>();
  return {
    get: async (ruleId, itemId) => links.get(`${ruleId}#${itemId}`),
    put: async (ruleId, itemId, link) => {
      links.set(`${ruleId}#${itemId}`, link);
    },
  };
}

export function deliveryContext<C>(
  rule: Rule<C>,
  event: NotificationEvent,
  options: {
    http?: OutboundHttp;
    email?: EmailSender;
    attempt?: number;
    now?: number;
    publicUrl?: string;
  } = {},
): DeliveryContext<C> {
  return {
    rule,
    event,
    deliveryKey: deliveryKey(event.id, rule.id),
    attempt: options.attempt ?? 1,
    http: options.http ?? loopbackHttp(),
    email: options.email ?? noEmail,
    links: memoryLinks(),
    publicUrl: options.publicUrl ?? PUBLIC_URL,
    now: options.now ?? NOW,
  };
}
