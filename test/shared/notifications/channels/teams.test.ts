// The Teams channel through the real outbound client against a local Workflows webhook: the Adaptive
// Card message as documented, 202, retries and refusals, and user data that cannot format itself.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { teamsChannel, teamsMessageOf } from '#shared/notifications/channels/teams';
import {
  deliveryContext,
  deployEvent,
  itemEvent,
  PUBLIC_URL,
  ruleFor,
} from '../../../support/vendors/deliveries';
import { startTeamsWorkflow, type TeamsWorkflow } from '../../../support/vendors/teams';
import { answers } from '../../../support/vendors/vendor-server';

let teams: TeamsWorkflow;
beforeAll(async () => {
  teams = await startTeamsWorkflow();
});
afterAll(async () => {
  await teams?.stop();
});
beforeEach(() => {
  teams.received.length = 0;
});

const deliver = (event = itemEvent(), url = teams.url) =>
  teamsChannel.deliver(deliveryContext(ruleFor('teams', { url }), event));
const card = () => JSON.parse(teams.received.at(-1)?.body ?? 'null').attachments[0].content;

describe('teams channel', () => {
  it('a new item is an Adaptive Card 1.2 message with the headline, the facts and a "View item" action', async () => {
    expect(await deliver()).toMatchObject({ status: 'sent', httpStatus: 202 });
    const message = JSON.parse(teams.received[0]?.body ?? '');
    expect(message).toMatchObject({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null }],
    });
    expect(card()).toMatchObject({
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: '1.2',
      actions: [{ type: 'Action.OpenUrl', title: 'View item', url: `${PUBLIC_URL}/items/12` }],
    });
    expect(card().body[0].inlines[0].text).toBe(
      "New error in production: #12 TypeError: Cannot read properties of undefined (reading 'id')",
    );
    expect(card().body[1]).toMatchObject({
      type: 'FactSet',
      facts: expect.arrayContaining([{ title: 'Level', value: 'error' }]),
    });
  });

  it('a title with markdown and a link stays text: it is a TextRun, which Teams does not render as markdown', () => {
    const event = itemEvent(
      'new_item',
      {},
      { title: '**urgent** [click](https://evil.example) <at>everyone</at>' },
    );
    const headline = teamsMessageOf(event, PUBLIC_URL).attachments[0]!.content.body[0]!;
    expect(headline).toMatchObject({ type: 'RichTextBlock', inlines: [{ type: 'TextRun' }] });
  });

  it('a fact value with markdown is escaped', () => {
    const event = itemEvent('new_item', {}, { environment: '[prod](https://evil.example) *x*' });
    const facts = JSON.stringify(teamsMessageOf(event, PUBLIC_URL).attachments[0]!.content.body[1]);
    expect(facts).toContain('\\\\[prod\\\\](https://evil.example) \\\\*x\\\\*');
  });

  it('a title of 10,000 characters is cut to 1,000 and the card accepted', async () => {
    expect(await deliver(itemEvent('new_item', {}, { title: 'y'.repeat(10_000) }))).toMatchObject({
      status: 'sent',
    });
    expect(card().body[0].inlines[0].text.length).toBe(1000);
  });

  it('a deploy has no item action', async () => {
    await deliver(deployEvent());
    expect(card()).not.toHaveProperty('actions');
    expect(card().body[0].inlines[0].text).toBe('Deploy of 9f8e7d6c5b4a in production by ana');
  });

  it('a 429 is retried with the Retry-After hint', async () => {
    teams.script(answers.rateLimited(3));
    expect(await deliver()).toEqual(
      expect.objectContaining({ status: 'retry', httpStatus: 429, retryAfterMs: 3000 }),
    );
    expect(await deliver()).toMatchObject({ status: 'sent' });
  });

  it('a 502 is retried, and the next try is sent', async () => {
    teams.script(answers.serverError(502));
    expect(await deliver()).toMatchObject({ status: 'retry', httpStatus: 502 });
    expect(await deliver()).toMatchObject({ status: 'sent' });
  });

  it('a flow URL with a wrong signature fails for good (401)', async () => {
    const outcome = await deliver(itemEvent(), teams.url.replace(/sig=[^&]+/, 'sig=forged'));
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 401 });
  });

  it('a deleted flow fails for good (404)', async () => {
    const outcome = await deliver(itemEvent(), teams.url.replace('/workflows/0f', '/workflows/ff'));
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 404 });
  });

  it('the rate limit key is a hash, never the flow URL with its signature', () => {
    const limit = teamsChannel.rateLimit({ url: teams.url });
    expect(limit?.key).toMatch(/^teams:[0-9a-f]{64}$/);
    expect(limit?.key).not.toContain('sig');
  });
});
