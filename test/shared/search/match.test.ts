// Which items a search finds, evaluated on an item's document and facets as an index holds them:
// each kind of term found and not found, negation, and the rounded last-seen time never missing one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ItemRecord } from '#shared/items/item';
import { documentOf, emptyFacets, type Facets, LAST_SEEN_STEP_SECONDS } from '#shared/search/document';
import { matchesQuery, type SearchSubject } from '#shared/search/match';
import { parseSearchQuery } from '#shared/search/query';

const FIRST_SEEN = Date.UTC(2026, 10, 1, 8) / 1000;
const LAST_SEEN = Date.UTC(2026, 10, 30, 12, 5) / 1000;

function item(fields: Partial<ItemRecord> = {}): ItemRecord {
  return {
    id: 1001,
    project_id: 7,
    counter: 12,
    created_at: FIRST_SEEN,
    environment: 'production',
    platform: 'browser',
    framework: 'browser-js',
    language: 'javascript',
    hash: 'aB12cd',
    grouping_method: 'default',
    title: "UnicodeEncodeError: 'latin-1' codec can't encode character u'\\u0441'",
    level: 'error',
    level_lock: false,
    status: 'active',
    total_occurrences: 3,
    unique_people: 1,
    first_occurrence_id: 'o-1',
    first_occurrence_timestamp: FIRST_SEEN,
    last_occurrence_id: 'o-3',
    last_occurrence_timestamp: LAST_SEEN,
    last_activated_timestamp: FIRST_SEEN,
    activating_occurrence_id: 'o-1',
    reactivated_count: 0,
    resolved_timestamp: null,
    resolved_in_version: null,
    last_code_version: 'v1.4.2',
    ...fields,
  };
}

const FACETS: Facets = {
  ...emptyFacets(),
  hosts: ['Web-1.prod.internal', 'worker-3'],
  contexts: ['Orders#Create'],
  files: ['https://cdn.example.com/assets/App/Checkout.js', 'node_modules/lib/index.js'],
  code_versions: ['abc123def', 'v1.3.0'],
  person_ids: ['User-42'],
  usernames: ['Alice'],
  emails: ['Alice@Example.com'],
};

function subject(fields: Partial<ItemRecord> = {}, facets: Facets = FACETS): SearchSubject {
  return { document: documentOf(item(fields)), facets };
}

function finds(query: string, on: SearchSubject = subject(), lastSeenStep?: number): boolean {
  return matchesQuery(parseSearchQuery(query), on, lastSeenStep === undefined ? {} : { lastSeenStep });
}

describe("Rollbar's example title", () => {
  it.each([
    'Error',
    'Encode',
    'latin',
    'latin-1',
    "'latin-1'",
    'u0441',
    'Unicode',
    'UnicodeEncodeError:',
    'codec',
    "can't",
  ])('is found by %s', (fragment) => {
    expect(finds(fragment)).toBe(true);
  });

  it.each(['Decode', 'latin-2', 'u0442', 'ReferenceError'])('is not found by %s', (fragment) => {
    expect(finds(fragment)).toBe(false);
  });

  it('needs every word to match', () => {
    expect(finds('Encode latin')).toBe(true);
    expect(finds('Encode Decode')).toBe(false);
  });

  it('is found by a phrase inside its title, not by words out of order', () => {
    expect(finds(`"codec can't encode"`)).toBe(true);
    expect(finds(`"Can't Encode Character"`)).toBe(true);
    expect(finds(`"encode can't"`)).toBe(false);
  });
});

describe('any word of a title, typed as it reads', () => {
  it('finds the title (the parser trims a word as the tokenizer trims it)', () => {
    const piece = fc.constantFrom(
      'Error',
      'not_found',
      'é',
      '😀',
      '(',
      ')',
      ':',
      "'",
      '-',
      '.',
      '1',
      '\\u0441',
      'İ',
      'ß',
    );
    const chunk = fc.array(piece, { minLength: 1, maxLength: 8 }).map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(fc.array(chunk, { minLength: 1, maxLength: 8 }), (chunks) => {
        const title = chunks.join(' ');
        const on = subject({ title });
        for (const typed of chunks) {
          // What would read as something else: a negation, an item number, a qualifier (none here).
          if (typed.startsWith('-') || typed.startsWith('#')) continue;
          expect(finds(typed, on), `${typed} in ${title}`).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('"Error" finds the pieces of a word', () => {
  it.each([
    ['a camelCase class', 'ReferenceError: x is not defined'],
    ['a snake_case name', 'not_found_error raised'],
    ['a word in parentheses', 'Request failed (Error)'],
    ['itself', 'Error: boom'],
  ])('in %s', (_what, title) => {
    expect(finds('Error', subject({ title }))).toBe(true);
  });

  it('but not in a title without it', () => {
    expect(finds('Error', subject({ title: 'Timeout while fetching /orders' }))).toBe(false);
  });
});

describe('each term, found and not found', () => {
  it.each<[string, string, boolean]>([
    ['the level', 'level:error', true],
    ['another level', 'level:warning', false],
    ['the status', 'status:active', true],
    ['another status', 'status:resolved', false],
    ['the environment', 'environment:production', true],
    ['the environment in another case (environments are case-sensitive)', 'environment:Production', false],
    ['a start of the environment (environment is exact)', 'environment:prod', false],
    ['the framework', 'framework:browser-js', true],
    ['another framework', 'framework:rails', false],
    ['the fingerprint as stored', 'fingerprint:aB12cd', true],
    ['the fingerprint in another case', 'fingerprint:ab12cd', false],
    ['a start of a host, in any case', 'host:web-1', true],
    ['a whole host', 'host:worker-3', true],
    ['the middle of a host (host is a prefix)', 'host:prod', false],
    ['a start of a context, in any case', 'context:orders#', true],
    ['another context', 'context:users', false],
    ['any part of a file, in any case', 'file:app/checkout', true],
    ['a file name', 'file:index.js', true],
    ['a file no frame had', 'file:models/user', false],
    ['a start of the last code version', 'code_version:v1.4', true],
    ['a start of an earlier code version', 'code_version:abc', true],
    ['a start of a code version in another case', 'code_version:ABC1', true],
    ['the end of a code version (code_version is a prefix)', 'code_version:123def', false],
    ['the person id, in any case', 'person:user-42', true],
    ['user_id, which is person', 'user_id:User-42', true],
    ['a start of the person id (person is exact)', 'person:user', false],
    ['the username, in any case', 'username:alice', true],
    ['a start of the username (username is exact)', 'username:ali', false],
    ['a start of the email, in any case', 'email:alice@', true],
    ['the domain of the email (email is a prefix)', 'email:example.com', false],
    ['the item number', '#12', true],
    ['another item number', '#13', false],
    ['first seen after a day before', 'first_seen:>2026-10-31', true],
    ['first seen after a later day', 'first_seen:>2026-11-02', false],
    ['first seen before a later time', 'first_seen:<2026-11-01T08:00:01Z', true],
    ['first seen before its own second (strictly)', 'first_seen:<2026-11-01T08:00:00Z', false],
    ['first seen after its own second (strictly)', 'first_seen:>2026-11-01T08:00:00Z', false],
    ['first seen from its own second', 'first_seen:>=2026-11-01T08:00:00Z', true],
    ['first seen on its day', 'first_seen:2026-11-01', true],
    ['first seen on another day', 'first_seen:2026-11-02', false],
    ['last seen after a day', 'last_seen:>2026-11-30', true],
    ['last seen before a day', 'last_seen:<2026-11-30', false],
  ])('%s: %s → %s', (_what, query, expected) => {
    expect(finds(query)).toBe(expected);
  });
});

describe('a leading dash', () => {
  it.each<[string, string, boolean]>([
    ['leaves out an item of that level', '-level:error', false],
    ['keeps an item of another level', '-level:debug', true],
    ['leaves out an item whose title has the word', '-Error', false],
    ['keeps an item whose title lacks the word', '-Timeout', true],
    ['leaves out an item whose title has the phrase', `-"can't encode"`, false],
    ['leaves out the numbered item', '-#12', false],
    ['keeps other items', '-#13', true],
    ['leaves out an item seen on that host', '-host:worker', false],
    ['keeps an item first seen before the date', '-first_seen:>2026-11-02', true],
    ['combines with other terms', 'Encode -status:resolved -level:debug', true],
  ])('%s: %s → %s', (_what, query, expected) => {
    expect(finds(query)).toBe(expected);
  });
});

describe('what an item lacks', () => {
  const bare = subject({ counter: null, framework: null, last_code_version: null }, emptyFacets());

  it.each<[string, boolean]>([
    ['#12', false],
    ['-#12', true],
    ['framework:browser-js', false],
    ['-framework:browser-js', true],
    ['code_version:v1', false],
    ['host:web', false],
    ['-host:web', true],
    ['email:alice', false],
  ])('%s → %s', (query, expected) => {
    expect(finds(query, bare)).toBe(expected);
  });
});

describe('facets stored before a facet existed', () => {
  it('read as no values for it', () => {
    const { emails: _dropped, ...older } = FACETS;
    const on = subject({}, older as Facets);
    expect(finds('email:alice', on)).toBe(false);
    expect(finds('-email:alice host:web', on)).toBe(true);
  });
});

describe('an empty search', () => {
  it('finds every item', () => {
    expect(finds('')).toBe(true);
    expect(finds('  -  ', subject({ title: '', status: 'muted' }, emptyFacets()))).toBe(true);
  });
});

describe('a last-seen time rounded down by the index', () => {
  const step = LAST_SEEN_STEP_SECONDS;
  // The index says 12:00:00; the item was truly last seen at some second up to 12:09:59.
  const rounded = Date.UTC(2026, 10, 30, 12) / 1000;
  const indexed = subject({ last_occurrence_timestamp: rounded });

  it.each<[string, string, boolean]>([
    ['after a time inside the step: the true time may be later', 'last_seen:>2026-11-30T12:05:00Z', true],
    ['after the step’s last second: no time in it is later', 'last_seen:>2026-11-30T12:09:59Z', false],
    ['before the step’s first second and one more', 'last_seen:<2026-11-30T12:00:01Z', true],
    ['before the step’s first second: no time in it is earlier', 'last_seen:<2026-11-30T12:00:00Z', false],
    [
      'negated, not after a time inside the step: the true time may be earlier',
      '-last_seen:>2026-11-30T12:05:00Z',
      true,
    ],
    ['negated, not after a second before the step', '-last_seen:>2026-11-30T11:59:59Z', false],
    [
      'negated, not before a time inside the step: the true time may be later',
      '-last_seen:<2026-11-30T12:05:00Z',
      true,
    ],
    ['negated, not before the second after the step', '-last_seen:<2026-11-30T12:10:00Z', false],
    ['on its day', 'last_seen:2026-11-30', true],
    ['first seen is exact, whatever the step', 'first_seen:>2026-11-01T08:00:00Z', false],
  ])('%s: %s → %s', (_what, query, expected) => {
    expect(finds(query, indexed, step)).toBe(expected);
  });

  it('never misses an item whose exact time matches, negated or not', () => {
    const times = [-1, 0, 1, 299, 599, 600, 601].map((offset) => rounded + offset);
    const queries = times
      .flatMap((at) => [`last_seen:>${at}`, `last_seen:<${at}`, `-last_seen:>${at}`, `-last_seen:<${at}`])
      .map((text) => parseSearchQuery(text));
    const exact = subject();
    const missed: string[] = [];
    for (let offset = 0; offset < step; offset += 1) {
      const truth = { ...exact, document: { ...exact.document, last_seen: rounded + offset } };
      const fromIndex = { ...exact, document: { ...exact.document, last_seen: rounded } };
      for (const query of queries) {
        if (matchesQuery(query, truth) && !matchesQuery(query, fromIndex, { lastSeenStep: step })) {
          missed.push(`${JSON.stringify(query.terms[0])} at +${offset}s`);
        }
      }
    }
    expect(missed).toEqual([]);
  });

  it('is exact without a step', () => {
    expect(finds('last_seen:>2026-11-30T12:05:00Z', indexed)).toBe(false);
    expect(finds('-last_seen:>2026-11-30T11:59:59Z', indexed)).toBe(false);
  });
});
