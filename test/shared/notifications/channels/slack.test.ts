// The Slack channel through the real outbound client against a local incoming webhook that checks the
// body as Slack does: Block Kit shape, escaping of user data, templates, buttons, retries, refusals.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelConfig } from '#shared/notifications/channel-configs';
import { sendAndClassify } from '#shared/notifications/channels/outcome';
import { slackChannel, slackMessageOf } from '#shared/notifications/channels/slack';
import {
  deliveryContext,
  deployEvent,
  itemEvent,
  loopbackHttp,
  PUBLIC_URL,
  ruleFor,
} from '../../../support/vendors/deliveries';
import { type SlackWebhook, slackAnswers, startSlackWebhook } from '../../../support/vendors/slack';

let slack: SlackWebhook;
beforeAll(async () => {
  slack = await startSlackWebhook();
});
afterAll(async () => {
  await slack?.stop();
});
beforeEach(() => {
  slack.received.length = 0;
});

const deliver = (event = itemEvent(), config: Partial<ChannelConfig<'slack'>> = {}) =>
  slackChannel.deliver(deliveryContext(ruleFor('slack', { url: slack.url, ...config }), event));

const posted = () => JSON.parse(slack.received.at(-1)?.body ?? 'null');
const allText = (message: unknown) => JSON.stringify(message);

describe('slack channel', () => {
  it('a new item is posted as Block Kit with a text fallback, a linked headline and the details', async () => {
    expect(await deliver()).toMatchObject({ status: 'sent', httpStatus: 200, response: '200 ok' });
    const message = posted();
    expect(message.text).toBe(
      "New error in production: #12 TypeError: Cannot read properties of undefined (reading 'id')",
    );
    expect(message.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: `*<${PUBLIC_URL}/items/12|New error in production>*`, verbatim: true },
    });
    expect(message.blocks[1].text).toMatchObject({
      type: 'plain_text',
      text: expect.stringContaining('#12 TypeError'),
    });
    expect(message.blocks[2].fields).toContainEqual({
      type: 'plain_text',
      text: 'Environment: production',
      emoji: false,
    });
    expect(message).not.toHaveProperty('channel');
  });

  it('a title with a mention, a link or markup cannot ping, link or format: it is plain text', () => {
    const event = itemEvent(
      'new_item',
      {},
      { title: '<!channel> *urgent* <https://evil.example|click> & <script>' },
    );
    const message = slackMessageOf(event, { url: slack.url }, PUBLIC_URL);
    expect(message.text).toContain(
      '&lt;!channel&gt; *urgent* &lt;https://evil.example|click&gt; &amp; &lt;script&gt;',
    );
    const mrkdwn = message.blocks.filter(
      (block) => (block.text as { type?: string } | undefined)?.type === 'mrkdwn',
    );
    expect(allText(mrkdwn)).not.toContain('evil.example');
    expect(message.blocks[1]).toMatchObject({ text: { type: 'plain_text' } });
  });

  it('an environment named like a mention is escaped in the mrkdwn headline', () => {
    const event = itemEvent('new_item', {}, { environment: '<!here>' });
    const message = slackMessageOf(event, { url: slack.url }, PUBLIC_URL);
    expect(allText(message.blocks[0])).toContain('&lt;!here&gt;');
    expect(allText(message.blocks[0])).not.toContain('<!here>');
  });

  it('a message template replaces the headline, with each placeholder’s value escaped', async () => {
    const event = itemEvent('new_item', {}, { title: 'Boom <@U123>' });
    await deliver(event, {
      message_template:
        '{{event}}: *{{title}}* ({{level}}, {{environment}}) #{{counter}} {{url}} x{{occurrences}} {{unknown}}',
    });
    expect(posted().blocks[0].text.text).toBe(
      `New error in production: *Boom &lt;@U123&gt;* (error, production) #12 ${PUBLIC_URL}/items/12 x1 {{unknown}}`,
    );
  });

  it('show_message_buttons adds a "View item" button to the item; a channel override is passed on', async () => {
    await deliver(itemEvent(), { show_message_buttons: true, channel: '#alerts' });
    const message = posted();
    expect(message.channel).toBe('#alerts');
    expect(message.blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'View item' },
          url: `${PUBLIC_URL}/items/12`,
          action_id: 'view_item',
        },
      ],
    });
  });

  it('a title of 10,000 characters is cut to Slack’s 3,000 per text and accepted', async () => {
    const event = itemEvent('new_item', {}, { title: 'x'.repeat(10_000) });
    expect(await deliver(event)).toMatchObject({ status: 'sent' });
    const message = posted();
    expect(message.text.length).toBeLessThanOrEqual(3000);
    expect(message.blocks[1].text.text.length).toBe(3000);
    expect(message.blocks[1].text.text.endsWith('…')).toBe(true);
  });

  it('a deploy is told with its revision and who deployed', async () => {
    expect(await deliver(deployEvent())).toMatchObject({ status: 'sent' });
    expect(posted().text).toBe('Deploy of 9f8e7d6c5b4a in production by ana');
  });

  it('a `rules test` sample is marked [test]', async () => {
    await deliver(itemEvent('new_item', { sample: true }));
    expect(posted().text).toMatch(/^\[test\] New error/);
    expect(posted().blocks[0].text.text).toContain('[test] New error');
  });

  it('a 429 is retried with Slack’s Retry-After, and the next try is sent', async () => {
    slack.script(slackAnswers.rateLimited(2));
    expect(await deliver()).toEqual(
      expect.objectContaining({ status: 'retry', httpStatus: 429, retryAfterMs: 2000 }),
    );
    expect(await deliver()).toMatchObject({ status: 'sent' });
  });

  it('a 500 is retried, and the next try is sent', async () => {
    slack.script(slackAnswers.serverError());
    expect(await deliver()).toMatchObject({ status: 'retry', httpStatus: 500 });
    expect(await deliver()).toMatchObject({ status: 'sent' });
  });

  it.each([
    ['an archived channel (410 channel_is_archived)', slackAnswers.archived(), 410, 'channel_is_archived'],
    ['a removed webhook (404 no_service)', slackAnswers.noService(), 404, 'no_service'],
  ])('%s fails for good, with Slack’s answer logged', async (_, answer, status, word) => {
    slack.script(answer);
    const outcome = await deliver();
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: status });
    expect(outcome.response).toContain(word);
  });

  it('a webhook URL Slack does not know fails with 404 no_service', async () => {
    const outcome = await slackChannel.deliver(
      deliveryContext(ruleFor('slack', { url: `${slack.origin}/services/T1/B1/wrong` }), itemEvent()),
    );
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 404, response: '404 no_service' });
  });

  it('the Slack server refuses a body with neither text nor blocks with 400 no_text, which is final', async () => {
    const outcome = await sendAndClassify(loopbackHttp(), {
      method: 'POST',
      url: slack.url,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blocks: [] }),
    });
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 400, response: '400 no_text' });
  });

  it('the rate limit is one message a second per webhook, keyed by a hash that never holds the URL', () => {
    const limit = slackChannel.rateLimit({ url: slack.url });
    expect(limit?.perSecond).toBe(1);
    expect(limit?.key).toMatch(/^slack:[0-9a-f]{64}$/);
    expect(limit?.key).not.toContain(slack.url);
    expect(limit?.key).not.toContain('xoxSecretPartOfTheUrl');
    expect(slackChannel.rateLimit({ url: `${slack.url}2` })?.key).not.toBe(limit?.key);
  });
});
