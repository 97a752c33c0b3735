// Trello: an item's first notification puts a card at the top of a list, remembered at once; later
// events (reactivated, resolved, 10^n-th…) comment on the card. Trello takes its key and token in
// the query string, so the request URL is a credential: it is never logged or put in an outcome.
import type { Channel, DeliveryContext, DeliveryOutcome, OutboundRequest } from '../channel';
import type { ChannelConfig } from '../channel-configs';
import {
  baseOf,
  commentLineOf,
  exchange,
  fencedMarkdown,
  fingerprintOf,
  issueTitleOf,
  itemLinkOf,
  jsonOf,
  reportLinesOf,
  sent,
  skippedStep,
  trackerPlanOf,
  unreadableCreate,
  withoutSecrets,
} from './tracker';

type TrelloConfig = ChannelConfig<'trello'>;

const NAME_MAX = 512;

export const trello: Channel<'trello'> = {
  name: 'trello',

  async deliver(context) {
    const { key, token } = context.rule.config;
    return withoutSecrets(await deliverToTrello(context), [key, token]);
  },

  // Trello allows 100 requests per 10 seconds per token; the stored rate-limit key names its hash.
  rateLimit(config) {
    return { key: `trello:${fingerprintOf(baseOf(config.api_url), config.token)}`, perSecond: 5 };
  },
};

async function deliverToTrello(context: DeliveryContext<TrelloConfig>): Promise<DeliveryOutcome> {
  const { event, rule, http } = context;
  const plan = await trackerPlanOf(context);
  const { item } = plan;
  if (!item || plan.step === 'skip' || plan.step === 'filed')
    return skippedStep(plan.step === 'filed' ? 'filed' : 'skip', event);
  const config = rule.config;
  const url = itemLinkOf(context);

  if (plan.step === 'create' || !plan.link?.card) {
    const created = await exchange(
      http,
      request(config, '/1/cards', {
        idList: config.list_id,
        name: issueTitleOf(event, item, NAME_MAX),
        desc: fencedMarkdown(reportLinesOf(event), url, event.sample),
        pos: 'top',
      }),
    );
    if (created.outcome) return created.outcome;
    const id = (jsonOf(created.response.body) as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || !id) return unreadableCreate(created.response.status, 'card');
    if (!event.sample) await context.links.put(rule.id, item.id, { card: id });
    return sent(created.response.status, `card ${id} created`);
  }

  const card = plan.link.card;
  const commented = await exchange(
    http,
    request(config, `/1/cards/${encodeURIComponent(card)}/actions/comments`, {
      text: fencedMarkdown([commentLineOf(event)], url),
    }),
  );
  if (commented.outcome) return commented.outcome;
  return sent(commented.response.status, `card ${card} commented`);
}

function request(config: TrelloConfig, path: string, body: unknown): OutboundRequest {
  const credentials = new URLSearchParams({ key: config.key, token: config.token });
  return {
    method: 'POST',
    url: `${baseOf(config.api_url)}${path}?${credentials}`,
    headers: { accept: 'application/json', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}
