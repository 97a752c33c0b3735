// Each channel's config: its schema (checked when a rule is saved), which fields are credentials
// (encrypted at rest, masked when shown), the vendor's default base URL (overridable, so tests and
// self-hosted vendors such as GitHub Enterprise or Jira Data Center work) and the triggers it takes.
import { z } from 'zod';
import { LEVELS } from '#shared/domain/levels';
import { type ChannelName, TRIGGERS, type TriggerName } from './model';

const url = z.url({ protocol: /^https?$/ }).max(2048);
const name = z.string().min(1).max(255);

/**
 * The noise settings every rule may carry in its config: at most one message per item per
 * `action_interval` seconds, and at most `max_per_hour` `occurrence` messages per item per hour.
 */
export const noiseSettingsSchema = z.object({
  action_interval: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .optional(),
  max_per_hour: z.coerce.number().int().min(1).max(3600).optional(),
});
export type NoiseSettings = z.infer<typeof noiseSettingsSchema>;

/** Every occurrence is told at most every 5 minutes per item and 12 times an hour unless a rule says otherwise. */
export function noiseSettingsOf(trigger: TriggerName, config: NoiseSettings): Required<NoiseSettings> {
  return {
    action_interval: config.action_interval ?? (trigger === 'occurrence' ? 300 : 0),
    max_per_hour: config.max_per_hour ?? 12,
  };
}

const webhook = noiseSettingsSchema.extend({
  url,
  /** Standard Webhooks key, `whsec_` + base64; generated when a rule is saved without one, shown once. */
  secret: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/)
    .optional(),
});
const email = noiseSettingsSchema.extend({
  to: z.array(z.email()).min(1).max(50),
  /** daily_summary: seconds after midnight UTC (Rollbar's), rounded to the schedule's quarter hour. */
  summary_time: z.coerce.number().int().min(0).max(86_399).optional(),
  /** daily_summary: send nothing on a day with nothing new, reactivated or frequent (default true). */
  send_only_if_data: z.boolean().optional(),
  environments: z.array(name).max(20).optional(),
  min_item_level: z.enum(LEVELS).optional(),
});
const slack = noiseSettingsSchema.extend({
  /** The incoming webhook URL (a credential: it is the only thing needed to post). */
  url,
  channel: z.string().max(80).optional(),
  message_template: z.string().max(2000).optional(),
  show_message_buttons: z.boolean().optional(),
});
const teams = noiseSettingsSchema.extend({ url });
const discord = noiseSettingsSchema.extend({ url, username: z.string().max(80).optional() });
const pagerduty = noiseSettingsSchema.extend({
  /** The Events API v2 integration (routing) key; Rollbar calls it `service_key`. */
  service_key: z.string().min(1).max(64),
  api_url: url.default('https://events.pagerduty.com'),
});
const github = noiseSettingsSchema.extend({
  token: z.string().min(1).max(512),
  owner: name,
  repo: name,
  labels: z.array(name).max(20).optional(),
  assignees: z.array(name).max(10).optional(),
  api_url: url.default('https://api.github.com'),
});
const jira = noiseSettingsSchema.extend({
  /** The Jira site, e.g. https://acme.atlassian.net (or a Data Center base URL). */
  base_url: url,
  email: z.email(),
  api_token: z.string().min(1).max(512),
  project_key: z.string().regex(/^[A-Z][A-Z0-9_]{0,254}$/),
  issue_type: name.default('Bug'),
});
const trello = noiseSettingsSchema.extend({
  key: z.string().min(1).max(512),
  token: z.string().min(1).max(512),
  list_id: name,
  api_url: url.default('https://api.trello.com'),
});
const asana = noiseSettingsSchema.extend({
  token: z.string().min(1).max(512),
  project_gid: name,
  api_url: url.default('https://app.asana.com'),
});
const campfire = noiseSettingsSchema.extend({
  /** The bot's messages URL: `{server}/rooms/{room_id}/{bot_key}/messages` (a credential). */
  url,
});

/** All triggers but the email-only daily summary. */
const ITEM_AND_DEPLOY = TRIGGERS.filter((trigger) => trigger !== 'daily_summary');
/** Trackers file items: deploys and summaries have no item to file. */
const ITEM_TRIGGERS = ITEM_AND_DEPLOY.filter((trigger) => trigger !== 'deploy');

export interface ChannelConfigDeclaration<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** Credentials: encrypted at rest, never shown in full by the API, the CLI or the logs. */
  secretFields: readonly string[];
  /** Config fields holding URLs the sender will call: checked for safety when a rule is saved. */
  urlFields: readonly string[];
  triggers: readonly TriggerName[];
}

export const channelConfigs = {
  webhook: { schema: webhook, secretFields: ['secret'], urlFields: ['url'], triggers: ITEM_AND_DEPLOY },
  email: { schema: email, secretFields: [], urlFields: [], triggers: TRIGGERS },
  slack: { schema: slack, secretFields: ['url'], urlFields: ['url'], triggers: ITEM_AND_DEPLOY },
  teams: { schema: teams, secretFields: ['url'], urlFields: ['url'], triggers: ITEM_AND_DEPLOY },
  discord: { schema: discord, secretFields: ['url'], urlFields: ['url'], triggers: ITEM_AND_DEPLOY },
  pagerduty: {
    schema: pagerduty,
    secretFields: ['service_key'],
    urlFields: ['api_url'],
    // PagerDuty pages: new, reactivated, 10^n-th and rate events trigger; resolving resolves.
    triggers: [
      'new_item',
      'reactivated_item',
      'exp_repeat_item',
      'occurrence_rate',
      'resolved_item',
      'reopened_item',
    ],
  },
  github: { schema: github, secretFields: ['token'], urlFields: ['api_url'], triggers: ITEM_TRIGGERS },
  jira: { schema: jira, secretFields: ['api_token'], urlFields: ['base_url'], triggers: ITEM_TRIGGERS },
  trello: { schema: trello, secretFields: ['key', 'token'], urlFields: ['api_url'], triggers: ITEM_TRIGGERS },
  asana: { schema: asana, secretFields: ['token'], urlFields: ['api_url'], triggers: ITEM_TRIGGERS },
  campfire: { schema: campfire, secretFields: ['url'], urlFields: ['url'], triggers: ITEM_AND_DEPLOY },
} as const satisfies Record<ChannelName, ChannelConfigDeclaration>;

export type ChannelConfig<C extends ChannelName> = z.infer<(typeof channelConfigs)[C]['schema']>;
