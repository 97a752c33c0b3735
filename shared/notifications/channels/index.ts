// Every channel built, by name: the sender looks a rule's channel up here.
import type { Channel } from '../channel';
import type { ChannelName } from '../model';
import { asana } from './asana';
import { campfireChannel } from './campfire';
import { discordChannel } from './discord';
import { emailChannel } from './email';
import { github } from './github';
import { jira } from './jira';
import { pagerduty } from './pagerduty';
import { slackChannel } from './slack';
import { teamsChannel } from './teams';
import { trello } from './trello';
import { webhookChannel } from './webhook';

export const channels: { [N in ChannelName]: Channel<N> } = {
  webhook: webhookChannel,
  email: emailChannel,
  slack: slackChannel,
  teams: teamsChannel,
  discord: discordChannel,
  pagerduty,
  github,
  jira,
  trello,
  asana,
  campfire: campfireChannel,
};
