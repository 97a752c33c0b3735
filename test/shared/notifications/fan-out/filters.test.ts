// Rollbar's rule filters on an event: the item, the deploy, and the last occurrence's payload.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FilterMatcher,
  type FilterSubject,
  MATCH_TEXT_LIMIT,
  topFrameOf,
  valueAtPath,
} from '#shared/notifications/fan-out/filters';
import {
  filterSchema,
  type NotifiedDeploy,
  type NotifiedItem,
  type RuleFilter,
} from '#shared/notifications/model';

const item: NotifiedItem = {
  id: 1,
  project_id: 1,
  counter: 1,
  title: 'TimeoutError: checkout timed out',
  level: 'error',
  environment: 'production',
  platform: 'node',
  framework: 'express',
  language: 'javascript',
  status: 'active',
  total_occurrences: 25,
  unique_people: 2,
  first_occurrence_timestamp: 1,
  last_occurrence_timestamp: 2,
  last_occurrence_id: 'u',
  last_code_version: null,
  resolved_in_version: null,
  hash: 'h',
};

const deploy: NotifiedDeploy = {
  id: 1,
  project_id: 1,
  environment: 'production',
  revision: 'abc',
  comment: 'Release 2.3: checkout fixes',
  local_username: null,
  rollbar_username: null,
  status: 'succeeded',
  start_time: 1,
  finish_time: null,
};

const data = {
  environment: 'production',
  context: 'orders#create',
  request: { url: 'https://shop.example/checkout', retries: 3 },
  custom: { tenant: 'acme', beta: true, nothing: null },
  body: {
    trace: {
      exception: { class: 'TimeoutError', message: 'checkout timed out' },
      frames: [
        { filename: '/app/server.js', method: 'handle' },
        { filename: '/app/checkout/pay.js', method: 'charge' },
      ],
    },
  },
};

const filter = (raw: Record<string, unknown>): RuleFilter => filterSchema.parse(raw);
const matcher = new FilterMatcher();
const matches = (raw: Record<string, unknown>, subject: FilterSubject = { item, occurrence: data }) =>
  matcher.evaluate([filter(raw)], subject);

describe('rule filters', () => {
  it.each<[string, Record<string, unknown>, 'match' | 'no_match']>([
    ['environment eq production', { type: 'environment', operation: 'eq', value: 'production' }, 'match'],
    ['environment eq staging', { type: 'environment', operation: 'eq', value: 'staging' }, 'no_match'],
    ['environment neq staging', { type: 'environment', operation: 'neq', value: 'staging' }, 'match'],
    ['environment within "prod"', { type: 'environment', operation: 'within', value: 'prod' }, 'match'],
    ['level eq error', { type: 'level', operation: 'eq', value: 'error' }, 'match'],
    ['level eq critical', { type: 'level', operation: 'eq', value: 'critical' }, 'no_match'],
    ['level gte warning (error ranks above)', { type: 'level', operation: 'gte', value: 'warning' }, 'match'],
    ['level gte critical', { type: 'level', operation: 'gte', value: 'critical' }, 'no_match'],
    ['title within "checkout"', { type: 'title', operation: 'within', value: 'checkout' }, 'match'],
    ['title within is case-sensitive', { type: 'title', operation: 'within', value: 'Checkout' }, 'no_match'],
    ['title nwithin "payment"', { type: 'title', operation: 'nwithin', value: 'payment' }, 'match'],
    ['title regex ^Timeout', { type: 'title', operation: 'regex', value: '^Timeout\\w+:' }, 'match'],
    ['title nregex ^Timeout', { type: 'title', operation: 'nregex', value: '^Timeout' }, 'no_match'],
    [
      'filename of the top frame within "checkout/"',
      { type: 'filename', operation: 'within', value: 'checkout/' },
      'match',
    ],
    [
      'filename of an outer frame is not the top frame',
      { type: 'filename', operation: 'regex', value: 'server\\.js$' },
      'no_match',
    ],
    ['method of the top frame regex', { type: 'method', operation: 'regex', value: '^char' }, 'match'],
    ['method nwithin', { type: 'method', operation: 'nwithin', value: 'handle' }, 'match'],
    ['context startswith orders#', { type: 'context', operation: 'startswith', value: 'orders#' }, 'match'],
    ['context eq', { type: 'context', operation: 'eq', value: 'orders#create' }, 'match'],
    ['context neq', { type: 'context', operation: 'neq', value: 'orders#create' }, 'no_match'],
    ['framework eq express', { type: 'framework', operation: 'eq', value: 'express' }, 'match'],
    ['framework eq rails', { type: 'framework', operation: 'eq', value: 'rails' }, 'no_match'],
    [
      'path eq',
      { type: 'path', path: 'body.trace.exception.class', operation: 'eq', value: 'TimeoutError' },
      'match',
    ],
    ['path neq', { type: 'path', path: 'custom.tenant', operation: 'neq', value: 'acme' }, 'no_match'],
    [
      'path eq compares a boolean as text',
      { type: 'path', path: 'custom.beta', operation: 'eq', value: 'true' },
      'match',
    ],
    [
      'path gte on a number',
      { type: 'path', path: 'request.retries', operation: 'gte', value: '3' },
      'match',
    ],
    [
      'path lte on a number',
      { type: 'path', path: 'request.retries', operation: 'lte', value: '2' },
      'no_match',
    ],
    [
      'path gte on text is no match',
      { type: 'path', path: 'custom.tenant', operation: 'gte', value: '1' },
      'no_match',
    ],
    ['path within', { type: 'path', path: 'request.url', operation: 'within', value: '/checkout' }, 'match'],
    [
      'path nwithin',
      { type: 'path', path: 'request.url', operation: 'nwithin', value: '/checkout' },
      'no_match',
    ],
    [
      'path regex',
      { type: 'path', path: 'request.url', operation: 'regex', value: '^https://[a-z.]+/' },
      'match',
    ],
    ['path nregex', { type: 'path', path: 'request.url', operation: 'nregex', value: 'admin' }, 'match'],
    [
      'path startswith',
      { type: 'path', path: 'request.url', operation: 'startswith', value: 'https://' },
      'match',
    ],
    ['path exists', { type: 'path', path: 'custom.tenant', operation: 'exists' }, 'match'],
    [
      'path exists on null is no match',
      { type: 'path', path: 'custom.nothing', operation: 'exists' },
      'no_match',
    ],
    ['path nexists', { type: 'path', path: 'custom.missing', operation: 'nexists' }, 'match'],
    [
      'path into an array by index',
      { type: 'path', path: 'body.trace.frames.0.method', operation: 'eq', value: 'handle' },
      'match',
    ],
    [
      'path eq on a missing value is no match',
      { type: 'path', path: 'custom.missing', operation: 'eq', value: 'x' },
      'no_match',
    ],
    [
      'path neq on a missing value matches',
      { type: 'path', path: 'custom.missing', operation: 'neq', value: 'x' },
      'match',
    ],
    [
      'path through __proto__ finds nothing',
      { type: 'path', path: '__proto__.constructor', operation: 'exists' },
      'no_match',
    ],
    ['unique_occurrences gte 25', { type: 'unique_occurrences', operation: 'gte', value: 25 }, 'match'],
    ['unique_occurrences gte 26', { type: 'unique_occurrences', operation: 'gte', value: 26 }, 'no_match'],
    [
      'a rate filter is the trigger’s setting, always passed',
      { type: 'rate', period: 300, count: 10 },
      'match',
    ],
    ['an invalid regex never matches', { type: 'title', operation: 'regex', value: '(' }, 'no_match'],
    [
      'an invalid nregex never matches either',
      { type: 'title', operation: 'nregex', value: '(' },
      'no_match',
    ],
    [
      'RE2 refuses backreferences: no match',
      { type: 'title', operation: 'regex', value: '(a)\\1' },
      'no_match',
    ],
  ])('%s', (_name, raw, expected) => {
    expect(matches(raw)).toBe(expected);
  });

  it.each<[string, Record<string, unknown>, 'match' | 'no_match']>([
    ['deploy environment eq', { type: 'environment', operation: 'eq', value: 'production' }, 'match'],
    ['deploy environment within', { type: 'environment', operation: 'within', value: 'stag' }, 'no_match'],
    ['deploy comment within', { type: 'comment', operation: 'within', value: 'checkout' }, 'match'],
    [
      'deploy comment within (absent word)',
      { type: 'comment', operation: 'within', value: 'rollback' },
      'no_match',
    ],
    ['a level filter on a deploy', { type: 'level', operation: 'gte', value: 'debug' }, 'no_match'],
  ])('%s', (_name, raw, expected) => {
    expect(matches(raw, { deploy })).toBe(expected);
  });

  it('all filters must pass', () => {
    const filters = [
      filter({ type: 'environment', operation: 'eq', value: 'production' }),
      filter({ type: 'level', operation: 'gte', value: 'critical' }),
    ];
    expect(matcher.evaluate(filters, { item })).toBe('no_match');
    expect(matcher.evaluate([], { item })).toBe('match');
  });

  it('asks for the last occurrence only when an item filter has not already failed', () => {
    const onPayload = filter({ type: 'path', path: 'custom.tenant', operation: 'eq', value: 'acme' });
    expect(matcher.evaluate([onPayload], { item })).toBe('needs_occurrence');
    expect(
      matcher.evaluate([filter({ type: 'environment', operation: 'eq', value: 'staging' }), onPayload], {
        item,
      }),
    ).toBe('no_match');
    // Read and found nothing: the payload filters decide on an empty payload.
    expect(matcher.evaluate([onPayload], { item, occurrence: null })).toBe('no_match');
  });

  it('tells once of a pattern that does not compile', () => {
    const told: string[] = [];
    const own = new FilterMatcher({ onInvalidPattern: (pattern) => told.push(pattern) });
    const broken = [filter({ type: 'title', operation: 'regex', value: '[unclosed' })];
    own.evaluate(broken, { item });
    own.evaluate(broken, { item });
    expect(told).toEqual(['[unclosed']);
  });

  it('reads the top frame of a trace chain’s first trace', () => {
    expect(
      topFrameOf({
        body: {
          trace_chain: [
            {
              frames: [
                { filename: 'a.py', method: 'outer' },
                { filename: 'b.py', method: 'inner' },
              ],
            },
            { frames: [] },
          ],
        },
      }),
    ).toEqual({ filename: 'b.py', method: 'inner' });
    expect(topFrameOf({ body: { message: { body: 'hi' } } })).toBeUndefined();
    expect(valueAtPath({ a: [{ b: 1 }] }, 'a.0.b')).toBe(1);
  });
});

describe('hostile rules and payloads stay fast', () => {
  // Classic catastrophic-backtracking patterns, against inputs built to trigger them.
  const patterns = ['(a+)+$', '(a|aa)+$', '(a*)*b', '^(\\w+\\s?)*$', '(.*a){20}', '((a+)+)+c'];

  it('a catastrophic pattern on a long input returns within a bounded time', () => {
    const title = `${'a'.repeat(MATCH_TEXT_LIMIT * 2)}!`;
    const started = performance.now();
    for (const pattern of patterns) {
      matcher.evaluate([filter({ type: 'title', operation: 'regex', value: pattern })], {
        item: { ...item, title },
      });
    }
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('any pattern and any payload value give a verdict without throwing, quickly', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...patterns), fc.string({ maxLength: 40 })),
        fc.oneof(fc.string({ maxLength: 2_000 }), fc.stringMatching(/^a{0,3000}b?$/)),
        fc.constantFrom('regex', 'nregex', 'within', 'nwithin', 'eq', 'startswith', 'gte'),
        (pattern, value, operation) => {
          const occurrence = { custom: { field: value } };
          const raw = { type: 'path', path: 'custom.field', operation, value: pattern };
          const started = performance.now();
          const verdict = matcher.evaluate([filter(raw)], { item, occurrence });
          expect(['match', 'no_match']).toContain(verdict);
          expect(performance.now() - started).toBeLessThan(1_000);
        },
      ),
      { numRuns: 300 },
    );
  });
});
