// The webhook channel through the real outbound client against a receiver that verifies Standard
// Webhooks signatures: Rollbar's payload per trigger, signing, retries and refusals.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookChannel, webhookPayloadOf } from '#shared/notifications/channels/webhook';
import { deliveryContext, deployEvent, itemEvent, ruleFor } from '../../../support/vendors/deliveries';
import { answers } from '../../../support/vendors/vendor-server';
import { startWebhookReceiver, type WebhookReceiver } from '../../../support/vendors/webhook-receiver';

const SECRET = `whsec_${Buffer.from('a rule secret of 32 bytes length').toString('base64')}`;
let signed: WebhookReceiver;
let unsigned: WebhookReceiver;

beforeAll(async () => {
  [signed, unsigned] = await Promise.all([startWebhookReceiver({ secret: SECRET }), startWebhookReceiver()]);
});
afterAll(async () => {
  await Promise.all([signed?.stop(), unsigned?.stop()]);
});
beforeEach(() => {
  signed.received.length = 0;
  unsigned.received.length = 0;
});

// Receivers refuse a timestamp more than 5 minutes from their clock, so these deliveries happen now.
const deliver = (receiver: WebhookReceiver, event = itemEvent(), secret?: string, now = Date.now()) =>
  webhookChannel.deliver(
    deliveryContext(ruleFor('webhook', { url: receiver.url, ...(secret ? { secret } : {}) }), event, { now }),
  );

describe('webhook channel', () => {
  it('a new item reaches the receiver as Rollbar’s payload, signed, with the delivery key as webhook-id', async () => {
    const outcome = await deliver(signed, itemEvent('new_item'), SECRET);
    expect(outcome).toMatchObject({ status: 'sent', httpStatus: 204 });
    const [request] = signed.received;
    expect(request).toMatchObject({ method: 'POST', status: 204 });
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['webhook-id']).toBe('shardId-0001:new_item:9001#77');
    expect(request?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(request?.body ?? '')).toMatchObject({
      event_name: 'new_item',
      data: {
        item: {
          id: 9001,
          counter: 12,
          title: "TypeError: Cannot read properties of undefined (reading 'id')",
          level: 'error',
          environment: 'production',
          total_occurrences: 1,
          last_occurrence: { uuid: '0b7f7f2e-5a3c-4f8e-9a53-0d2b4c6e8f10', request: { method: 'POST' } },
        },
        occurrence: { uuid: '0b7f7f2e-5a3c-4f8e-9a53-0d2b4c6e8f10' },
      },
    });
  });

  it('a signature made with another secret is refused by the receiver and the delivery is final', async () => {
    const other = `whsec_${Buffer.from('another secret, not the rule’s!!').toString('base64')}`;
    const outcome = await deliver(signed, itemEvent(), other);
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 401 });
    expect(signed.received[0]?.body).toBeDefined();
  });

  it('a delivery signed ten minutes ago is refused as stale: each attempt is signed when it is sent', async () => {
    const outcome = await deliver(signed, itemEvent(), SECRET, Date.now() - 10 * 60_000);
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 401 });
  });

  it('the signature is the Standard Webhooks HMAC of "{id}.{timestamp}.{body}"', async () => {
    await deliver(signed, itemEvent(), SECRET);
    const request = signed.received[0]!;
    const timestamp = new Date(Number(request.headers['webhook-timestamp']) * 1000);
    const expected = new Webhook(SECRET).sign(request.headers['webhook-id']!, timestamp, request.body);
    expect(request.headers['webhook-signature']).toBe(expected);
  });

  it('a rule without a secret posts unsigned, still with webhook-id so receivers can drop repeats', async () => {
    expect(await deliver(unsigned, itemEvent())).toMatchObject({ status: 'sent' });
    expect(unsigned.received[0]?.headers['webhook-signature']).toBeUndefined();
    expect(unsigned.received[0]?.headers['webhook-id']).toBe('shardId-0001:new_item:9001#77');
  });

  it('a retried delivery carries the same webhook-id, so the receiver takes it once', async () => {
    const event = itemEvent('reactivated_item', { id: 'retried-event' });
    signed.script(answers.serverError(503));
    expect(await deliver(signed, event, SECRET)).toMatchObject({ status: 'retry', httpStatus: 503 });
    expect(await deliver(signed, event, SECRET)).toMatchObject({ status: 'sent' });
    expect(await deliver(signed, event, SECRET)).toMatchObject({ status: 'sent', httpStatus: 200 });
    const ids = signed.received.map((request) => request.headers['webhook-id']);
    expect(new Set(ids)).toEqual(new Set(['retried-event#77']));
    expect(
      signed.payloads().filter((payload) => JSON.stringify(payload).includes('reactivated_item')),
    ).toHaveLength(1);
  });

  it('a 429 with Retry-After is retried with the receiver’s hint', async () => {
    unsigned.script(answers.rateLimited(2));
    expect(await deliver(unsigned)).toEqual(
      expect.objectContaining({ status: 'retry', httpStatus: 429, retryAfterMs: 2000 }),
    );
    expect(await deliver(unsigned)).toMatchObject({ status: 'sent' });
  });

  it.each([
    [400, 'failed'],
    [404, 'failed'],
    [410, 'failed'],
    [408, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
  ] as const)('a receiver answering %i makes the delivery %s', async (status, expected) => {
    unsigned.script({ status, body: 'scripted' });
    expect(await deliver(unsigned)).toMatchObject({ status: expected, httpStatus: status });
  });

  it('a URL the receiver does not serve is a final 404', async () => {
    const outcome = await webhookChannel.deliver(
      deliveryContext(ruleFor('webhook', { url: `${unsigned.origin}/nowhere` }), itemEvent(), {
        now: Date.now(),
      }),
    );
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 404 });
  });
});

describe('Rollbar’s webhook payload', () => {
  it.each([
    ['new_item', 'new_item'],
    ['reactivated_item', 'reactivated_item'],
    ['resolved_item', 'resolved_item'],
    ['reopened_item', 'reopened_item'],
    ['exp_repeat_item', 'exp_repeat_item'],
    ['occurrence', 'occurrence'],
    ['occurrence_rate', 'item_velocity'],
  ] as const)('a %s event is named %s', (trigger, name) => {
    expect(webhookPayloadOf(itemEvent(trigger))?.event_name).toBe(name);
  });

  it('the 10th occurrence carries `occurrences`: 10', () => {
    expect(webhookPayloadOf(itemEvent('exp_repeat_item', { occurrences: 10 }))?.data).toMatchObject({
      occurrences: 10,
    });
  });

  it('a rate event carries its window and threshold as Rollbar’s `trigger`', () => {
    const event = itemEvent('occurrence_rate', {
      occurrences: 57,
      rate: { period: 300, count: 50, window_start: 1_700_000_000 },
    });
    expect(webhookPayloadOf(event)?.data).toMatchObject({
      occurrences: 57,
      trigger: { threshold: 50, window_size: 300, window_size_description: '5 minutes' },
    });
  });

  it('a deploy is `{"event_name":"deploy","data":{"deploy":…}}` without an item', () => {
    const payload = webhookPayloadOf(deployEvent());
    expect(payload).toEqual({
      event_name: 'deploy',
      data: {
        deploy: expect.objectContaining({ id: 3, environment: 'production', revision: '9f8e7d6c5b4a' }),
      },
    });
  });

  it('a `rules test` sample is marked as one', () => {
    expect(webhookPayloadOf(itemEvent('new_item', { sample: true }))).toMatchObject({ sample: true });
    expect(webhookPayloadOf(itemEvent('new_item'))).not.toHaveProperty('sample');
  });

  it('a daily summary is not a webhook event: skipped, nothing posted', async () => {
    const summary = { day: '2026-11-22', new_items: [], reactivated_items: [], top_items: [] };
    const event = {
      id: 'summary',
      trigger: 'daily_summary' as const,
      project_id: 1,
      occurred_at: Date.now(),
      summary,
    };
    const outcome = await webhookChannel.deliver(
      deliveryContext(ruleFor('webhook', { url: unsigned.url }), event),
    );
    expect(outcome.status).toBe('skipped');
    expect(unsigned.received).toHaveLength(0);
  });
});
