// The Discord channel: a webhook with one embed, `?wait=true` so Discord answers whether it posted.
// `allowed_mentions: {parse: []}` means nothing in the message pings anyone (an item titled
// "@everyone down" stays text), and Discord markdown in user data is backslash-escaped.
import type { Channel } from '../channel';
import type { ChannelConfig } from '../channel-configs';
import type { NotificationEvent } from '../model';
import { destinationKey } from './destination';
import { cut, detailsOf, escapeMarkdown, headlineOf, itemUrlOf, oneLine } from './message';
import { sendAndClassify } from './outcome';

/** Discord's embed limits. */
export const DISCORD_LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  total: 6000,
};

const COLORS: Record<string, number> = {
  critical: 0x8b0000,
  error: 0xe01e5a,
  warning: 0xecb22e,
  info: 0x36c5f0,
  debug: 0x9e9e9e,
};
const RESOLVED_COLOR = 0x2eb67d;
const DEPLOY_COLOR = 0x4a5cff;

const length = (text: string) => [...text].length;

/** Escaped markdown within `max` characters: the raw text is cut until its escaped form fits. */
export function escapedWithin(text: string, max: number): string {
  let keep = length(text);
  let escaped = escapeMarkdown(text);
  while (length(escaped) > max) {
    keep -= Math.max(1, length(escaped) - max);
    // `cut` ends with an ellipsis, which needs no escape.
    escaped = escapeMarkdown(cut(text, Math.max(1, keep)));
  }
  return escaped;
}

function colorOf(event: NotificationEvent): number {
  if (event.trigger === 'deploy') return DEPLOY_COLOR;
  if (event.trigger === 'resolved_item') return RESOLVED_COLOR;
  return COLORS[event.item?.level ?? 'error'] ?? COLORS.error!;
}

export function discordMessageOf(
  event: NotificationEvent,
  config: ChannelConfig<'discord'>,
  publicUrl: string,
) {
  const url = itemUrlOf(event.item, publicUrl);
  const title = escapedWithin(oneLine(headlineOf(event, DISCORD_LIMITS.title)), DISCORD_LIMITS.title);
  const fields = detailsOf(event)
    .slice(0, DISCORD_LIMITS.fields)
    .map(([name, value]) => ({
      name: cut(name, DISCORD_LIMITS.fieldName),
      value: escapedWithin(oneLine(value), DISCORD_LIMITS.fieldValue) || '-',
      inline: true,
    }));
  const used =
    length(title) + fields.reduce((sum, field) => sum + length(field.name) + length(field.value), 0);
  // The full title in the description, within what the 6000-character total leaves.
  const room = Math.min(DISCORD_LIMITS.description, DISCORD_LIMITS.total - used);
  const description = event.item && room > 0 ? escapedWithin(event.item.title, room) : undefined;
  return {
    username: config.username ?? 'Faultline',
    embeds: [
      {
        title,
        ...(url ? { url } : {}),
        ...(description ? { description } : {}),
        color: colorOf(event),
        fields,
        timestamp: new Date(event.occurred_at).toISOString(),
      },
    ],
    allowed_mentions: { parse: [] },
  };
}

/** The webhook URL with `wait=true`, keeping any query it has (`thread_id`). */
function waitingUrl(webhookUrl: string): string {
  const url = new URL(webhookUrl);
  url.searchParams.set('wait', 'true');
  return url.toString();
}

export const discordChannel: Channel<'discord'> = {
  name: 'discord',
  async deliver({ rule, event, http, publicUrl }) {
    return sendAndClassify(http, {
      method: 'POST',
      url: waitingUrl(rule.config.url),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(discordMessageOf(event, rule.config, publicUrl)),
    });
  },
  // Discord allows about 5 requests per 2 seconds per webhook.
  rateLimit: (config) => ({ key: destinationKey('discord', config.url), perSecond: 2 }),
};
