// The Trello channel through the real outbound client against a local Trello that checks the key and
// token and the card as Trello documents them, with the card links on DynamoDB Local.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { trello } from '#shared/notifications/channels/trello';
import type { DynamoDBChannelLinks } from '#shared/store/channel-links';
import type { Dynamo } from '../../../support/emulators';
import {
  type Deliverer,
  delivererOf,
  eventOf,
  itemOf,
  ruleOf,
  startLinks,
} from '../../../support/tracker-delivery';
import { answers } from '../../../support/vendors/tracker-server';
import { startTrello, type TrelloServer } from '../../../support/vendors/trello';

const KEY = 'trellokey0123456789abcdef01234567';
const TOKEN = 'ATTAtrellotoken0123456789abcdefABCDEF0123456789';
const LIST = '5f0000000000000000000001';
let dynamo: Dynamo;
let links: DynamoDBChannelLinks;
let sender: Deliverer;
let vendor: TrelloServer;

beforeAll(async () => {
  ({ dynamo, links } = await startLinks());
  sender = delivererOf(links);
});

afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(async () => {
  vendor = await startTrello({ key: KEY, token: TOKEN, listId: LIST });
  return () => vendor.close();
});

const ruleFor = (trigger: Parameters<typeof ruleOf>[1] = 'new_item', config: Record<string, unknown> = {}) =>
  ruleOf('trello', trigger, { key: KEY, token: TOKEN, list_id: LIST, api_url: vendor.url, ...config });

describe('Trello', () => {
  it('a new item puts a card at the top of the list and remembers it', async () => {
    const rule = ruleFor();
    const item = itemOf();
    const outcome = await sender.deliver(trello, rule, eventOf('new_item', item));
    const [card] = vendor.cards;
    expect(outcome).toEqual({ status: 'sent', httpStatus: 200, response: `200 card ${card?.id} created` });
    expect(vendor.requests[0]).toMatchObject({
      method: 'POST',
      path: '/1/cards',
      query: { key: KEY, token: TOKEN },
    });
    expect(card).toMatchObject({ idList: LIST, name: `#${item.counter} ${item.title}`, pos: 'top' });
    expect(card?.desc).toContain('Level: error');
    expect(await links.get(rule.id, item.id)).toEqual({ card: card?.id });
  });

  it('a reactivation and a resolve comment on the card', async () => {
    const rule = ruleFor('reactivated_item');
    const item = itemOf();
    await sender.deliver(trello, rule, eventOf('new_item', item));
    await sender.deliver(trello, rule, eventOf('reactivated_item', item));
    await sender.deliver(trello, rule, eventOf('resolved_item', item));
    expect(vendor.cards).toHaveLength(1);
    expect(vendor.cards[0]?.comments).toEqual([
      expect.stringContaining('Reactivated error in production'),
      expect.stringContaining('Resolved in production'),
    ]);
    expect(vendor.requests.at(-1)?.path).toBe(`/1/cards/${vendor.cards[0]?.id}/actions/comments`);
  });

  it('a create answered 500 is retried and makes exactly one card', async () => {
    const rule = ruleFor();
    const event = eventOf('new_item', itemOf());
    vendor.script(answers.serverError());
    expect(await sender.deliver(trello, rule, event)).toMatchObject({ status: 'retry', httpStatus: 500 });
    expect(await sender.deliver(trello, rule, event, 2)).toMatchObject({ status: 'sent' });
    expect(await sender.deliver(trello, rule, event, 3)).toMatchObject({ status: 'skipped' });
    expect(vendor.cards).toHaveLength(1);
  });

  it('429 is retried, after its Retry-After when it gives one', async () => {
    vendor.script(answers.throttled(undefined, { error: 'API_TOKEN_LIMIT_EXCEEDED' }), answers.throttled(3));
    const first = await sender.deliver(trello, ruleFor(), eventOf('new_item', itemOf()));
    expect(first).toMatchObject({ status: 'retry', httpStatus: 429 });
    expect(first.status === 'retry' ? first.retryAfterMs : 'not a retry').toBeUndefined();
    expect(await sender.deliver(trello, ruleFor(), eventOf('new_item', itemOf()))).toMatchObject({
      retryAfterMs: 3000,
    });
  });

  it.each([
    ['a wrong key (401)', { key: 'wrong' }, 401],
    ['a wrong token (401)', { token: 'wrong' }, 401],
    ['a list that does not exist (400)', { list_id: 'nope' }, 400],
  ])('%s fails for good', async (_name, config, status) => {
    expect(
      await sender.deliver(trello, ruleFor('new_item', config), eventOf('new_item', itemOf())),
    ).toMatchObject({
      status: 'failed',
      httpStatus: status,
    });
    expect(vendor.cards).toHaveLength(0);
  });

  it('a remembered card that is gone (404) fails for good', async () => {
    const rule = ruleFor('exp_repeat_item');
    const item = itemOf();
    await links.put(rule.id, item.id, { card: 'ffffffffffffffffffffffff' });
    expect(
      await sender.deliver(trello, rule, eventOf('exp_repeat_item', item, { occurrences: 10 })),
    ).toMatchObject({
      status: 'failed',
      httpStatus: 404,
    });
  });

  it('the key and token in the request URL never appear in what a delivery reports, even when the server echoes the URL', async () => {
    vendor.script((request) => ({
      status: 400,
      body: `bad request POST ${request.path}?key=${request.query.key}&token=${request.query.token}`,
    }));
    const outcome = await sender.deliver(trello, ruleFor(), eventOf('new_item', itemOf()));
    expect(outcome.status).toBe('failed');
    expect(outcome.response).toContain('key=***&token=***');
    expect(outcome.response).not.toContain(KEY);
    expect(outcome.response).not.toContain(TOKEN);
  });

  it('nor when the connection fails', async () => {
    const rule = ruleFor('new_item', { api_url: 'http://127.0.0.1:9' });
    const outcome = await sender.deliver(trello, rule, eventOf('new_item', itemOf()));
    expect(outcome.status).toBe('retry');
    expect(outcome.response).not.toContain(TOKEN);
    expect(outcome.response).not.toContain(KEY);
  });

  it('client-sent text in a comment cannot mention board members', async () => {
    const rule = ruleFor('exp_repeat_item');
    const item = itemOf({ title: '@board ``` @card' });
    await sender.deliver(trello, rule, eventOf('new_item', item));
    await sender.deliver(trello, rule, eventOf('exp_repeat_item', item, { occurrences: 10 }));
    const comment = vendor.cards[0]?.comments[0] ?? '';
    expect(comment).toMatch(/^````text\n.*@board ``` @card\n````/);
  });

  it('the pace is kept per token without storing the token', () => {
    const limit = trello.rateLimit(ruleFor().config);
    expect(limit?.key).toMatch(/^trello:[0-9a-f]{24}$/);
    expect(limit?.key).not.toContain(TOKEN);
  });
});
