// Notifications end to end on the local stack: the official rollbar.js SDK reports errors, rules made
// through Rollbar's notifications API fire, and local vendors (a signed-webhook receiver, Slack,
// PagerDuty) receive exactly what they should, once, with retries honoured.
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import Rollbar from 'rollbar';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryRoot } from '#infra/constructs/faultline-function';
import type { LocalStack } from '#infra/local/stack';
import type { Scope } from '#shared/projects/access-tokens';
import { functions } from '#shared/wiring/topology';
import { credentials, region } from '../support/emulators';
import { type ItemsStream, openItemsStream } from '../support/items-stream';
import { startStackWithProject } from '../support/local-stack';
import { type PagerDutyServer, startPagerDuty } from '../support/vendors/pagerduty';
import { type SlackWebhook, startSlackWebhook } from '../support/vendors/slack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/vendors/webhook-receiver';

let stack: LocalStack;
let tokens: Record<Scope, string>;
let rollbar: Rollbar;
let webhook: WebhookReceiver;
let slack: SlackWebhook;
let pagerduty: PagerDutyServer;
let dynamodb: DynamoDBClient;
let streams: DynamoDBStreamsClient;
let itemsStream: ItemsStream;

interface Answer {
  status: number;
  body: { err: number; result?: unknown; message?: string };
}

async function call(method: string, path: string, token: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'X-Rollbar-Access-Token': token, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

interface CreatedRule {
  id: number;
  config: Record<string, unknown>;
}

async function createRule(channel: string, rule: Record<string, unknown>): Promise<CreatedRule> {
  const answer = await call('POST', `/api/1/notifications/${channel}/rules`, tokens.write, [rule]);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const [created] = answer.body.result as CreatedRule[];
  return created!;
}

async function deleteRule(channel: string, id: number): Promise<void> {
  const answer = await call('DELETE', `/api/1/notifications/${channel}/rule/${id}`, tokens.write);
  expect(answer.status).toBe(200);
}

function report(error: Error, environment = 'production'): Promise<unknown> {
  return new Promise((resolve, reject) =>
    rollbar.error(error, { environment } as never, (failure, response) =>
      failure ? reject(failure) : resolve(response),
    ),
  );
}

/** An error thrown from one place, so every call with the same message groups into one item. */
function failure(message: string): Error {
  return new TypeError(message);
}

interface WebhookPayload {
  event_name: string;
  data: { item?: { id: number; counter: number; title: string; environment: string }; occurrences?: number };
}

const payloadsFor = (title: string, eventName?: string) =>
  (webhook.payloads() as WebhookPayload[]).filter(
    (payload) => payload.data.item?.title.includes(title) && (!eventName || payload.event_name === eventName),
  );

async function itemOf(title: string): Promise<{ id: number; counter: number; status: string }> {
  const answer = await call('GET', '/api/1/items', tokens.read);
  const found = (
    answer.body.result as { items: Array<{ id: number; counter: number; status: string; title: string }> }
  ).items.find((item) => item.title.includes(title));
  expect(found, `an item titled ${title}`).toBeDefined();
  return found!;
}

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('notify'));
  webhook = await startWebhookReceiver();
  slack = await startSlackWebhook();
  pagerduty = await startPagerDuty();
  rollbar = new Rollbar({
    accessToken: tokens.post_server_item,
    endpoint: `${stack.url}/api/1/`,
    environment: 'production',
    captureUncaught: false,
    captureUnhandledRejections: false,
    reportLevel: 'debug',
  });
  dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
  streams = new DynamoDBStreamsClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
  itemsStream = await openItemsStream(dynamodb, streams, stack.tableNames.items);
}, 120_000);

afterAll(async () => {
  await Promise.all([webhook?.stop(), slack?.stop(), pagerduty?.close()]);
  dynamodb?.destroy();
  streams?.destroy();
  await stack?.stop();
});

describe('a webhook rule for new production errors', () => {
  let rule: CreatedRule;
  let secret: string;

  beforeAll(async () => {
    rule = await createRule('webhook', {
      trigger: 'new_item',
      filters: [
        { type: 'environment', operation: 'eq', value: 'production' },
        { type: 'level', operation: 'gte', value: 'error' },
      ],
      config: { url: webhook.url },
    });
    secret = String(rule.config.secret);
  });

  it('shows the generated signing secret once, when the rule is made, and masked afterwards', async () => {
    expect(secret).toMatch(/^whsec_/);
    const shown = await call('GET', `/api/1/notifications/webhook/rule/${rule.id}`, tokens.read);
    const config = (shown.body.result as CreatedRule).config;
    expect(config.secret).not.toBe(secret);
    expect(String(config.secret)).toMatch(/^••••/);
  });

  it('a new error posts exactly one signed webhook within seconds', async () => {
    const title = `checkout ${Math.random()} failed`;
    const started = Date.now();
    await report(failure(title));
    await webhook.waitForAccepted(1, 15_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    await stack.idle();

    const posts = webhook.received.filter((request) => request.body.includes(title));
    expect(posts).toHaveLength(1);
    const [post] = posts;
    // Verified with the secret the API showed once, by the Standard Webhooks library a customer uses.
    expect(() => new Webhook(secret).verify(post!.body, post!.headers)).not.toThrow();
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(post!.body, post!.headers),
    ).toThrow();
    expect(JSON.parse(post!.body)).toMatchObject({
      event_name: 'new_item',
      data: { item: { title: expect.stringContaining(title), environment: 'production' } },
    });
  });

  it('an error in another environment, or below the level, posts nothing', async () => {
    const title = `staging ${Math.random()} only`;
    await report(failure(title), 'staging');
    const warning = `warning ${Math.random()} only`;
    await new Promise((resolve, reject) =>
      rollbar.warning(warning, (failed) => (failed ? reject(failed) : resolve(undefined))),
    );
    await stack.idle();
    await itemOf(title);
    await itemOf(warning);
    expect(payloadsFor(title)).toHaveLength(0);
    expect(payloadsFor(warning)).toHaveLength(0);
  });

  it('the items stream delivered again (as Lambda redelivers a batch) posts nothing twice', async () => {
    await stack.idle();
    const before = webhook.received.length;
    // Everything the fan-out has seen so far, handed to the same loaded handler once more.
    const records = await itemsStream.readNew();
    expect(records.length).toBeGreaterThan(0);
    const { handler } = (await import(
      pathToFileURL(`${repositoryRoot}/${functions.fanOutNotifications.entry}`).href
    )) as { handler: (event: DynamoDBStreamEvent, context: unknown) => Promise<unknown> };
    await handler({ Records: records }, { getRemainingTimeInMillis: () => 60_000 });
    await stack.idle();
    expect(webhook.received.length).toBe(before);
  });

  afterAll(async () => {
    await deleteRule('webhook', rule.id);
  });
});

describe('an exp_repeat_item rule', () => {
  it('10 occurrences of one error post one notification, for the 10th', async () => {
    const rule = await createRule('webhook', { trigger: 'exp_repeat_item', config: { url: webhook.url } });
    const title = `inventory ${Math.random()} drifted`;
    for (let i = 0; i < 10; i++) await report(failure(title));
    await stack.idle();
    const repeats = payloadsFor(title, 'exp_repeat_item');
    expect(repeats).toHaveLength(1);
    expect(repeats[0]?.data.occurrences).toBe(10);
    await deleteRule('webhook', rule.id);
  });
});

describe('PagerDuty', () => {
  it('triggers on a new item and resolves the same incident when the item is resolved', async () => {
    const routingKey = 'R0UT1NGKEY0123456789ABCDEFGHIJKL';
    const config = { service_key: routingKey, api_url: pagerduty.url };
    const triggers = await createRule('pagerduty', { trigger: 'new_item', config });
    const resolves = await createRule('pagerduty', { trigger: 'resolved_item', config });
    const title = `payments ${Math.random()} down`;
    await report(failure(title));
    await stack.idle();
    const item = await itemOf(title);
    const dedupKey = `faultline-${(await projectIdOf(item.id)) ?? ''}-${item.id}`;
    expect(pagerduty.openAlert(dedupKey)).toMatchObject({ status: 'triggered' });

    const resolved = await call('PATCH', `/api/1/item/${item.id}`, tokens.write, { status: 'resolved' });
    expect(resolved.status).toBe(200);
    await stack.idle();
    expect(pagerduty.openAlert(dedupKey)).toBeUndefined();
    expect(pagerduty.alerts.filter((alert) => alert.dedup_key === dedupKey)).toEqual([
      expect.objectContaining({ status: 'resolved', triggers: 1 }),
    ]);
    await deleteRule('pagerduty', triggers.id);
    await deleteRule('pagerduty', resolves.id);
  });
});

async function projectIdOf(itemId: number): Promise<number | undefined> {
  const answer = await call('GET', `/api/1/item/${itemId}`, tokens.read);
  return (answer.body.result as { project_id?: number }).project_id;
}

describe('a channel that fails for a while', () => {
  it('answering 500 then 200 gets the notification once', async () => {
    const rule = await createRule('slack', { trigger: 'new_item', config: { url: slack.url } });
    slack.script({ status: 500, body: 'internal_error' });
    const title = `search ${Math.random()} timed out`;
    await report(failure(title));
    await stack.idle({ timeoutMs: 60_000 });
    const mine = slack.received.filter((request) => request.body.includes(title));
    expect(mine.map((request) => request.status)).toEqual([500, 200]);
    await deleteRule('slack', rule.id);
  }, 90_000);

  it('answering 429 with Retry-After is tried again no sooner than it asked', async () => {
    const rule = await createRule('slack', { trigger: 'new_item', config: { url: slack.url } });
    slack.script({ status: 429, headers: { 'retry-after': '2' }, body: 'rate_limited' });
    const title = `mailer ${Math.random()} refused`;
    await report(failure(title));
    await stack.idle({ timeoutMs: 60_000 });
    const mine = slack.received.filter((request) => request.body.includes(title));
    expect(mine.map((request) => request.status)).toEqual([429, 200]);
    expect(mine[1]!.at - mine[0]!.at).toBeGreaterThanOrEqual(1_900);
    await deleteRule('slack', rule.id);
  }, 90_000);
});
