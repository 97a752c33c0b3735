// The email channel through the real SES v2 client: against the aws-ses-v2-local emulator for what is
// sent (subject, text and escaped HTML bodies, the daily summary), and against a local server answering
// as SES does for its refusals and throttling, to hold which failures are final and which are retried.
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalSes, startLocalSes } from '#infra/local/ses-local';
import { emailChannel } from '#shared/notifications/channels/email';
import { createSesEmailSender } from '#shared/notifications/email/ses';
import type { DailySummary, NotificationEvent } from '#shared/notifications/model';
import { credentials, region } from '../../../support/emulators';
import {
  deliveryContext,
  deployEvent,
  itemEvent,
  NOW,
  notifiedItem,
  PUBLIC_URL,
  ruleFor,
} from '../../../support/vendors/deliveries';
import {
  startVendorServer,
  type VendorAnswer,
  type VendorServer,
} from '../../../support/vendors/vendor-server';

let ses: LocalSes;
let client: SESv2Client;
/** Answers SendEmail as SES does when it refuses or throttles: an `x-amzn-errortype` and a JSON message. */
let sesAnswering: VendorServer;
let sesAnsweringClient: SESv2Client;

beforeAll(async () => {
  ses = await startLocalSes();
  client = new SESv2Client({ endpoint: ses.endpoint, region, credentials });
  sesAnswering = await startVendorServer({
    check: (request) =>
      request.method === 'POST' && request.path === '/v2/email/outbound-emails' ? undefined : { status: 404 },
    success: () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"MessageId":"scripted"}',
    }),
  });
  // One attempt: the sender retries through the queue, not inside the SDK.
  sesAnsweringClient = new SESv2Client({
    endpoint: sesAnswering.origin,
    region,
    credentials,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  sesAnsweringClient?.destroy();
  await Promise.all([ses?.stop(), sesAnswering?.stop()]);
});
beforeEach(async () => {
  await ses.clear();
});

const TO = ['ops@example.com', 'dev@example.com'];
const deliver = (event: NotificationEvent, sender = createSesEmailSender('faultline@example.com', client)) =>
  emailChannel.deliver(deliveryContext(ruleFor('email', { to: TO }), event, { email: sender }));

const sesError = (status: number, type: string, message: string): VendorAnswer => ({
  status,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
  body: JSON.stringify({ message }),
});

describe('email channel', () => {
  it('a new item is one mail to the rule’s addresses: the headline as subject, both bodies with the link', async () => {
    const outcome = await deliver(itemEvent());
    expect(outcome).toMatchObject({ status: 'sent', httpStatus: 200 });
    const [mail] = await ses.emails();
    expect(mail?.destination.to).toEqual(TO);
    expect(mail?.from).toBe('faultline@example.com');
    expect(mail?.subject).toBe(
      "New error in production: #12 TypeError: Cannot read properties of undefined (reading 'id')",
    );
    expect(mail?.body.text).toContain(`View the item: ${PUBLIC_URL}/items/12`);
    expect(mail?.body.text).toContain('Environment: production');
    expect(mail?.body.html).toContain(`<a href="${PUBLIC_URL}/items/12">View the item</a>`);
    expect(outcome.response).toContain(mail?.messageId);
  });

  it('a title with a script is escaped in the HTML body and kept as typed in the text body', async () => {
    await deliver(
      itemEvent('new_item', {}, { title: '<script>alert(1)</script> & <img src=x onerror=alert(2)>' }),
    );
    const [mail] = await ses.emails();
    expect(mail?.body.html).not.toContain('<script>');
    expect(mail?.body.html).not.toContain('<img');
    expect(mail?.body.html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#60;img');
    expect(mail?.body.text).toContain('<script>alert(1)</script> & <img src=x onerror=alert(2)>');
  });

  it('a title with newlines makes a one-line subject of at most 200 characters', async () => {
    await deliver(
      itemEvent('new_item', {}, { title: `first\r\nBcc: victim@example.com\n${'w'.repeat(500)}` }),
    );
    const [mail] = await ses.emails();
    expect(mail?.subject).not.toMatch(/[\r\n]/);
    expect([...(mail?.subject ?? '')].length).toBeLessThanOrEqual(200);
  });

  it('a `rules test` sample is marked [test] in the subject', async () => {
    await deliver(itemEvent('new_item', { sample: true }));
    expect((await ses.emails())[0]?.subject).toMatch(/^\[test\] New error/);
  });

  it('a deploy tells its revision and who deployed', async () => {
    await deliver(deployEvent());
    const [mail] = await ses.emails();
    expect(mail?.subject).toBe('Deploy of 9f8e7d6c5b4a in production by ana');
    expect(mail?.body.text).toContain('Comment: Release 3.4.2');
  });

  it('the daily summary lists new, reactivated and the most frequent items with their day counts and links', async () => {
    const summary: DailySummary = {
      day: '2026-11-22',
      new_items: [notifiedItem({ counter: 31, title: 'New <b>thing</b>', total_occurrences: 4 })],
      reactivated_items: [notifiedItem({ counter: 5, title: 'Back again', total_occurrences: 90 })],
      top_items: [
        { item: notifiedItem({ counter: 2, title: 'Hot path' }), occurrences: 1234 },
        { item: notifiedItem({ counter: 31, title: 'New <b>thing</b>' }), occurrences: 4 },
      ],
    };
    const event: NotificationEvent = {
      id: 'summary:1:2026-11-22',
      trigger: 'daily_summary',
      project_id: 1,
      occurred_at: NOW,
      summary,
    };
    expect(await deliver(event)).toMatchObject({ status: 'sent' });
    const [mail] = await ses.emails();
    expect(mail?.subject).toBe('Daily summary for 2026-11-22');
    const text = mail?.body.text ?? '';
    expect(text).toContain('New items (1)');
    expect(text).toContain('Reactivated items (1)');
    expect(text).toContain('Most frequent items (2)');
    expect(text).toContain('#2 Hot path [production, error] 1234 occurrences that day');
    expect(text).toContain(`${PUBLIC_URL}/items/2`);
    expect(text.indexOf('New items')).toBeLessThan(text.indexOf('Reactivated items'));
    expect(text.indexOf('Reactivated items')).toBeLessThan(text.indexOf('Most frequent items'));
    expect(mail?.body.html).toContain(
      `<a href="${PUBLIC_URL}/items/31">#31 New &#60;b&#62;thing&#60;/b&#62;</a>`,
    );
    expect(mail?.body.html).not.toContain('<b>thing');
  });

  it('a daily summary of a quiet day says there was nothing to tell', async () => {
    const summary: DailySummary = { day: '2026-11-22', new_items: [], reactivated_items: [], top_items: [] };
    await deliver({
      id: 'summary:quiet',
      trigger: 'daily_summary',
      project_id: 1,
      occurred_at: NOW,
      summary,
    });
    expect((await ses.emails())[0]?.body.text).toContain('Nothing new, reactivated or frequent that day.');
  });

  it.each([
    [
      'an address SES rejects (MessageRejected)',
      'failed',
      sesError(400, 'MessageRejected', 'Email address is not verified.'),
    ],
    [
      'a malformed request (BadRequestException)',
      'failed',
      sesError(400, 'BadRequestException', 'Invalid email address'),
    ],
    [
      'a paused account (SendingPausedException)',
      'failed',
      sesError(400, 'SendingPausedException', 'Sending paused'),
    ],
    [
      'throttling (TooManyRequestsException)',
      'retry',
      sesError(429, 'TooManyRequestsException', 'Too many requests'),
    ],
    [
      'a quota reached (LimitExceededException)',
      'retry',
      sesError(429, 'LimitExceededException', 'Daily quota'),
    ],
    ['SES failing (500)', 'retry', sesError(500, 'InternalFailure', 'internal')],
    ['SES unavailable (503)', 'retry', sesError(503, 'ServiceUnavailable', 'unavailable')],
  ] as const)('%s is %s', async (_, expected, answer) => {
    sesAnswering.script(answer);
    const outcome = await deliver(
      itemEvent(),
      createSesEmailSender('faultline@example.com', sesAnsweringClient),
    );
    expect(outcome).toMatchObject({ status: expected, httpStatus: answer.status });
  });

  it('an empty sender address, which the emulator refuses with 400, is final', async () => {
    expect(await deliver(itemEvent(), createSesEmailSender('', client))).toMatchObject({
      status: 'failed',
      httpStatus: 400,
    });
    expect(await ses.emails()).toEqual([]);
  });

  it('SES out of reach (connection refused) is retried', async () => {
    const closed = await startLocalSes();
    await closed.stop();
    const unreachable = new SESv2Client({ endpoint: closed.endpoint, region, credentials, maxAttempts: 1 });
    const outcome = await deliver(itemEvent(), createSesEmailSender('faultline@example.com', unreachable));
    unreachable.destroy();
    expect(outcome).toMatchObject({ status: 'retry', httpStatus: null });
    expect(outcome.response).toMatch(/^network: /);
  });
});
