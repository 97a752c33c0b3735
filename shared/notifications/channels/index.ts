// Every channel built, by name: the sender looks a rule's channel up here.
import type { Channel } from '../channel';
import type { ChannelName } from '../model';
import { asana } from './asana';
import { github } from './github';
import { jira } from './jira';
import { pagerduty } from './pagerduty';
import { trello } from './trello';

export const channels: { [N in ChannelName]?: Channel<N> } = {
  pagerduty,
  github,
  jira,
  trello,
  asana,
};
