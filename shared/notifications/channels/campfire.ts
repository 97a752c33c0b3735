// The Campfire channel (37signals' open-sourced ONCE Campfire): a room bot's messages URL takes the
// message as the request body. Campfire stores that body as rich text (HTML), so the headline is
// HTML-escaped (an item title cannot add markup or links) and the item's link is an anchor.
import type { Channel } from '../channel';
import type { NotificationEvent } from '../model';
import { destinationKey } from './destination';
import { cut, escapeHtml, headlineOf, itemUrlOf, oneLine } from './message';
import { sendAndClassify } from './outcome';

const HEADLINE = 1000;

export function campfireMessageOf(event: NotificationEvent, publicUrl: string): string {
  const url = itemUrlOf(event.item, publicUrl);
  const headline = escapeHtml(cut(oneLine(headlineOf(event, HEADLINE)), HEADLINE));
  return url ? `${headline} <a href="${escapeHtml(url)}">${escapeHtml(url)}</a>` : headline;
}

export const campfireChannel: Channel<'campfire'> = {
  name: 'campfire',
  async deliver({ rule, event, http, publicUrl }) {
    return sendAndClassify(http, {
      method: 'POST',
      url: rule.config.url,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: campfireMessageOf(event, publicUrl),
    });
  },
  // A self-hosted server with no documented limit: a gentle pace so a burst does not flood the room.
  rateLimit: (config) => ({ key: destinationKey('campfire', config.url), perSecond: 5 }),
};
