// Notification rules, events and deliveries: Rollbar's rule model (trigger, filters, channel config)
// parsed at the edge with zod, and the plain values the fan-out, the senders and the API pass along.
import { z } from 'zod';
import { LEVELS } from '#shared/domain/levels';
import { CHANNELS, type ChannelName } from './channel-names';

/** Rollbar's trigger names. `daily_summary` is email only. */
export const TRIGGERS = [
  'new_item',
  'reactivated_item',
  'exp_repeat_item',
  'resolved_item',
  'reopened_item',
  'deploy',
  'occurrence',
  'occurrence_rate',
  'daily_summary',
] as const;
export type TriggerName = (typeof TRIGGERS)[number];

export { CHANNELS, type ChannelName };

/** Channels Rollbar has (or had) that Faultline does not build, with the reason told to a caller. */
export const CLOSED_CHANNELS: Readonly<Record<string, string>> = {
  hipchat: 'HipChat closed in February 2019',
  pivotal: 'Pivotal Tracker closed in April 2025',
  pivotaltracker: 'Pivotal Tracker closed in April 2025',
};

/** The periods, in seconds, an `occurrence_rate` rule may count over (Rollbar's). */
export const RATE_PERIODS = [60, 300, 1800, 3600, 86_400] as const;

const text = z.string().max(1024);

/**
 * Filters, in Rollbar's types and operations. `within`/`nwithin` test whether the value is
 * contained in the field (Rollbar's "contains"); regexes are RE2 syntax and run in linear time.
 */
export const filterSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('environment'), operation: z.enum(['eq', 'neq', 'within']), value: text }),
  z.object({ type: z.literal('level'), operation: z.enum(['eq', 'gte']), value: z.enum(LEVELS) }),
  z.object({
    type: z.enum(['title', 'filename', 'method']),
    operation: z.enum(['within', 'nwithin', 'regex', 'nregex']),
    value: text,
  }),
  z.object({ type: z.literal('context'), operation: z.enum(['startswith', 'eq', 'neq']), value: text }),
  z.object({ type: z.literal('framework'), operation: z.literal('eq'), value: text }),
  z.object({
    type: z.literal('path'),
    /** A dotted path into the last occurrence's `data`, e.g. `body.trace.exception.class`. */
    path: z.string().min(1).max(255),
    operation: z.enum([
      'eq',
      'neq',
      'gte',
      'lte',
      'within',
      'nwithin',
      'regex',
      'nregex',
      'startswith',
      'exists',
      'nexists',
    ]),
    value: text.optional(),
  }),
  z.object({
    type: z.literal('unique_occurrences'),
    operation: z.literal('gte'),
    value: z.coerce.number().int().min(1),
  }),
  z.object({
    type: z.literal('rate'),
    period: z.coerce.number().pipe(z.union(RATE_PERIODS.map((period) => z.literal(period)))),
    count: z.coerce.number().int().min(1),
  }),
  /** Deploy rules: the deploy's comment contains the value. */
  z.object({ type: z.literal('comment'), operation: z.literal('within'), value: text }),
]);
export type RuleFilter = z.infer<typeof filterSchema>;

/**
 * What a client sends for a rule (POST takes an array of these, PUT one). `config` is checked
 * against the channel's own schema (`./channel-configs`), with the noise settings every channel shares.
 */
export const ruleInputSchema = z.object({
  trigger: z.enum(TRIGGERS),
  status: z.enum(['enabled', 'disabled']).default('enabled'),
  filters: z.array(filterSchema).max(20).default([]),
  config: z.record(z.string(), z.unknown()).default({}),
});
export type RuleInput = z.infer<typeof ruleInputSchema>;

/** A stored rule, its config parsed and its secrets decrypted (never shown: see `maskConfig`). */
export interface Rule<Config = Record<string, unknown>> {
  id: number;
  project_id: number;
  channel: ChannelName;
  trigger: TriggerName;
  status: 'enabled' | 'disabled';
  filters: RuleFilter[];
  config: Config;
  /** Seconds, like every timestamp the API shows. */
  created_at: number;
  updated_at: number;
}

/** The item as notifications show it: Rollbar's field names, taken from the stream's new image. */
export interface NotifiedItem {
  id: number;
  project_id: number;
  counter: number;
  title: string;
  level: string;
  environment: string;
  platform: string;
  framework: string | null;
  language: string | null;
  status: string;
  total_occurrences: number;
  unique_people: number;
  first_occurrence_timestamp: number;
  last_occurrence_timestamp: number;
  last_occurrence_id: string;
  last_code_version: string | null;
  resolved_in_version: string | null;
  hash: string;
}

export interface NotifiedOccurrence {
  uuid: string;
  timestamp: number;
  /** The occurrence's Rollbar `data` (as stored, truncated), for webhooks and `path` filters. */
  data: Record<string, unknown>;
}

export interface NotifiedDeploy {
  id: number;
  project_id: number;
  environment: string;
  revision: string;
  comment: string | null;
  local_username: string | null;
  rollbar_username: string | null;
  status: string;
  start_time: number;
  finish_time: number | null;
}

export interface DailySummary {
  /** The UTC day summarized, `YYYY-MM-DD`. */
  day: string;
  new_items: NotifiedItem[];
  reactivated_items: NotifiedItem[];
  /** The day's most frequent items, with their occurrences that day. */
  top_items: Array<{ item: NotifiedItem; occurrences: number }>;
}

/**
 * Something that happened, once. The id is deterministic (built from the stream record's event id,
 * or the deploy's or summary's key), so a redelivered stream batch yields the same events and the
 * delivery key `{event.id}#{rule.id}` stops a second post.
 */
export interface NotificationEvent {
  id: string;
  trigger: TriggerName;
  /** `test`: a sample sent by `faultline rules test`; channels label it as such. */
  sample?: boolean;
  project_id: number;
  /** Milliseconds since the epoch: when the change that made this event was read. */
  occurred_at: number;
  item?: NotifiedItem;
  occurrence?: NotifiedOccurrence;
  /** exp_repeat_item: the power of ten crossed; occurrence: occurrences counted in this step; occurrence_rate: in the window. */
  occurrences?: number;
  /** occurrence_rate: the window counted over. */
  rate?: { period: number; count: number; window_start: number };
  deploy?: NotifiedDeploy;
  summary?: DailySummary;
}

/** One message on the notification queue: deliver one event through one rule. */
export interface DeliveryMessage {
  /** `{event.id}#{rule_id}`: the delivery record's key; it never posts twice. */
  key: string;
  project_id: number;
  rule_id: number;
  channel: ChannelName;
  event: NotificationEvent;
  /** 1 for the first try; the sender re-queues with a delay and attempt + 1. */
  attempt: number;
  /** When the fan-out queued the first try (ms). */
  queued_at: number;
}

export const deliveryKey = (eventId: string, ruleId: number) => `${eventId}#${ruleId}`;

/** One line of a rule's delivery log (the last 50 are kept readable). */
export interface DeliveryLogEntry {
  /** Milliseconds since the epoch. */
  time: number;
  key: string;
  event_id: string;
  trigger: TriggerName;
  item_id: number | null;
  attempt: number;
  /** sent; retrying (a retry is queued); failed (final); refused (SSRF); skipped (throttled, rule disabled…). */
  status: 'sent' | 'retrying' | 'failed' | 'refused' | 'skipped';
  http_status: number | null;
  /** The vendor's answer or the reason, cut to 500 characters. */
  response: string;
}
