// The channels notification rules can use, by name: plain data, so the dashboard's bundle can share
// the list without the rule schemas (`./model`).

/** The channels built. HipChat (closed 2019) and Pivotal Tracker (closed 2025) are not. */
export const CHANNELS = [
  'webhook',
  'email',
  'slack',
  'teams',
  'discord',
  'pagerduty',
  'github',
  'jira',
  'trello',
  'asana',
  'campfire',
] as const;
export type ChannelName = (typeof CHANNELS)[number];
