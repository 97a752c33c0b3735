// The PagerDuty channel through the real outbound client against a local Events API v2 that checks
// events as PagerDuty documents them and keeps alerts by dedup_key.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pagerduty } from '#shared/notifications/channels/pagerduty';
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
import { type PagerDutyServer, startPagerDuty } from '../../../support/vendors/pagerduty';
import { answers } from '../../../support/vendors/tracker-server';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
let dynamo: Dynamo;
let links: DynamoDBChannelLinks;
let sender: Deliverer;
let vendor: PagerDutyServer;

beforeAll(async () => {
  ({ dynamo, links } = await startLinks());
  sender = delivererOf(links);
});

afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(async () => {
  vendor = await startPagerDuty();
  return () => vendor.close();
});

const ruleFor = (trigger: Parameters<typeof ruleOf>[1] = 'new_item', config: Record<string, unknown> = {}) =>
  ruleOf('pagerduty', trigger, { service_key: ROUTING_KEY, api_url: vendor.url, ...config });

describe('PagerDuty', () => {
  it('a new item triggers an alert keyed by the item, with its summary, severity, source, details and link', async () => {
    const item = itemOf();
    const outcome = await sender.deliver(pagerduty, ruleFor(), eventOf('new_item', item));
    expect(outcome).toMatchObject({ status: 'sent', httpStatus: 202 });
    expect(outcome.response).toContain('Event processed');
    const [request] = vendor.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v2/enqueue' });
    expect(request?.json).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: `faultline-1-${item.id}`,
      payload: {
        summary: `New error in production: #${item.counter} ${item.title}`,
        severity: 'error',
        source: 'production',
        custom_details: { total_occurrences: 3, link: `https://faultline.example.com/items/${item.counter}` },
      },
      links: [{ href: `https://faultline.example.com/items/${item.counter}` }],
    });
    expect(vendor.alerts).toEqual([
      expect.objectContaining({ dedup_key: `faultline-1-${item.id}`, status: 'triggered' }),
    ]);
  });

  it('repeats fold into the open alert and resolving the item resolves it with the same dedup_key', async () => {
    const item = itemOf();
    await sender.deliver(pagerduty, ruleFor(), eventOf('new_item', item));
    await sender.deliver(
      pagerduty,
      ruleFor('exp_repeat_item'),
      eventOf('exp_repeat_item', item, { occurrences: 10 }),
    );
    expect(vendor.alerts).toHaveLength(1);
    expect(vendor.alerts[0]?.triggers).toBe(2);

    expect(
      await sender.deliver(pagerduty, ruleFor('resolved_item'), eventOf('resolved_item', item)),
    ).toMatchObject({
      status: 'sent',
      httpStatus: 202,
    });
    expect(vendor.requests.at(-1)?.json).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: `faultline-1-${item.id}`,
    });
    expect(vendor.alerts[0]?.status).toBe('resolved');

    // A reactivation after the resolve opens a new alert, as PagerDuty does for a resolved key.
    await sender.deliver(pagerduty, ruleFor('reactivated_item'), eventOf('reactivated_item', item));
    expect(vendor.alerts.map((alert) => alert.status)).toEqual(['resolved', 'triggered']);
  });

  it.each([
    ['critical', 'critical'],
    ['error', 'error'],
    ['warning', 'warning'],
    ['info', 'info'],
    ['debug', 'info'],
  ])('a %s item pages with severity %s', async (level, severity) => {
    await sender.deliver(pagerduty, ruleFor(), eventOf('new_item', itemOf({ level })));
    expect(vendor.alerts[0]?.severity).toBe(severity);
  });

  it('without an environment the source is the host of the last occurrence', async () => {
    const item = itemOf({ environment: '' });
    const occurrence = { uuid: item.last_occurrence_id, timestamp: 1, data: { server: { host: 'web-3' } } };
    await sender.deliver(pagerduty, ruleFor(), eventOf('new_item', item, { occurrence }));
    expect(vendor.requests[0]?.json).toMatchObject({ payload: { source: 'web-3' } });
  });

  it('a summary longer than PagerDuty takes is cut to 1024 characters and accepted', async () => {
    await sender.deliver(pagerduty, ruleFor(), eventOf('new_item', itemOf({ title: 'x'.repeat(5000) })));
    expect(vendor.alerts).toHaveLength(1);
    expect(vendor.alerts[0]?.summary.length).toBe(1024);
  });

  it('an occurrence rate event triggers the item alert', async () => {
    const item = itemOf();
    await sender.deliver(
      pagerduty,
      ruleFor('occurrence_rate'),
      eventOf('occurrence_rate', item, { rate: { period: 300, count: 50, window_start: 0 } }),
    );
    expect(vendor.alerts[0]?.summary).toMatch(/^50\+ occurrences in 5 minutes in production/);
  });

  it('a routing key PagerDuty refuses (400) fails for good', async () => {
    const outcome = await sender.deliver(
      pagerduty,
      ruleFor('new_item', { service_key: 'short' }),
      eventOf('new_item', itemOf()),
    );
    expect(outcome).toMatchObject({ status: 'failed', httpStatus: 400 });
    expect(outcome.response).toContain('invalid event');
  });

  it('a 500 is retried and the retry pages once', async () => {
    const event = eventOf('new_item', itemOf());
    vendor.script(answers.serverError());
    expect(await sender.deliver(pagerduty, ruleFor(), event)).toMatchObject({
      status: 'retry',
      httpStatus: 500,
    });
    expect(await sender.deliver(pagerduty, ruleFor(), event, 2)).toMatchObject({ status: 'sent' });
    expect(vendor.alerts).toHaveLength(1);
  });

  it('a throttled event (429) is retried after the hinted wait', async () => {
    vendor.script(
      answers.throttled(2, {
        status: 'throttle event',
        message: 'Requests for this service are arriving too quickly.',
      }),
    );
    expect(await sender.deliver(pagerduty, ruleFor(), eventOf('new_item', itemOf()))).toMatchObject({
      status: 'retry',
      httpStatus: 429,
      retryAfterMs: 2000,
    });
  });

  it('the routing key never appears in what a delivery reports, even when the server echoes it', async () => {
    vendor.script((request) => ({ status: 400, body: request.body }));
    const outcome = await sender.deliver(pagerduty, ruleFor(), eventOf('new_item', itemOf()));
    expect(outcome.status).toBe('failed');
    expect(outcome.response).toContain('"routing_key":"***"');
    expect(outcome.response).not.toContain(ROUTING_KEY);
  });

  it('a `rules test` sample triggers an alert of its own, marked as a test, even for a resolve rule', async () => {
    const item = itemOf();
    await sender.deliver(
      pagerduty,
      ruleFor('resolved_item'),
      eventOf('resolved_item', item, { sample: true }),
    );
    expect(vendor.alerts).toEqual([
      expect.objectContaining({ dedup_key: `faultline-1-${item.id}-test`, status: 'triggered' }),
    ]);
    expect(vendor.alerts[0]?.summary).toMatch(/^\[test\] /);
  });

  it('the pace is kept per routing key without storing the key', () => {
    const limit = pagerduty.rateLimit(ruleFor().config);
    expect(limit?.key).toMatch(/^pagerduty:[0-9a-f]{24}$/);
    expect(pagerduty.rateLimit(ruleFor('new_item', { service_key: 'another' }).config)?.key).not.toBe(
      limit?.key,
    );
  });
});
