// The Discord channel through the real outbound client against a local webhook that enforces Discord's
// embed limits: the embed as documented, nobody pinged, markdown escaped, retry_after honoured.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DISCORD_LIMITS,
  discordChannel,
  discordMessageOf,
  escapedWithin,
} from '#shared/notifications/channels/discord';
import {
  deliveryContext,
  deployEvent,
  itemEvent,
  NOW,
  PUBLIC_URL,
  ruleFor,
} from '../../../support/vendors/deliveries';
import {
  type DiscordWebhook,
  discordRateLimited,
  startDiscordWebhook,
} from '../../../support/vendors/discord';
import { answers } from '../../../support/vendors/vendor-server';

let discord: DiscordWebhook;
beforeAll(async () => {
  discord = await startDiscordWebhook();
});
afterAll(async () => {
  await discord?.stop();
});
beforeEach(() => {
  discord.received.length = 0;
});

const deliver = (event = itemEvent(), url = discord.url, username?: string) =>
  discordChannel.deliver(
    deliveryContext(ruleFor('discord', { url, ...(username ? { username } : {}) }), event),
  );
const posted = () => JSON.parse(discord.received.at(-1)?.body ?? 'null');

describe('discord channel', () => {
  it('a new item is one embed posted with ?wait=true, colored by its level, pinging nobody', async () => {
    const outcome = await deliver();
    expect(outcome).toMatchObject({ status: 'sent', httpStatus: 200 });
    expect(discord.received[0]?.query.get('wait')).toBe('true');
    expect(posted()).toEqual({
      username: 'Faultline',
      embeds: [
        {
          title:
            "New error in production: \\#12 TypeError: Cannot read properties of undefined \\(reading 'id'\\)",
          url: `${PUBLIC_URL}/items/12`,
          description: "TypeError: Cannot read properties of undefined \\(reading 'id'\\)",
          color: 0xe01e5a,
          fields: expect.arrayContaining([{ name: 'Level', value: 'error', inline: true }]),
          timestamp: new Date(NOW).toISOString(),
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });

  it('an item titled "@everyone" pings nobody: no content, and mentions parse nothing', async () => {
    await deliver(itemEvent('new_item', {}, { title: '@everyone @here <@&123> the site is down' }));
    const message = posted();
    expect(message).not.toHaveProperty('content');
    expect(message.allowed_mentions).toEqual({ parse: [] });
  });

  it('markdown in a title is escaped so it reads as typed', () => {
    const message = discordMessageOf(
      itemEvent('new_item', {}, { title: '**bold** [x](https://evil.example) `c`' }),
      { url: discord.url },
      PUBLIC_URL,
    );
    expect(message.embeds[0]?.description).toBe('\\*\\*bold\\*\\* \\[x\\]\\(https://evil.example\\) \\`c\\`');
  });

  it('a 10,000-character title fits Discord’s limits (title 256, description 4096, 6000 in all) and is accepted', async () => {
    const title = '*'.repeat(10_000);
    expect(await deliver(itemEvent('new_item', {}, { title }))).toMatchObject({ status: 'sent' });
    const [embed] = posted().embeds;
    expect([...embed.title].length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
    expect([...embed.description].length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
    expect(embed.description.endsWith('…')).toBe(true);
  });

  it('escaping never leaves a cut text over its limit', () => {
    for (const max of [1, 2, 10, 255, 1024]) {
      expect([...escapedWithin('_'.repeat(3000), max)].length).toBeLessThanOrEqual(max);
    }
  });

  it('a deploy is blue and has no link', async () => {
    await deliver(deployEvent());
    expect(posted().embeds[0]).toMatchObject({
      title: 'Deploy of 9f8e7d6c5b4a in production by ana',
      color: 0x4a5cff,
    });
    expect(posted().embeds[0]).not.toHaveProperty('url');
  });

  it('a 429 is retried after Discord’s retry_after', async () => {
    discord.script(discordRateLimited(1.5));
    const outcome = await deliver();
    expect(outcome).toMatchObject({ status: 'retry', httpStatus: 429 });
    // Retry-After says 2 (whole seconds); the body's 1.5 is the precise figure; either is honoured.
    expect(outcome.status === 'retry' && outcome.retryAfterMs).toBeGreaterThanOrEqual(1500);
    expect(await deliver()).toMatchObject({ status: 'sent' });
  });

  it('a 429 with its wait only in the body is retried after `retry_after`', async () => {
    discord.script({
      status: 429,
      body: JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.75 }),
    });
    expect(await deliver()).toEqual(expect.objectContaining({ status: 'retry', retryAfterMs: 750 }));
  });

  it('a 500 is retried', async () => {
    discord.script(answers.serverError());
    expect(await deliver()).toMatchObject({ status: 'retry', httpStatus: 500 });
  });

  it('an unknown webhook fails for good (404 Unknown Webhook)', async () => {
    const outcome = await deliver(itemEvent(), discord.url.replace('tokenPart', 'forged'));
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 404 });
    expect(outcome.response).toContain('Unknown Webhook');
  });

  it('a username Discord refuses fails for good (400 Invalid Form Body)', async () => {
    expect(await deliver(itemEvent(), discord.url, 'Discord alerts')).toMatchObject({
      status: 'failed',
      httpStatus: 400,
    });
  });

  it('a thread_id in the webhook URL is kept beside wait=true', async () => {
    await deliver(itemEvent(), `${discord.url}?thread_id=555`);
    expect(discord.received[0]?.query.get('thread_id')).toBe('555');
    expect(discord.received[0]?.query.get('wait')).toBe('true');
  });

  it('the rate limit is 2 a second per webhook, keyed by a hash of its URL', () => {
    const limit = discordChannel.rateLimit({ url: discord.url });
    expect(limit).toEqual({ key: expect.stringMatching(/^discord:[0-9a-f]{64}$/), perSecond: 2 });
  });
});
