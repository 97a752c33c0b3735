// Every channel built, by name: the sender looks a rule's channel up here.
import type { Channel } from '../channel';
import type { ChannelName } from '../model';

export const channels: { [N in ChannelName]?: Channel<N> } = {};
