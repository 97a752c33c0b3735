// Every channel built, by name: the sender looks a rule's channel up here.
import type { Channel } from '../channel';
import type { ChannelName } from '../model';
import { campfireChannel } from './campfire';
import { discordChannel } from './discord';
import { emailChannel } from './email';
import { slackChannel } from './slack';
import { teamsChannel } from './teams';
import { webhookChannel } from './webhook';

export const channels: { [N in ChannelName]?: Channel<N> } = {
  webhook: webhookChannel,
  email: emailChannel,
  slack: slackChannel,
  teams: teamsChannel,
  discord: discordChannel,
  campfire: campfireChannel,
};
