// Reading posted items as leniently as Rollbar: what it accepts is accepted, normalized, and the change noted.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { itemPayloadSchema } from '#shared/domain/payload';
import {
  normalizeItemPayload,
  occurrenceTimestamp,
  TIMESTAMP_FUTURE_WINDOW_SECONDS,
} from '#shared/domain/payload-normalization';
import { MAX_NESTING_DEPTH, NESTING_CUT_MARKER } from '#shared/domain/storable-json';
import { ValidationError } from '#shared/errors';

const RECEIVED_AT = Date.UTC(2026, 10, 23, 10, 0, 0);
const NOW_SECONDS = RECEIVED_AT / 1000;

const item = (data: Record<string, unknown>) => ({
  data: { environment: 'production', body: { message: { body: 'hello' } }, ...data },
});

function accepted(posted: unknown) {
  const normalized = normalizeItemPayload(posted, RECEIVED_AT);
  const parsed = itemPayloadSchema.safeParse(normalized.payload);
  expect(parsed.success, JSON.stringify(parsed.error?.issues[0])).toBe(true);
  return { data: parsed.data!.data as Record<string, unknown>, notes: normalized.notes };
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('what Rollbar accepts is accepted, and the change noted', () => {
  it('a fingerprint over 40 characters is replaced by its SHA-1', () => {
    const long = `checkout-${'x'.repeat(60)}`;
    const { data, notes } = accepted(item({ fingerprint: long }));
    expect(data.fingerprint).toBe(sha1(long));
    expect(notes?.changes).toContainEqual(
      expect.objectContaining({ field: 'data.fingerprint', action: 'hashed' }),
    );
  });

  it('a fingerprint of 40 characters is kept as it is', () => {
    const exact = 'f'.repeat(40);
    expect(accepted(item({ fingerprint: exact })).data.fingerprint).toBe(exact);
  });

  it('a title over 255 characters is cut to 255', () => {
    const { data, notes } = accepted(item({ title: 't'.repeat(400) }));
    expect(data.title).toBe('t'.repeat(255));
    expect(notes?.changes).toContainEqual(
      expect.objectContaining({ field: 'data.title', action: 'truncated' }),
    );
  });

  it('a code_version over 40 characters is kept whole', () => {
    const version = `1.2.3+build.${'a'.repeat(60)}`;
    const { data, notes } = accepted(item({ code_version: version }));
    expect(data.code_version).toBe(version);
    expect(notes).toBeUndefined();
  });

  it('a person whose id is null is kept, as nobody', () => {
    const { data } = accepted(item({ person: { id: null, username: 'ana' } }));
    expect(data.person).toEqual({ username: 'ana' });
  });

  it('a person id over 255 characters is replaced by its SHA-1, still one per person', () => {
    const id = 'p'.repeat(300);
    expect((accepted(item({ person: { id } })).data.person as { id: string }).id).toBe(sha1(id));
  });

  it('unknown keys in data are kept', () => {
    const { data, notes } = accepted(item({ assigned_user_id: 7, team: { name: 'payments' } }));
    expect(data).toMatchObject({ assigned_user_id: 7, team: { name: 'payments' } });
    expect(notes).toBeUndefined();
  });

  it('numbers where text is expected become text, numeric strings where numbers are expected become numbers', () => {
    const { data } = accepted({
      data: {
        environment: 2026,
        code_version: 42,
        person: { id: 2 ** 53 },
        body: {
          trace: {
            exception: { class: 500, message: 404 },
            frames: [{ filename: 'app.js', lineno: '12', colno: 3, method: 7 }],
          },
        },
      },
    });
    expect(data).toMatchObject({
      environment: '2026',
      code_version: '42',
      person: { id: '9007199254740992' },
      body: {
        trace: {
          exception: { class: '500', message: '404' },
          frames: [{ filename: 'app.js', lineno: 12, colno: 3, method: '7' }],
        },
      },
    });
  });

  it('a level that is not one of Rollbar’s is dropped, and the default used', () => {
    const { data, notes } = accepted(item({ level: 7 }));
    expect(data.level).toBeUndefined();
    expect(notes?.changes).toContainEqual(
      expect.objectContaining({ field: 'data.level', action: 'dropped' }),
    );
    expect(accepted(item({ level: 'WARN' })).data.level).toBe('warning');
  });

  it('a body with two kinds is kept whole', () => {
    const { data } = accepted(item({ body: { message: { body: 'a' }, crash_report: { raw: 'b' } } }));
    expect(data.body).toEqual({ message: { body: 'a' }, crash_report: { raw: 'b' } });
  });

  it('a field that cannot be used is dropped and the occurrence kept', () => {
    const { data, notes } = accepted(
      item({ custom: 'not an object', uuid: 'not-a-uuid', platform: { name: 'x' }, timestamp: 'yesterday' }),
    );
    expect(data).not.toHaveProperty('custom');
    expect(data).not.toHaveProperty('uuid');
    expect(data).not.toHaveProperty('platform');
    expect(data).not.toHaveProperty('timestamp');
    expect(notes?.changes.map((change) => change.field).sort()).toEqual(
      ['data.custom', 'data.platform', 'data.timestamp', 'data.uuid'].sort(),
    );
  });

  it('a client cannot write the record of changes itself', () => {
    const { data } = accepted(item({ _faultline: { changes: [{ field: 'forged' }] } }));
    expect(data).not.toHaveProperty('_faultline');
  });
});

describe('only a meaningless occurrence is refused', () => {
  it.each<[string, unknown, RegExp]>([
    ['no data', { access_token: 'x' }, /data is missing/],
    ['data that is not an object', { data: 'hello' }, /data is missing/],
    ['no environment', { data: { body: { message: { body: 'a' } } } }, /environment is missing/],
    ['a blank environment', item({ environment: '   ' }), /environment is missing/],
    ['no body', { data: { environment: 'production' } }, /data\.body is missing/],
    [
      'a body of no known kind',
      item({ body: { telemetry: [] } }),
      /no trace, trace_chain, message or crash_report/,
    ],
    ['a message without text', item({ body: { message: { body: null } } }), /no trace/],
  ])('%s gets a 422', (_name, posted, message) => {
    let thrown: unknown;
    try {
      normalizeItemPayload(posted, RECEIVED_AT);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).statusCode).toBe(422);
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('client timestamps', () => {
  it.each<[string, number | undefined, number]>([
    ['a plausible one is kept', NOW_SECONDS - 3600, NOW_SECONDS - 3600],
    ['none gives the time received', undefined, NOW_SECONDS],
    ['a few minutes ahead is kept (clock skew)', NOW_SECONDS + 120, NOW_SECONDS + 120],
    ['far in the future (1e15) gives the time received', 1e15, NOW_SECONDS],
    ['milliseconds instead of seconds give the time received', RECEIVED_AT, NOW_SECONDS],
    ['1e300 gives the time received', 1e300, NOW_SECONDS],
    ['2^53 + 2 gives the time received', 2 ** 53 + 2, NOW_SECONDS],
    ['older than the retention gives the time received', NOW_SECONDS - 91 * 86_400, NOW_SECONDS],
    ['a fraction is cut to whole seconds', NOW_SECONDS - 10.7, NOW_SECONDS - 11],
  ])('%s', (_name, client, seconds) => {
    expect(occurrenceTimestamp(client, RECEIVED_AT).seconds).toBe(seconds);
  });

  it('an implausible one is noted, with the client’s value kept in the payload', () => {
    const { data, notes } = accepted(item({ timestamp: 1e15 }));
    expect(data.timestamp).toBe(1e15);
    expect(notes?.changes).toContainEqual(
      expect.objectContaining({ field: 'data.timestamp', action: 'replaced' }),
    );
    expect(TIMESTAMP_FUTURE_WINDOW_SECONDS).toBe(300);
  });
});

describe('what SQS and stack-bound walkers cannot take', () => {
  it('U+FFFE, U+FFFF, unpaired surrogates and control characters become U+FFFD; pairs are kept', () => {
    const { data, notes } = accepted(
      item({ body: { message: { body: 'a\uFFFEb\uFFFFc\uD800d\uDC00e\u0001f😀g\tz' } }, ['k\uFFFF']: 1 }),
    );
    expect((data.body as { message: { body: string } }).message.body).toBe(
      'a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf😀g\tz',
    );
    expect(data).toHaveProperty('k\uFFFD', 1);
    expect(notes?.changes[0]).toMatchObject({ field: 'data', action: 'replaced' });
    expect(notes?.changes[0]?.reason).toMatch(/^6 characters/);
  });

  it('5,000 levels of nesting are cut at the limit, and the rest is kept', () => {
    let deep: unknown = 'bottom';
    for (let level = 0; level < 5000; level++) deep = { next: deep };
    const { data, notes } = accepted(item({ custom: { deep } }));
    expect(() => JSON.stringify(data)).not.toThrow();
    let cursor = (data.custom as { deep: unknown }).deep;
    let levels = 3; // the payload, data, custom
    while (typeof cursor === 'object' && cursor !== null) {
      cursor = (cursor as { next: unknown }).next;
      levels++;
    }
    expect(cursor).toBe(NESTING_CUT_MARKER);
    expect(levels).toBe(MAX_NESTING_DEPTH);
    expect(notes?.changes).toContainEqual(expect.objectContaining({ field: 'data', action: 'truncated' }));
  });

  it('a key named __proto__ is left out and pollutes nothing', () => {
    const posted = JSON.parse(
      '{"data":{"environment":"p","body":{"message":{"body":"a"}},"custom":{"__proto__":{"polluted":1}}}}',
    );
    const { data } = accepted(posted);
    expect(JSON.stringify(data.custom)).toBe('{}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
