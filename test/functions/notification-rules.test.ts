// The rules API's handler behind the local API Gateway adapter, on DynamoDB Local and fauxqs: Rollbar's
// answers, refusals in Rollbar's shape, sample deliveries on the real queue, the actions it sends, and
// the `faultline rules` CLI as a client of it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpAdapter } from '#infra/local/http-adapter';
import { startHttpAdapter } from '#infra/local/http-adapter';
import { loadDeclaredFunction } from '#infra/local/lambda-runtime';
import { recordSentActions, type SentActionRecorder } from '#infra/local/sent-actions';
import { createDocumentClient } from '#shared/aws/clients';
import { rulesApi, runRules } from '#shared/cli/rules';
import type { DeliveryMessage } from '#shared/notifications/model';
import { generateSecretsKey, SECRETS_KEY_VAR } from '#shared/notifications/secrets';
import type { Scope } from '#shared/projects/access-tokens';
import { DynamoDBDeliveryLog } from '#shared/store/delivery-log';
import type { tables } from '#shared/wiring/tables';
import { functions, type RouteKey } from '#shared/wiring/topology';
import {
  type Dynamo,
  pointHandlersAt,
  projectServiceOn,
  type Queues,
  startDynamoWithTables,
  startQueues,
} from '../support/emulators';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
// Public IP literals: checked without a DNS lookup.
const HOOK = 'https://93.184.215.14/services/T000/B000/SLACKSECRETPART0000000000';

let dynamo: Dynamo & { tableNames: Record<keyof typeof tables, string> };
let sqs: Queues;
let http: HttpAdapter;
let recorder: SentActionRecorder;
let tokens: Record<Scope, string>;
let otherTokens: Record<Scope, string>;

beforeAll(async () => {
  [dynamo, sqs] = await Promise.all([startDynamoWithTables('nrules'), startQueues({ prefix: 'nrules' })]);
  pointHandlersAt(dynamo, sqs);
  process.env[SECRETS_KEY_VAR] = generateSecretsKey();
  // The cloud build's outbound policy: https only, nothing private.
  delete process.env.FAULTLINE_LOCAL;

  const projects = projectServiceOn(dynamo);
  tokens = (await projects.createProject({ name: 'shop' })).tokens;
  otherTokens = (await projects.createProject({ name: 'other' })).tokens;

  recorder = recordSentActions();
  const declaration = functions.notificationRules;
  const loaded = await loadDeclaredFunction('notificationRules');
  http = await startHttpAdapter({
    routes: (declaration.trigger.routes as readonly RouteKey[]).map((routeKey) => ({
      routeKey,
      function: loaded,
    })),
    port: 0,
  });
});

afterAll(async () => {
  recorder?.stop();
  await http?.stop();
  await Promise.all([dynamo?.stop(), sqs?.stop()]);
});

async function call(method: string, path: string, token: string | undefined, body?: string | unknown) {
  const response = await fetch(`${http.url}/api/1/notifications/${path}`, {
    method,
    headers: { ...(token ? { 'X-Rollbar-Access-Token': token } : {}), 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const slackRule = {
  trigger: 'new_item',
  filters: [
    { type: 'environment', operation: 'eq', value: 'production' },
    { type: 'level', operation: 'gte', value: 'error' },
  ],
  config: { url: HOOK },
};

describe('the rules API speaks Rollbar', () => {
  it('creates, lists, reads, replaces and deletes a rule in Rollbar shapes', async () => {
    const created = await call('POST', 'slack/rules', tokens.write, [slackRule]);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      err: 0,
      result: [
        {
          id: expect.any(Number),
          project_id: expect.any(Number),
          channel: 'slack',
          trigger: 'new_item',
          status: 'enabled',
          filters: slackRule.filters,
          config: { url: '••••0000' },
          created_at: expect.any(Number),
          updated_at: expect.any(Number),
        },
      ],
    });
    const rule = (created.body.result as Array<{ id: number }>)[0]!;

    const listed = await call('GET', 'slack/rules', tokens.read);
    expect(listed).toEqual({ status: 200, body: { err: 0, result: created.body.result } });
    expect(await call('GET', `slack/rule/${rule.id}`, tokens.read)).toEqual({
      status: 200,
      body: { err: 0, result: (created.body.result as unknown[])[0] },
    });

    // Sent back as read, masked URL and all: the stored URL is kept.
    const replaced = await call('PUT', `slack/rule/${rule.id}`, tokens.write, {
      ...(listed.body.result as Array<Record<string, unknown>>)[0],
      trigger: 'reactivated_item',
      status: 'disabled',
    });
    expect(replaced).toMatchObject({
      status: 200,
      body: {
        err: 0,
        result: { id: rule.id, trigger: 'reactivated_item', status: 'disabled', config: { url: '••••0000' } },
      },
    });

    expect(await call('DELETE', `slack/rule/${rule.id}`, tokens.write)).toEqual({
      status: 200,
      body: { err: 0, result: { id: rule.id } },
    });
    expect(await call('GET', `slack/rule/${rule.id}`, tokens.read)).toEqual({
      status: 404,
      body: { err: 1, message: `rule ${rule.id} not found` },
    });
  });

  it('takes a single rule object too, and shows a generated webhook secret once', async () => {
    const created = await call('POST', 'webhook/rules', tokens.write, {
      trigger: 'deploy',
      config: { url: HOOK },
    });
    const [rule] = created.body.result as Array<{ id: number; config: { secret: string } }>;
    expect(rule!.config.secret).toMatch(/^whsec_/);
    const read = await call('GET', `webhook/rule/${rule!.id}`, tokens.read);
    expect((read.body.result as { config: { secret: string } }).config.secret).toBe(
      `••••${rule!.config.secret.slice(-4)}`,
    );
  });

  it('answers a wrong scope, a missing token and an unknown token with a 403 and changes nothing', async () => {
    expect(await call('POST', 'slack/rules', tokens.read, [slackRule])).toEqual({
      status: 403,
      body: { err: 1, message: 'access token lacks the required scope (write)' },
    });
    expect(await call('GET', 'slack/rules', tokens.post_client_item)).toEqual({
      status: 403,
      body: { err: 1, message: 'access token lacks the required scope (read or write)' },
    });
    expect(await call('GET', 'slack/rules', undefined)).toEqual({
      status: 403,
      body: { err: 1, message: 'missing access token' },
    });
    expect(await call('GET', 'slack/rules', '0'.repeat(32))).toEqual({
      status: 403,
      body: { err: 1, message: 'invalid access token' },
    });
    expect((await call('GET', 'slack/rules', tokens.read)).body.result).toEqual([]);
  });

  it("takes the token from the query like Rollbar's other routes", async () => {
    const response = await fetch(`${http.url}/api/1/notifications/email/rules?access_token=${tokens.read}`);
    expect(response.status).toBe(200);
  });

  it("answers another project's rule with a 404", async () => {
    const created = await call('POST', 'email/rules', otherTokens.write, [
      { trigger: 'new_item', config: { to: ['ops@example.com'] } },
    ]);
    const [rule] = created.body.result as Array<{ id: number }>;
    for (const [method, path] of [
      ['GET', `email/rule/${rule!.id}`],
      ['PUT', `email/rule/${rule!.id}`],
      ['DELETE', `email/rule/${rule!.id}`],
      ['GET', `email/rule/${rule!.id}/log`],
      ['POST', `email/rule/${rule!.id}/test`],
    ] as const) {
      const body = method === 'PUT' ? { trigger: 'deploy', config: { to: ['a@example.com'] } } : undefined;
      expect(await call(method, path, tokens.write, body)).toEqual({
        status: 404,
        body: { err: 1, message: `rule ${rule!.id} not found` },
      });
    }
    expect((await call('GET', `email/rule/${rule!.id}`, otherTokens.read)).body.result).toMatchObject({
      trigger: 'new_item',
    });
  });

  it.each([
    {
      why: 'a URL the cloud build may not call',
      channel: 'slack',
      body: [{ trigger: 'new_item', config: { url: 'http://93.184.215.14/x' } }],
      status: 422,
      message: '0.config.url refused: only https URLs are allowed',
    },
    {
      why: 'a closed vendor',
      channel: 'hipchat',
      body: [slackRule],
      status: 410,
      message: 'channel hipchat is not available: HipChat closed in February 2019',
    },
    {
      why: 'an unknown channel',
      channel: '__proto__',
      body: [slackRule],
      status: 404,
      message: expect.stringContaining('no such notification channel: __proto__'),
    },
    {
      why: 'a body that is not JSON',
      channel: 'slack',
      body: '[{',
      status: 400,
      message: 'invalid JSON in request body',
    },
    { why: 'an empty body', channel: 'slack', body: '', status: 400, message: 'request body is empty' },
    {
      why: 'a null rule',
      channel: 'slack',
      body: [null],
      status: 422,
      message: '0: a rule is a JSON object',
    },
    {
      why: 'a config that is a list',
      channel: 'slack',
      body: [{ trigger: 'new_item', config: [] }],
      status: 422,
      message: expect.stringMatching(/^0\.config: /),
    },
    {
      why: 'an operator object for a trigger',
      channel: 'slack',
      body: [{ trigger: { $gt: '' } }],
      status: 422,
      message: expect.stringMatching(/^0\.trigger: /),
    },
    {
      why: 'a prototype key in the config',
      channel: 'webhook',
      body: '[{"trigger":"new_item","config":{"__proto__":{"url":"x"},"url":"https://93.184.215.14/h"}}]',
      status: 200,
    },
  ])('$why gets a $status in Rollbar shape', async ({ channel, body, status, message }) => {
    const answer = await call('POST', `${channel}/rules`, tokens.write, body);
    expect(answer.status).toBe(status);
    if (status !== 200) expect(answer.body).toEqual({ err: 1, message });
  });
});

describe('delivery log and sample deliveries', () => {
  it("puts one sample delivery on the notification queue and answers its key; the log lists the rule's attempts", async () => {
    const created = await call('POST', 'discord/rules', tokens.write, [
      { trigger: 'exp_repeat_item', config: { url: HOOK } },
    ]);
    const [rule] = created.body.result as Array<{ id: number }>;
    const answer = await call('POST', `discord/rule/${rule!.id}/test`, tokens.write);
    expect(answer.status).toBe(200);
    const sample = answer.body.result as { key: string; event_id: string };
    expect(sample.key).toBe(`${sample.event_id}#${rule!.id}`);

    const received = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.queues.notifications.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect(received.Messages).toHaveLength(1);
    const message = JSON.parse(received.Messages![0]!.Body!) as DeliveryMessage;
    expect(message).toMatchObject({
      key: sample.key,
      rule_id: rule!.id,
      channel: 'discord',
      attempt: 1,
      event: { id: sample.event_id, trigger: 'exp_repeat_item', sample: true, occurrences: 100 },
    });

    expect(await call('GET', `discord/rule/${rule!.id}/log`, tokens.read)).toEqual({
      status: 200,
      body: { err: 0, result: [] },
    });
    await new DynamoDBDeliveryLog(
      createDocumentClient(dynamo.client),
      dynamo.tableNames.notifications,
    ).append(rule!.id, {
      time: Date.now(),
      key: sample.key,
      event_id: sample.event_id,
      trigger: 'exp_repeat_item',
      item_id: 0,
      attempt: 1,
      status: 'sent',
      http_status: 204,
      response: '',
    });
    expect(await call('GET', `discord/rule/${rule!.id}/log`, tokens.read)).toMatchObject({
      status: 200,
      body: { err: 0, result: [{ key: sample.key, status: 'sent', http_status: 204 }] },
    });
  });
});

describe('faultline rules, against the API', () => {
  it('adds, lists, disables, tests, logs and removes rules, one line each', async () => {
    const api = rulesApi(http.url, tokens.write);
    const lines: string[] = [];
    const notes: string[] = [];
    const io = { print: (line: string) => lines.push(line), warn: (line: string) => notes.push(line) };
    const rules = (verb: string, args: string[], options: Record<string, unknown> = {}) =>
      runRules(verb, args, options, async () => api, io);

    await rules('add', ['teams'], {
      trigger: 'new_item',
      filter: ['environment:eq:production', 'title:regex:^Timeout: \\d+'],
      'path-filter': ['request.user_ip:exists'],
      config: [`url=${HOOK}`, 'action_interval=600'],
    });
    expect(lines.at(-1)).toMatch(
      /^\d+ +teams +new_item +enabled +environment eq production, title regex \^Timeout: \\d\+, path request\.user_ip exists {2}\| {2}action_interval=600 url=••••0000$/,
    );
    const teamsId = Number(lines.at(-1)!.split(' ')[0]);

    await rules('add', ['webhook'], { trigger: 'occurrence_rate', rate: '300:10', config: [`url=${HOOK}`] });
    expect(lines.at(-1)).toMatch(/^webhook secret: whsec_[A-Za-z0-9+/=]{32}$/);
    expect(notes.at(-1)).toContain('shown once');
    expect(lines.at(-2)).toContain('rate 10 per 300s');
    expect(lines.at(-2)).toContain(`secret=${lines.at(-1)!.slice('webhook secret: '.length)}`);

    lines.length = 0;
    await rules('list', []);
    expect(lines.some((line) => line.startsWith(`${teamsId} `))).toBe(true);
    // A chat webhook's URL is its credential; a plain webhook's is not (its secret is).
    expect(lines.filter((line) => !/ webhook /.test(line)).join('\n')).not.toContain('SLACKSECRETPART');
    expect(lines.join('\n')).not.toContain('whsec_');

    await rules('disable', [String(teamsId)]);
    expect(lines.at(-1)).toMatch(new RegExp(`^${teamsId} +teams +new_item +disabled `));
    // The stored URL survived the round trip through its mask.
    await rules('test', [String(teamsId)]);
    expect(lines.at(-1)).toMatch(
      new RegExp(`^queued a sample new_item through rule ${teamsId} \\(teams\\): test:.+#${teamsId}$`),
    );
    expect(notes).toContain(
      `rule ${teamsId} is disabled: the sender skips its deliveries, this sample too, until it is enabled`,
    );
    await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: sqs.queues.notifications.url, MaxNumberOfMessages: 10 }),
    );

    await rules('enable', [String(teamsId)], { channel: 'teams' });
    expect(lines.at(-1)).toMatch(/ enabled /);
    await rules('log', [String(teamsId)]);
    expect(notes.at(-1)).toBe(`rule ${teamsId} has no deliveries yet`);

    await expect(rules('add', ['HipChat'], { trigger: 'new_item' })).rejects.toThrow(
      'channel HipChat is not available: HipChat closed in February 2019',
    );

    await rules('remove', [String(teamsId)]);
    expect(lines.at(-1)).toMatch(new RegExp(`^removed ${teamsId} `));
    await expect(rules('remove', [String(teamsId)])).rejects.toThrow(
      `rule ${teamsId} not found in the token's project`,
    );
  });

  it('prints the API’s refusal on one line and exits 2', async () => {
    const refused = await run(
      process.execPath,
      [
        'bin/faultline.mjs',
        'rules',
        'add',
        'slack',
        '--trigger',
        'daily_summary',
        '--config',
        `url=${HOOK}`,
        '--url',
        http.url,
        '--token',
        tokens.write,
      ],
      { cwd: root },
    ).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused?.stderr).toMatch(
      /^faultline: 0\.trigger: slack rules take new_item, .*; not daily_summary \(HTTP 422\)\n$/,
    );
  });
});

describe('the function sends exactly the actions it is granted', () => {
  it('as recorded on the emulators over every route above', () => {
    const tableOf = new Map(Object.entries(dynamo.tableNames).map(([table, local]) => [local, table]));
    const queueOf = new Map(Object.entries(sqs.queues).map(([queue, { url }]) => [url, queue]));
    const sent: Record<string, Set<string>> = {};
    for (const action of recorder.actions.filter(
      (recorded) => recorded.functionName === 'notificationRules',
    )) {
      const resource =
        action.service === 'dynamodb'
          ? `table ${tableOf.get(action.resource)}`
          : `queue ${queueOf.get(action.resource)}`;
      sent[resource] ??= new Set();
      sent[resource].add(action.action);
    }
    const declared = functions.notificationRules;
    expect(
      Object.fromEntries(Object.entries(sent).map(([resource, actions]) => [resource, [...actions].sort()])),
    ).toEqual({
      ...Object.fromEntries(
        Object.entries(declared.tables).map(([table, actions]) => [`table ${table}`, [...actions].sort()]),
      ),
      ...Object.fromEntries(
        Object.entries(declared.queues).map(([queue, actions]) => [`queue ${queue}`, [...actions].sort()]),
      ),
    });
  });
});
