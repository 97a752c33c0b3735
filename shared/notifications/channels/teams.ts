// The Microsoft Teams channel: a Workflows webhook ("When a Teams webhook request is received"), which
// takes Adaptive Cards only. The headline is a RichTextBlock's TextRun, which Teams renders without
// markdown, so an item title cannot format itself or smuggle a link; fact values are escaped of the
// markdown Teams renders there (bold, italic, links).
import type { Channel } from '../channel';
import type { NotificationEvent } from '../model';
import { destinationKey } from './destination';
import { cut, detailsOf, headlineOf, itemUrlOf, oneLine } from './message';
import { sendAndClassify } from './outcome';

/** A message over 28 KB is refused; titles are cut well below it. */
const HEADLINE = 1000;
const FACT_VALUE = 500;

const escapeTeamsMarkdown = (text: string): string => text.replace(/[\\*_[\]]/g, '\\$&');

export function teamsMessageOf(event: NotificationEvent, publicUrl: string) {
  const url = itemUrlOf(event.item, publicUrl);
  const body: Array<Record<string, unknown>> = [
    {
      type: 'RichTextBlock',
      inlines: [
        {
          type: 'TextRun',
          text: cut(oneLine(headlineOf(event, HEADLINE)), HEADLINE),
          weight: 'Bolder',
          size: 'Medium',
        },
      ],
    },
  ];
  const facts = detailsOf(event).map(([title, value]) => ({
    title,
    value: escapeTeamsMarkdown(cut(oneLine(value), FACT_VALUE)),
  }));
  if (facts.length > 0) body.push({ type: 'FactSet', facts });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.2',
          body,
          ...(url ? { actions: [{ type: 'Action.OpenUrl', title: 'View item', url }] } : {}),
        },
      },
    ],
  };
}

export const teamsChannel: Channel<'teams'> = {
  name: 'teams',
  async deliver({ rule, event, http, publicUrl }) {
    return sendAndClassify(http, {
      method: 'POST',
      url: rule.config.url,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(teamsMessageOf(event, publicUrl)),
    });
  },
  // Teams documented 4 requests a second per connector webhook; Workflows publish no figure, so the same.
  rateLimit: (config) => ({ key: destinationKey('teams', config.url), perSecond: 4 }),
};
