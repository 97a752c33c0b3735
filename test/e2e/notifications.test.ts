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
import { RULE_CACHE_MS } from '#shared/notifications/fan-out/rule-cache';
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
let newItemWebhook: CreatedRule;
let slackRule: CreatedRule;
const routingKey = 'R0UT1NGKEY0123456789ABCDEFGHIJKL';

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

/**
 * A client that gives its items a custom fingerprint, as Rollbar documents (`payload.fingerprint`):
 * one item per title. Stacks alone would not do here, since V8's async frames differ between a
 * test's first await and its later ones.
 */
function rollbarFor(environment: string, fingerprint?: string): Rollbar {
  return new Rollbar({
    accessToken: tokens.post_server_item,
    endpoint: `${stack.url}/api/1/`,
    environment,
    captureUncaught: false,
    captureUnhandledRejections: false,
    reportLevel: 'debug',
    ...(fingerprint ? { payload: { fingerprint } } : {}),
  });
}

/** Reports an error of its own class (`failure`), fingerprinted by its title. */
async function report(title: string, environment = 'production'): Promise<unknown> {
  const client = rollbarFor(environment, title);
  const error = failure(title);
  return new Promise((resolve, reject) =>
    client.error(error, (failed, response) => (failed ? reject(failed) : resolve(response))),
  );
}

/**
 * An error of its own class: frames are grouped without line numbers, so errors made here group by
 * their class, and each title names a class of its own (letters only: digits are normalized away).
 */
function failure(title: string): Error {
  const error = new Error(title);
  error.name = errorClassOf(title);
  return error;
}

const errorClassOf = (title: string) => `${title.replace(/[^a-z]/gi, '')}Error`;

/** A title no other test uses: a word and random letters. */
const titleFor = (word: string) =>
  `${word} ${Array.from({ length: 8 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')}`;

interface WebhookPayload {
  event_name: string;
  data: { item?: { id: number; counter: number; title: string; environment: string }; occurrences?: number };
}

const payloadsFor = (title: string, eventName?: string) =>
  (webhook.payloads() as WebhookPayload[]).filter(
    (payload) => payload.data.item?.title.includes(title) && (!eventName || payload.event_name === eventName),
  );

interface ListedItem {
  id: number;
  project_id: number;
  counter: number;
  status: string;
  title: string;
  total_occurrences: number;
}

async function itemOf(title: string): Promise<ListedItem> {
  const answer = await call('GET', '/api/1/items', tokens.read);
  const items = (answer.body.result as { items: ListedItem[] }).items;
  const found = items.filter((item) => item.title.includes(title));
  expect(found, `one item titled ${title}`).toHaveLength(1);
  return found[0]!;
}

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('notify'));
  webhook = await startWebhookReceiver();
  slack = await startSlackWebhook();
  pagerduty = await startPagerDuty();
  rollbar = rollbarFor('production');
  dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
  streams = new DynamoDBStreamsClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
  itemsStream = await openItemsStream(dynamodb, streams, stack.tableNames.items);

  // Every rule up front: the fan-out caches a project's rules for a few seconds, so a rule applies
  // to changes from then on (docs/notifications.md); one wait here rather than one per test.
  newItemWebhook = await createRule('webhook', {
    trigger: 'new_item',
    filters: [
      { type: 'environment', operation: 'eq', value: 'production' },
      { type: 'level', operation: 'gte', value: 'error' },
    ],
    config: { url: webhook.url },
  });
  await createRule('webhook', { trigger: 'exp_repeat_item', config: { url: webhook.url } });
  const pagerdutyConfig = { service_key: routingKey, api_url: pagerduty.url };
  // One PagerDuty rule: it pages on new items and resolves what it paged when the item is resolved.
  await createRule('pagerduty', { trigger: 'new_item', config: pagerdutyConfig });
  await createRule('webhook', { trigger: 'resolved_item', config: { url: webhook.url } });
  slackRule = await createRule('slack', { trigger: 'new_item', config: { url: slack.url } });
  await new Promise((resolve) => setTimeout(resolve, RULE_CACHE_MS + 500));
}, 120_000);

afterAll(async () => {
  await Promise.all([webhook?.stop(), slack?.stop(), pagerduty?.close()]);
  dynamodb?.destroy();
  streams?.destroy();
  await stack?.stop();
});

describe('a webhook rule for new production errors', () => {
  it('shows the generated signing secret once, when the rule is made, and masked afterwards', async () => {
    const secret = String(newItemWebhook.config.secret);
    expect(secret).toMatch(/^whsec_/);
    const shown = await call('GET', `/api/1/notifications/webhook/rule/${newItemWebhook.id}`, tokens.read);
    const config = (shown.body.result as CreatedRule).config;
    expect(config.secret).not.toBe(secret);
    expect(String(config.secret)).toMatch(/^••••/);
  });

  it('a new error posts exactly one signed webhook within seconds', async () => {
    const title = `${titleFor('checkout')} failed`;
    await report(title);
    // Within seconds: waitForAccepted fails past 10 s.
    await webhook.waitForAccepted(1, 10_000);
    await stack.idle();

    const posts = webhook.received.filter((request) => request.body.includes(title));
    expect(posts).toHaveLength(1);
    const [post] = posts;
    // Verified with the secret the API showed once, by the Standard Webhooks library a customer uses.
    const secret = String(newItemWebhook.config.secret);
    expect(() => new Webhook(secret).verify(post!.body, post!.headers)).not.toThrow();
    const otherSecret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    expect(() => new Webhook(otherSecret).verify(post!.body, post!.headers)).toThrow();
    expect(JSON.parse(post!.body)).toMatchObject({
      event_name: 'new_item',
      data: { item: { title: expect.stringContaining(title), environment: 'production' } },
    });
  });

  it('an error in another environment, or below the level, posts nothing', async () => {
    const title = `${titleFor('staging')} only`;
    await report(title, 'staging');
    const warning = `${titleFor('warning')} only`;
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
    const before = webhook.received.length + slack.received.length + pagerduty.requests.length;
    // Everything the fan-out has seen so far, handed to the same loaded handler once more.
    const records = await itemsStream.readNew();
    expect(records.length).toBeGreaterThan(0);
    const { handler } = (await import(
      pathToFileURL(`${repositoryRoot}/${functions.fanOutNotifications.entry}`).href
    )) as { handler: (event: DynamoDBStreamEvent, context: unknown) => Promise<unknown> };
    await handler({ Records: records }, { getRemainingTimeInMillis: () => 60_000 });
    await stack.idle();
    expect(webhook.received.length + slack.received.length + pagerduty.requests.length).toBe(before);
  });
});

describe('an exp_repeat_item rule', () => {
  it('10 occurrences of one error post one notification, for the 10th', async () => {
    const title = `${titleFor('inventory')} drifted`;
    for (let i = 0; i < 10; i++) await report(title);
    await stack.idle();
    expect((await itemOf(title)).total_occurrences).toBe(10);
    const repeats = payloadsFor(title, 'exp_repeat_item');
    expect(repeats).toHaveLength(1);
    expect(repeats[0]?.data.occurrences).toBe(10);
  });
});

describe('resolving an item', () => {
  it('tells resolved_item rules, and the PagerDuty rule that paged resolves its incident', async () => {
    const title = `${titleFor('payments')} down`;
    await report(title);
    await stack.idle();
    const item = await itemOf(title);
    const dedupKey = `faultline-${item.project_id}-${item.id}`;
    expect(pagerduty.openAlert(dedupKey)).toMatchObject({ status: 'triggered' });

    const resolved = await call('PATCH', `/api/1/item/${item.id}`, tokens.write, { status: 'resolved' });
    expect(resolved.status).toBe(200);
    await stack.idle();
    expect(pagerduty.openAlert(dedupKey)).toBeUndefined();
    expect(pagerduty.alerts.filter((alert) => alert.dedup_key === dedupKey)).toEqual([
      expect.objectContaining({ status: 'resolved', triggers: 1 }),
    ]);
    expect(payloadsFor(title, 'resolved_item')).toHaveLength(1);
  });
});

describe('a channel that fails for a while', () => {
  const mine = (title: string) => slack.received.filter((request) => request.body.includes(title));

  it('answering 500 then 200 gets the notification once', async () => {
    slack.script({ status: 500, body: 'internal_error' });
    const title = `${titleFor('search')} timed out`;
    await report(title);
    await stack.idle({ timeoutMs: 60_000 });
    expect(mine(title).map((request) => request.status)).toEqual([500, 200]);
    const log = await call('GET', `/api/1/notifications/slack/rule/${slackRule.id}/log`, tokens.read);
    const attempts = (log.body.result as Array<{ status: string; http_status: number | null }>).slice(0, 2);
    expect(attempts.map((entry) => [entry.status, entry.http_status])).toEqual([
      ['sent', 200],
      ['retrying', 500],
    ]);
  }, 90_000);

  it('answering 429 with Retry-After is tried again no sooner than it asked', async () => {
    slack.script({ status: 429, headers: { 'retry-after': '2' }, body: 'rate_limited' });
    const title = `${titleFor('mailer')} refused`;
    await report(title);
    await stack.idle({ timeoutMs: 60_000 });
    const posts = mine(title);
    expect(posts.map((request) => request.status)).toEqual([429, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1_900);
  }, 90_000);
});
