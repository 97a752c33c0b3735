// Fuzzing everything that reads client input on the way in: the body reader, the token reader and the
// payload schema. Whatever a client sends gets a status below 500, and whatever is accepted is stored
// and counted: the properties post to the local stack's real handler, then read every accepted one back.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/stack';
import { itemPayloadSchema } from '#shared/domain/payload';
import { normalizeItemPayload } from '#shared/domain/payload-normalization';
import { carriedBySqs } from '#shared/domain/storable-json';
import { MAX_STORED_PAYLOAD_BYTES } from '#shared/domain/truncation';
import { ValidationError } from '#shared/errors';
import { accessTokenOf } from '#shared/http/request';
import type { Scope } from '#shared/projects/access-tokens';
import { occurrenceMessageBody } from '#shared/queue/ingest-queue';
import { prepareOccurrence } from '#shared/storing/occurrence';
import { deadLetterCount, startStackWithProject } from '../support/local-stack';

let stack: LocalStack;
let tokens: Record<Scope, string>;
/** Every uuid the stack answered 200 for. */
const accepted: string[] = [];

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('fuzz'));
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** Any UTF-16 code unit, lone surrogates, U+FFFE and U+FFFF included. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: anyCodeUnit }),
  fc.constantFrom('\uFFFE', '\uFFFF', '\uD800', 'a\uDC00b', '\u0000', '😀'.slice(0, 1)),
);
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e300, 2 ** 53 + 2, 1e15, -1, 0, Date.now(), Date.now() / 1000),
);
const anything = fc.oneof(fc.jsonValue(), hostileText, number, fc.constant(null));
const text = fc.oneof(hostileText, number, fc.constant(null), fc.jsonValue());

const frame = fc.record(
  { filename: text, lineno: fc.oneof(number, text), colno: number, method: text, code: text },
  { requiredKeys: [] },
);
const trace = fc.record(
  {
    frames: fc.oneof(fc.array(fc.oneof(frame, anything), { maxLength: 5 }), anything),
    exception: fc.oneof(fc.record({ class: text, message: text }, { requiredKeys: [] }), anything),
  },
  { requiredKeys: [] },
);
const body = fc.record(
  {
    trace: fc.oneof(trace, anything),
    trace_chain: fc.oneof(fc.array(trace, { maxLength: 3 }), anything),
    message: fc.oneof(fc.record({ body: text }, { requiredKeys: [] }), text),
    crash_report: fc.oneof(fc.record({ raw: text }), anything),
  },
  { requiredKeys: [] },
);
/** Rollbar-shaped, with every known field of any type: most are accepted, which is the point. */
const itemPayload = fc.record({
  data: fc.record(
    {
      environment: fc.oneof(fc.constantFrom('production', 'fuzz'), text),
      body: fc.oneof(body, body, anything),
      level: fc.oneof(fc.constantFrom('error', 'warn', 'INFO', 'critical'), anything),
      timestamp: fc.oneof(number, text),
      code_version: text,
      platform: text,
      fingerprint: fc.oneof(fc.string({ maxLength: 100 }), text),
      title: fc.oneof(fc.string({ maxLength: 400 }), text),
      uuid: fc.oneof(fc.uuid(), text),
      person: fc.oneof(fc.record({ id: text, username: text, email: text }, { requiredKeys: [] }), anything),
      custom: anything,
      server: fc.oneof(fc.record({ root: text, host: text }, { requiredKeys: [] }), anything),
      assigned_user_id: anything,
    },
    { requiredKeys: ['body'] },
  ),
});

/** Nesting as deep as a body allows, with a string at the bottom. */
const deepNesting = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('[', '{"a":'), hostileText)
  .map(([depth, open, bottom]) => {
    const close = open === '[' ? ']' : '}';
    const nested = `${open.repeat(depth)}${JSON.stringify(bottom)}${close.repeat(depth)}`;
    return `{"data":{"environment":"deep","body":{"message":{"body":"deep"}},"custom":${nested}}}`;
  });

const rawBody = fc.oneof(
  itemPayload.map((payload) => JSON.stringify(payload)),
  itemPayload.map((payload) => JSON.stringify(payload)),
  deepNesting,
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string(),
  fc.string({ unit: anyCodeUnit }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(
    '',
    'null',
    '[]',
    '{}',
    '{"data":null}',
    `{"data":{"environment":"big","body":{"message":{"body":"${'x'.repeat(520_000)}"}}}}`,
  ),
);

async function postItem(body: string | Buffer, headers: Record<string, string>, query = ''): Promise<number> {
  const response = await fetch(`${stack.url}/api/1/item/${query}`, { method: 'POST', headers, body });
  const answer = (await response.json()) as { err: number; result?: { uuid?: string }; message?: string };
  if (response.status === 200) accepted.push(answer.result!.uuid!);
  else expect(answer).toMatchObject({ err: 1, message: expect.any(String) });
  return response.status;
}

describe('the ingest body reader and payload schema, through the real handler', () => {
  it('answer any body with a status below 500', async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, async (body) => {
        const status = await postItem(body, {
          'content-type': 'application/json',
          'x-rollbar-access-token': tokens.post_server_item,
        });
        expect(status).toBeLessThan(500);
      }),
      { numRuns: 80 },
    );
  }, 120_000);
});

describe('the token reader', () => {
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  });
  const place = fc.record({
    header: fc.option(fc.oneof(printable, fc.constant('TOKEN')), { nil: undefined }),
    query: fc.option(fc.oneof(printable, fc.constant('TOKEN')), { nil: undefined }),
    field: fc.option(fc.oneof(anything, fc.constant('TOKEN')), { nil: undefined }),
  });
  const real = (value: unknown) => (value === 'TOKEN' ? tokens.post_server_item : value);

  it('finds the token wherever it is sent, or none, and never throws', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.string()),
        fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined }),
        fc.dictionary(fc.string(), anything),
        (headers, query, fields) => {
          const event = { headers, queryStringParameters: query } as unknown as APIGatewayProxyEventV2;
          const token = accessTokenOf(event, fields);
          expect(token === undefined || (token.length > 0 && token === token.trim())).toBe(true);
          expect(() => accessTokenOf({} as APIGatewayProxyEventV2, fields)).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers a token in any place, of any type, with a status below 500', async () => {
    await fc.assert(
      fc.asyncProperty(place, async ({ header, query, field }) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (header !== undefined) headers['x-rollbar-access-token'] = real(header) as string;
        const payload: Record<string, unknown> = {
          data: { environment: 'tokens', body: { message: { body: 'token fuzz' } } },
        };
        if (field !== undefined) payload.access_token = real(field);
        const search =
          query === undefined ? '' : `?access_token=${encodeURIComponent(real(query) as string)}`;
        const status = await postItem(JSON.stringify(payload), headers, search);
        expect(status).toBeLessThan(500);
      }),
      { numRuns: 30 },
    );
  }, 60_000);
});

describe('the payload schema', () => {
  it('refuses only with a 422, and what it accepts the worker can prepare and store', () => {
    const receivedAt = Date.now();
    fc.assert(
      fc.property(fc.oneof(itemPayload, anything), (posted) => {
        let normalized: ReturnType<typeof normalizeItemPayload>;
        try {
          normalized = normalizeItemPayload(posted, receivedAt);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          return;
        }
        const parsed = itemPayloadSchema.safeParse(normalized.payload);
        expect(parsed.success).toBe(true);
        const message = {
          version: 1 as const,
          project_id: 1,
          grouping_version: 2 as const,
          received_at: receivedAt,
          uuid: '00000000-0000-4000-8000-000000000000',
          data: parsed.data!.data,
        };
        expect(carriedBySqs(occurrenceMessageBody(message))).toBe(true);
        const prepared = prepareOccurrence(message);
        expect(Number.isSafeInteger(prepared.timestamp)).toBe(true);
        expect(Buffer.byteLength(prepared.payloadJson)).toBeLessThanOrEqual(MAX_STORED_PAYLOAD_BYTES);
      }),
      { numRuns: 500 },
    );
  });
});

describe('what was accepted', () => {
  it('is stored, counted, and nothing went to the dead-letter queue', async () => {
    expect(accepted.length).toBeGreaterThan(10);
    await stack.idle({ timeoutMs: 60_000 });
    const read = async (path: string) => {
      const response = await fetch(`${stack.url}${path}`, {
        headers: { 'X-Rollbar-Access-Token': tokens.read },
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { result: Record<string, number> }).result;
    };
    for (const uuid of accepted) {
      const instance = await read(`/api/1/instance/${uuid}`);
      const item = await read(`/api/1/item/${instance.item_id}`);
      expect(item.total_occurrences).toBeGreaterThanOrEqual(1);
    }
    expect(await deadLetterCount(stack)).toBe(0);
  }, 120_000);
});
