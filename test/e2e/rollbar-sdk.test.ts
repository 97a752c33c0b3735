// End to end on the local stack: the official rollbar.js SDK reports, the read API shows the items.
import { type Message, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import Rollbar from 'rollbar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/stack';
import type { Scope } from '#shared/projects/access-tokens';
import { startStackWithProject } from '../support/local-stack';

let stack: LocalStack;
let tokens: Record<Scope, string>;

interface ApiAnswer {
  status: number;
  body: {
    err: number;
    result?: Record<string, unknown> & { items?: Item[]; instances?: Instance[] };
    message?: string;
  };
}
interface Item {
  id: number;
  counter: number;
  title: string;
  total_occurrences: number;
  level: string;
  environment: string;
  status: string;
}
interface Instance {
  id: string;
  data: Record<string, unknown>;
}

async function api(path: string, init: RequestInit & { token?: string } = {}): Promise<ApiAnswer> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('X-Rollbar-Access-Token', init.token);
  const response = await fetch(`${stack.url}${path}`, { ...init, headers });
  return { status: response.status, body: (await response.json()) as ApiAnswer['body'] };
}

async function items(): Promise<Item[]> {
  const answer = await api('/api/1/items', { token: tokens.read });
  expect(answer.status).toBe(200);
  return answer.body.result?.items ?? [];
}

function report(send: (callback: Rollbar.Callback) => void): Promise<unknown> {
  return new Promise((resolve, reject) =>
    send((error, response) => (error ? reject(error) : resolve(response))),
  );
}

function failInOrders(): Error {
  // One place in the code, so every call has the same stack and groups into one item.
  return new TypeError(`cart ${Math.random()} is not iterable`);
}

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('e2e', { batching: 'declared' }));
});

afterAll(async () => {
  await stack?.stop();
});

describe('the official Rollbar SDK against the local stack', () => {
  let rollbar: Rollbar;

  beforeAll(() => {
    rollbar = new Rollbar({
      accessToken: tokens.post_server_item,
      endpoint: `${stack.url}/api/1/`,
      environment: 'e2e',
      codeVersion: '1.0.0',
      captureUncaught: false,
      captureUnhandledRejections: false,
      reportLevel: 'debug',
    });
  });

  it('groups the same error thrown twice into one item, and messages by their text', async () => {
    // Made before any await: the same call path, so the same stack (an await would add async frames).
    const errors = [failInOrders(), failInOrders()];
    for (const error of errors) {
      const answer = (await report((callback) => rollbar.error(error, callback))) as {
        uuid?: string;
      };
      expect(answer).toMatchObject({ uuid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    }
    await report((callback) => rollbar.warning('Payment 4711 for user 12 timed out', callback));
    await report((callback) => rollbar.warning('Payment 9000 for user 77 timed out', callback));
    await stack.idle();

    const listed = await items();
    expect(listed).toHaveLength(2);
    const typeError = listed.find((item) => item.title.startsWith('TypeError'));
    const message = listed.find((item) => item.title.startsWith('Payment'));
    expect(typeError).toMatchObject({
      total_occurrences: 2,
      level: 'error',
      environment: 'e2e',
      status: 'active',
    });
    expect(message).toMatchObject({ total_occurrences: 2, level: 'warning' });
    expect(new Set(listed.map((item) => item.counter))).toEqual(new Set([1, 2]));
  });

  it('serves an item by id and by counter, with its occurrences', async () => {
    const [first] = await items();
    const byId = await api(`/api/1/item/${first!.id}`, { token: tokens.read });
    expect(byId.body.result).toMatchObject({ id: first!.id, counter: first!.counter });
    const byCounter = await api(`/api/1/item_by_counter/${first!.counter}`, { token: tokens.read });
    expect(byCounter.body.result).toMatchObject({ id: first!.id });

    const instances = await api(`/api/1/item/${first!.id}/instances`, { token: tokens.read });
    const listed = instances.body.result?.instances ?? [];
    expect(listed).toHaveLength(2);
    const one = await api(`/api/1/instance/${listed[0]!.id}`, { token: tokens.read });
    expect(one.body.result).toMatchObject({ id: listed[0]!.id, data: { environment: 'e2e' } });
    const data = one.body.result?.data as { notifier?: { name?: string } } | undefined;
    expect(data?.notifier?.name).toMatch(/rollbar/);
  });

  it('counts a message that SQS delivers twice once', async () => {
    const before = await items();
    const uuid = crypto.randomUUID();
    const payload = { data: { environment: 'e2e', uuid, body: { message: { body: 'delivered twice' } } } };
    const accepted = await api('/api/1/item/', {
      method: 'POST',
      token: tokens.post_server_item,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    expect(accepted.body).toEqual({ err: 0, result: { id: null, uuid } });
    await stack.idle();
    // The same occurrence again, as SQS redelivers it and as a client retrying would send it.
    const sqs = new SQSClient({
      endpoint: stack.endpoints.sqs,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const projectId = (await api(`/api/1/item/${before[0]!.id}`, { token: tokens.read })).body.result
      ?.project_id;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrls.ingest,
        MessageBody: JSON.stringify({
          version: 1,
          project_id: projectId,
          grouping_version: 2,
          received_at: Date.now(),
          uuid,
          data: payload.data,
        }),
      }),
    );
    await api('/api/1/item', {
      method: 'POST',
      token: tokens.post_server_item,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    await stack.idle();
    const twice = (await items()).find((item) => item.title === 'delivered twice');
    expect(twice?.total_occurrences).toBe(1);
  });
});

describe('parallel posts', () => {
  it('60 parallel posts of a new error make one item with 60 occurrences and one number', async () => {
    const before = await items();
    const payload = {
      data: {
        environment: 'e2e',
        body: {
          trace: {
            exception: { class: 'ParallelError', message: 'sixty at once' },
            frames: [{ filename: '/srv/app/parallel.js', lineno: 3, method: 'burst' }],
          },
        },
      },
    };
    const answers = await Promise.all(
      Array.from({ length: 60 }, () =>
        api('/api/1/item/', {
          method: 'POST',
          token: tokens.post_server_item,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        }),
      ),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    await stack.idle();
    const after = await items();
    const created = after.filter((item) => !before.some((old) => old.id === item.id));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      total_occurrences: 60,
      counter: Math.max(...before.map((item) => item.counter)) + 1,
    });
  });

  it('a burst of 600 posts of 30 errors by 45 people is counted exactly, per item and per environment', async () => {
    const post = (index: number) =>
      api('/api/1/item/', {
        method: 'POST',
        token: tokens.post_server_item,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          data: {
            environment: 'burst',
            person: { id: `p${index % 45}` },
            body: {
              trace: {
                exception: { class: `BurstError${index % 30}`, message: 'in a burst' },
                frames: [{ filename: '/srv/app/burst.js', lineno: 7, method: 'flood' }],
              },
            },
          },
        }),
      });
    for (let round = 0; round < 12; round++) {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, index) => post(round * 50 + index)));
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
    }
    await stack.idle({ timeoutMs: 60_000 });

    const burst = (await items()).filter((item) => item.environment === 'burst');
    expect(burst).toHaveLength(30);
    // Error k is posted by indexes k + 30m, whose people p(k + 30m) mod 45 take three values.
    for (const item of burst) expect(item).toMatchObject({ total_occurrences: 20, unique_people: 3 });
    expect(new Set(burst.map((item) => item.counter)).size).toBe(30);
    const counts = await api('/api/1/counts?environment=burst&granularity=day', { token: tokens.read });
    const days = (counts.body.result as { counts: { count: number }[] }).counts;
    expect(days.reduce((sum, day) => sum + day.count, 0)).toBe(600);
    // 600 posts, stored and folded: the idle wait above may take its whole minute on a busy machine.
  }, 120_000);
});

describe('a message that can never be processed', () => {
  it('is retried, then moved to the dead-letter queue, and the queue drains', async () => {
    const sqs = new SQSClient({
      endpoint: stack.endpoints.sqs,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queueUrls.ingest,
        MessageBody: '{"version": 1, "project_id": "poison"}',
      }),
    );
    let deadLetters: Message[] = [];
    for (let attempt = 0; attempt < 60 && deadLetters.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.deadLetterQueueUrls.ingest,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      deadLetters = received.Messages ?? [];
    }
    expect(deadLetters.map((message) => message.Body)).toEqual(['{"version": 1, "project_id": "poison"}']);
    await stack.idle();
  }, 60_000);
});

describe('bad input changes nothing', () => {
  const validItem = { data: { environment: 'e2e', body: { message: { body: 'should never be stored' } } } };
  const cases: Array<[string, RequestInit & { token?: string }, number, RegExp]> = [
    ['invalid JSON', { body: '{"data": ', headers: { 'content-type': 'application/json' } }, 400, /JSON/],
    ['a body that is an array', { body: '[1,2]' }, 400, /object/],
    ['a missing token', { body: JSON.stringify(validItem), token: '' }, 403, /access token/],
    [
      'an unknown token',
      { body: JSON.stringify(validItem), token: 'f'.repeat(32) },
      403,
      /invalid access token/,
    ],
    ['a token without a post scope', { body: JSON.stringify(validItem), token: 'read' }, 403, /scope/],
    [
      'a missing environment',
      { body: JSON.stringify({ data: { body: validItem.data.body } }) },
      422,
      /environment/,
    ],
    [
      'no body of any known kind',
      { body: JSON.stringify({ data: { ...validItem.data, body: { telemetry: [] } } }) },
      422,
      /no trace, trace_chain, message or crash_report/,
    ],
    ['no data', { body: JSON.stringify({ access_token: 'x' }) }, 422, /data is missing/],
    [
      'a payload over 512 KiB',
      { body: JSON.stringify({ data: { ...validItem.data, custom: { big: 'x'.repeat(600_000) } } }) },
      413,
      /limit/,
    ],
  ];

  it.each(cases)('%s gets a Rollbar error answer', async (_name, init, status, message) => {
    const before = await items();
    const token = init.token === 'read' ? tokens.read : (init.token ?? tokens.post_server_item);
    const answer = await api('/api/1/item/', { method: 'POST', ...init, token: token || undefined });
    expect(answer.status).toBe(status);
    expect(answer.body.err).toBe(1);
    expect(answer.body.message).toMatch(message);
    await stack.idle();
    expect(await items()).toEqual(before);
  });

  it('reading without the read scope is refused', async () => {
    const answer = await api('/api/1/items', { token: tokens.post_server_item });
    expect(answer.status).toBe(403);
    expect(answer.body.err).toBe(1);
  });
});

describe('deploys', () => {
  it('are recorded from JSON, url-encoded forms and multipart, and their status updated', async () => {
    const json = await api('/api/1/deploy/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: tokens.post_server_item, environment: 'e2e', revision: 'abc123' }),
    });
    const form = await api('/api/1/deploy', {
      method: 'POST',
      body: new URLSearchParams({
        access_token: tokens.post_server_item,
        environment: 'e2e',
        revision: 'def456',
        local_username: 'ci',
        comment: 'from requests.post',
      }),
    });
    const multipart = new FormData();
    multipart.set('environment', 'e2e');
    multipart.set('revision', '789abc');
    multipart.set('status', 'started');
    const curl = await api('/api/1/deploy/', {
      method: 'POST',
      token: tokens.post_server_item,
      body: multipart,
    });
    for (const answer of [json, form, curl]) {
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { deploy_id: expect.any(Number) } });
    }
    const startedId = (curl.body as unknown as { data: { deploy_id: number } }).data.deploy_id;
    const patched = await api(`/api/1/deploy/${startedId}`, {
      method: 'PATCH',
      token: tokens.post_server_item,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'succeeded' }),
    });
    expect(patched.body.result).toMatchObject({
      id: startedId,
      status: 'succeeded',
      finish_time: expect.any(Number),
    });

    const listed = await api('/api/1/deploys', { token: tokens.read });
    const deploys = (
      listed.body.result as { deploys: Array<{ revision: string; local_username: string | null }> }
    ).deploys;
    expect(deploys.map((deploy) => deploy.revision)).toEqual(['789abc', 'def456', 'abc123']);
    expect(deploys[1]?.local_username).toBe('ci');
  });

  it('a deploy without a revision is refused', async () => {
    const answer = await api('/api/1/deploy/', {
      method: 'POST',
      token: tokens.post_server_item,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ environment: 'e2e' }),
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ err: 1, message: expect.stringMatching(/revision/) });
  });
});

describe('health', () => {
  it('answers 200 when the table and queue are reachable', async () => {
    const response = await fetch(`${stack.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, checks: { table: 'ok', queue: 'ok' } });
  });
});
