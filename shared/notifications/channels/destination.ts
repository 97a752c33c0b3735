// The key a destination's deliveries share for its rate limit. Webhook URLs of Slack, Teams, Discord and
// Campfire are credentials (the URL alone can post), so the key is their SHA-256, never the URL.
import { createHash } from 'node:crypto';
import type { ChannelName } from '../model';

export const destinationKey = (channel: ChannelName, url: string): string =>
  `${channel}:${createHash('sha256').update(url).digest('hex')}`;
