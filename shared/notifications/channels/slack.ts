// The Slack channel: an incoming webhook with Block Kit. The item's title is user data, so it goes in
// plain_text (Slack parses no mentions, links or formatting there); mrkdwn holds only our words and
// values escaped of `&`, `<` and `>`, which are all that make a mention (`<!channel>`) or a link.
import type { Channel } from '../channel';
import type { ChannelConfig } from '../channel-configs';
import type { NotificationEvent } from '../model';
import { destinationKey } from './destination';
import {
  cut,
  detailsOf,
  escapeSlack,
  eventWords,
  headlineOf,
  itemLabel,
  itemUrlOf,
  oneLine,
} from './message';
import { sendAndClassify } from './outcome';

/** Slack's limits: section text 3000, fields 10 of 2000, plain_text in a button 75. */
const SECTION_TEXT = 3000;
const FIELDS = 10;
const FIELD_TEXT = 2000;

/** `{{title}}`-style placeholders a `message_template` may use, each value escaped for mrkdwn. */
export function renderSlackTemplate(
  template: string,
  event: NotificationEvent,
  url: string | undefined,
): string {
  const item = event.item;
  const values: Record<string, string> = {
    title: item?.title ?? '',
    environment: item?.environment ?? event.deploy?.environment ?? '',
    level: item?.level ?? '',
    url: url ?? '',
    counter: item ? String(item.counter) : '',
    occurrences: String(event.occurrences ?? item?.total_occurrences ?? ''),
    event: eventWords(event),
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (placeholder, name: string) =>
    name in values ? escapeSlack(oneLine(values[name] ?? '')) : placeholder,
  );
}

export function slackMessageOf(event: NotificationEvent, config: ChannelConfig<'slack'>, publicUrl: string) {
  const url = itemUrlOf(event.item, publicUrl);
  const words = `${event.sample ? '[test] ' : ''}${eventWords(event)}`;
  const headline = config.message_template
    ? renderSlackTemplate(config.message_template, event, url)
    : url
      ? `*<${url}|${escapeSlack(words)}>*`
      : `*${escapeSlack(words)}*`;
  const blocks: Array<Record<string, unknown>> = [
    { type: 'section', text: { type: 'mrkdwn', text: cut(headline, SECTION_TEXT), verbatim: true } },
  ];
  if (event.item && !config.message_template) {
    blocks.push({
      type: 'section',
      text: {
        type: 'plain_text',
        text: cut(itemLabel(event.item, SECTION_TEXT), SECTION_TEXT),
        emoji: false,
      },
    });
  }
  const details = detailsOf(event).slice(0, FIELDS);
  if (details.length > 0) {
    blocks.push({
      type: 'section',
      fields: details.map(([label, value]) => ({
        type: 'plain_text',
        text: cut(`${label}: ${oneLine(value)}`, FIELD_TEXT),
        emoji: false,
      })),
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'plain_text', text: `Faultline · project ${event.project_id}`, emoji: false }],
  });
  if (config.show_message_buttons && url) {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'View item' }, url, action_id: 'view_item' },
      ],
    });
  }
  return {
    // The notification's and old clients' text: parsed as mrkdwn, so escaped.
    text: cut(escapeSlack(oneLine(headlineOf(event))), SECTION_TEXT),
    blocks,
    ...(config.channel ? { channel: config.channel } : {}),
  };
}

export const slackChannel: Channel<'slack'> = {
  name: 'slack',
  async deliver({ rule, event, http, publicUrl }) {
    return sendAndClassify(http, {
      method: 'POST',
      url: rule.config.url,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(slackMessageOf(event, rule.config, publicUrl)),
    });
  },
  // Slack allows about one message a second per incoming webhook, with short bursts.
  rateLimit: (config) => ({ key: destinationKey('slack', config.url), perSecond: 1 }),
};
