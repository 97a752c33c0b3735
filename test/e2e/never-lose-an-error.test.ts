// End to end on the local stack: every occurrence ingest accepts is stored and counted, whatever a
// client sends — odd numbers, huge and deep payloads, characters SQS refuses, fields Rollbar accepts.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/stack';
import type { Scope } from '#shared/projects/access-tokens';
import { deadLetterCount, startStackWithProject } from '../support/local-stack';

let stack: LocalStack;
let tokens: Record<Scope, string>;

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('never-lose'));
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

interface Answer {
  status: number;
  body: { err: number; result?: Record<string, unknown>; message?: string };
}

async function call(path: string, init: RequestInit & { token?: string } = {}): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('X-Rollbar-Access-Token', init.token);
  const response = await fetch(`${stack.url}${path}`, { ...init, headers });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** Posts an item as raw JSON text and expects Rollbar's 200; the uuid it was given. */
async function post(json: string): Promise<string> {
  const answer = await call('/api/1/item/', {
    method: 'POST',
    token: tokens.post_server_item,
    headers: { 'content-type': 'application/json' },
    body: json,
  });
  expect(answer.body.message).toBeUndefined();
  expect(answer.status).toBe(200);
  return answer.body.result?.uuid as string;
}

/** The stored occurrence and its counted item, once the worker and the fold are done. */
async function storedAndCounted(uuid: string) {
  const instance = await call(`/api/1/instance/${uuid}`, { token: tokens.read });
  expect(instance.status).toBe(200);
  const itemId = instance.body.result?.item_id as number;
  const item = await call(`/api/1/item/${itemId}`, { token: tokens.read });
  expect(item.status).toBe(200);
  return {
    instance: instance.body.result as {
      timestamp: number;
      data: Record<string, unknown>;
      truncated?: boolean;
    },
    item: item.body.result as {
      id: number;
      title: string;
      total_occurrences: number;
      last_occurrence_timestamp: number;
    },
  };
}

const item = (environment: string, data: Record<string, unknown> = {}, message = `${environment} happened`) =>
  JSON.stringify({ data: { environment, body: { message: { body: message } }, ...data } });

/** Printable ASCII but `"` and `\\`, at random: about 6.5 bits a byte, so deflate saves under a fifth. */
const PRINTABLE = Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index)).filter(
  (character) => character !== '"' && character !== '\\',
);
const randomText = (length: number) =>
  Array.from(randomBytes(length), (byte) => PRINTABLE[byte % PRINTABLE.length]).join('');

const TIMESTAMPS: Array<[string, string]> = [
  ['a timestamp of 1e300', '1e300'],
  ['a timestamp of 2^53 + 2', String(2 ** 53 + 2)],
  ['a far-future timestamp (1e15)', '1e15'],
];

const ACCEPTED: Array<[string, Record<string, unknown>, (data: Record<string, unknown>) => void]> = [
  [
    'a title over 255 characters is cut',
    { title: 'T'.repeat(300) },
    (data) => expect(data.title).toBe('T'.repeat(255)),
  ],
  [
    'a code_version over 40 characters is kept',
    { code_version: `v${'1'.repeat(60)}` },
    (data) => expect(data.code_version).toBe(`v${'1'.repeat(60)}`),
  ],
  ['person.id null is kept as nobody', { person: { id: null } }, (data) => expect(data.person).toEqual({})],
  [
    'unknown keys in data are kept',
    { assigned_user_id: 12, extra: { a: 1 } },
    (data) => expect(data).toMatchObject({ assigned_user_id: 12, extra: { a: 1 } }),
  ],
  [
    'numbers where text is expected become text',
    { code_version: 7, platform: 3, person: { id: 42 } },
    (data) => expect(data).toMatchObject({ code_version: '7', platform: '3', person: { id: '42' } }),
  ],
  [
    'a level that is not Rollbar’s is dropped',
    { level: 7 },
    (data) =>
      expect(data._faultline).toMatchObject({ changes: [{ field: 'data.level', action: 'dropped' }] }),
  ],
  [
    'two kinds of body are kept',
    { body: { message: { body: 'two kinds' }, crash_report: { raw: 'b' } } },
    (data) => expect(data.body).toMatchObject({ crash_report: { raw: 'b' } }),
  ],
];

const LONG_FINGERPRINT = `checkout-timeout-${'x'.repeat(50)}`;

/** The uuid each post was given, by its name: everything is posted first, then counted once. */
const posted = new Map<string, string>();

beforeAll(async () => {
  const posts: Array<[string, string]> = [
    ...TIMESTAMPS.map(([name, timestamp]): [string, string] => [
      name,
      `{"data":{"environment":"timestamps","timestamp":${timestamp},"body":{"message":{"body":"${name}"}}}}`,
    ]),
    [
      'incompressible',
      JSON.stringify({
        data: {
          environment: 'incompressible',
          body: {
            trace: {
              exception: { class: 'HugeError', message: 'incompressible' },
              frames: [
                {
                  filename: 'app.js',
                  method: 'run',
                  // ~506 KB that still weighs over DynamoDB's 400 KB item limit once compressed.
                  vars: Array.from({ length: Math.floor(515_000 / 203) }, () => randomText(200)),
                },
              ],
            },
          },
        },
      }),
    ],
    [
      'nested-3500',
      item('nested', {
        custom: JSON.parse(`${'{"a":'.repeat(3500)}"${randomText(200_000)}"${'}'.repeat(3500)}`),
      }),
    ],
    [
      'nested-6000',
      `{"data":{"environment":"nested","body":{"message":{"body":"deeper"}},"custom":{"deep":${'['.repeat(6000)}${']'.repeat(6000)}}}}`,
    ],
    [
      'characters',
      '{"data":{"environment":"characters","body":{"message":{"body":"bad \\uFFFE \\uFFFF \\uD800 end"}}}}',
    ],
    [
      'long-numbers',
      `{"data":{"environment":"numbers","body":{"message":{"body":"numbers","values":[${Array.from({ length: 100_000 }, () => '1e20').join(',')}]}}}}`,
    ],
    ['fingerprint-1', item('fingerprints', { fingerprint: LONG_FINGERPRINT }, 'first wording')],
    ['fingerprint-2', item('fingerprints', { fingerprint: LONG_FINGERPRINT }, 'another wording')],
    ...ACCEPTED.map(([name, fields]): [string, string] => [name, item('accepted', fields, name)]),
    ['person-number', item('people', { person: { id: 42 } })],
    ['person-text', item('people', { person: { id: '42' } })],
    ['person-null', item('people', { person: { id: null } })],
  ];
  for (const [name, json] of posts) posted.set(name, await post(json));
  // Rollbar's API also takes the JSON form-encoded as the value of a `payload` parameter.
  const payload = JSON.parse(item('form', {}, 'posted as a form')) as Record<string, unknown>;
  const form = await call('/api/1/item/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      payload: JSON.stringify({ ...payload, access_token: tokens.post_server_item }),
    }).toString(),
  });
  expect(form.status).toBe(200);
  posted.set('form', form.body.result?.uuid as string);
  await stack.idle({ timeoutMs: 60_000 });
}, 120_000);

const uuidOf = (name: string) => posted.get(name)!;

describe('accepted means stored and counted', () => {
  it.each(TIMESTAMPS)('%s is counted at the time it was received', async (name) => {
    const { instance, item } = await storedAndCounted(uuidOf(name));
    expect(item.total_occurrences).toBe(1);
    const now = Math.floor(Date.now() / 1000);
    expect(instance.timestamp).toBeGreaterThan(now - 300);
    expect(instance.timestamp).toBeLessThanOrEqual(now);
    expect(item.last_occurrence_timestamp).toBe(instance.timestamp);
  });

  it('506 KB of incompressible strings are stored truncated and counted', async () => {
    const { instance, item } = await storedAndCounted(uuidOf('incompressible'));
    expect(instance.truncated).toBe(true);
    expect(item).toMatchObject({ title: 'HugeError: incompressible', total_occurrences: 1 });
  });

  it('3,500 levels of nesting with 200 KB of padding are stored and counted', async () => {
    expect((await storedAndCounted(uuidOf('nested-3500'))).item.total_occurrences).toBe(1);
  });

  it('6,000 levels of nesting are stored and counted, cut at 100 levels', async () => {
    const { instance, item } = await storedAndCounted(uuidOf('nested-6000'));
    expect(item.total_occurrences).toBe(1);
    expect(JSON.stringify(instance.data.custom)).toContain('[cut: nested deeper than 100 levels]');
  });

  it('U+FFFE, U+FFFF and an unpaired surrogate are replaced, stored and counted', async () => {
    const { instance, item } = await storedAndCounted(uuidOf('characters'));
    expect(item.total_occurrences).toBe(1);
    expect((instance.data.body as { message: { body: string } }).message.body).toBe(
      'bad \uFFFD \uFFFD \uFFFD end',
    );
    expect(instance.data._faultline).toMatchObject({ changes: [{ field: 'data', action: 'replaced' }] });
  });

  it('a body of numbers that serialize longer than posted fits the queue and is counted', async () => {
    expect((await storedAndCounted(uuidOf('long-numbers'))).item.total_occurrences).toBe(1);
  });

  it('nothing went to the dead-letter queue', async () => {
    expect(await deadLetterCount(stack)).toBe(0);
  });
});

describe('what Rollbar accepts is accepted, counted, and the change recorded', () => {
  it('two posts with the same fingerprint over 40 characters group together under its SHA-1', async () => {
    const one = await storedAndCounted(uuidOf('fingerprint-1'));
    const two = await storedAndCounted(uuidOf('fingerprint-2'));
    expect(two.item.id).toBe(one.item.id);
    expect(two.item.total_occurrences).toBe(2);
    expect(one.instance.data.fingerprint).toMatch(/^[0-9a-f]{40}$/);
  });

  it.each(ACCEPTED)('%s', async (name, _fields, check) => {
    const { instance, item: counted } = await storedAndCounted(uuidOf(name));
    expect(counted.total_occurrences).toBe(1);
    check(instance.data);
  });

  it('an item posted form-encoded as a `payload` parameter is stored and counted', async () => {
    const { item: counted } = await storedAndCounted(uuidOf('form'));
    expect(counted).toMatchObject({ title: 'posted as a form', total_occurrences: 1 });
  });

  it('a person counts once per item, by the id sent as a number or as text', async () => {
    const { item: counted } = await storedAndCounted(uuidOf('person-number'));
    expect(counted).toMatchObject({ total_occurrences: 3, unique_people: 1 });
  });
});
