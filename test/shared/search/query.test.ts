// What users type in the search box, parsed into terms: every piece of Rollbar's syntax, every refusal
// with its message, the limits, and hostile input read in linear time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import {
  ignoresCase,
  MAX_QUERY_CHARS,
  MAX_QUERY_TERMS,
  parseSearchQuery,
  type SearchTerm,
  TEXT_QUALIFIERS,
  trimPunctuation,
} from '#shared/search/query';
import { MAX_TOKEN_LENGTH } from '#shared/search/title-tokens';

const NOV_1 = Date.UTC(2026, 10, 1) / 1000;
const NOV_30_NOON = Date.UTC(2026, 10, 30, 12) / 1000;
const DAY = 86_400;

const word = (value: string, negated = false): SearchTerm => ({ kind: 'word', value, negated });
const phrase = (value: string, negated = false): SearchTerm => ({ kind: 'phrase', value, negated });
const text = (
  qualifier: Extract<SearchTerm, { kind: 'text' }>['qualifier'],
  value: string,
  negated = false,
) => ({ kind: 'text', qualifier, value, negated }) as SearchTerm;
const date = (
  field: 'first_seen' | 'last_seen',
  op: '>' | '<',
  value: number,
  negated = false,
): SearchTerm => ({
  kind: 'date',
  field,
  op,
  value,
  negated,
});

function refusal(query: string): string {
  try {
    parseSearchQuery(query);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message;
  }
  throw new Error(`expected ${JSON.stringify(query)} to be refused`);
}

describe('bare words', () => {
  it.each<[string, string, SearchTerm[]]>([
    ['every word is a term of its own, lower-cased', 'Unicode Encode', [word('unicode'), word('encode')]],
    ['a word in parentheses is searched without them', '(Error)', [word('error')]],
    ['quotes around a word are trimmed like a title’s', "'latin-1'", [word('latin-1')]],
    [
      'punctuation inside a word is kept',
      "latin-1 can't u'\\u0441'",
      [word('latin-1'), word("can't"), word("u'\\u0441")],
    ],
    [
      'a colon after a word is trimmed, as the title tokenizer trims it',
      'Error: boom',
      [word('error'), word('boom')],
    ],
    ['a name that is no qualifier keeps its colon inside the word', 'foo:bar', [word('foo:bar')]],
    [
      'a URL is a word, not a qualifier named https',
      'https://example.com/a',
      [word('https://example.com/a')],
    ],
    ['a word of punctuation alone is dropped', '!!! --- ... (Error)', [word('error')]],
    ['letters of any script are words', 'ÜberFehler', [word('überfehler')]],
    ['a # before letters is a word, not an item number', '#abc #12abc', [word('abc'), word('12abc')]],
    ['a quote inside a word is part of it', 'say"hi', [word('say"hi')]],
  ])('%s', (_what, query, terms) => {
    expect(parseSearchQuery(query).terms).toEqual(terms);
  });

  it('cuts a word to a token’s length, so a long word the index cut is still found by its start', () => {
    const long = 'a'.repeat(MAX_TOKEN_LENGTH + 20);
    expect(parseSearchQuery(long).terms).toEqual([word('a'.repeat(MAX_TOKEN_LENGTH))]);
  });

  it.each([
    ['(Error)', 'Error'],
    ['...', ''],
    ['«Fehler»', 'Fehler'],
    ['😀word😀', 'word'],
    ['\udc00a\udc00', 'a'],
    ['a😀', 'a'],
    ['𝐀𝐁!', '𝐀𝐁'],
  ])('trims %s at its edges to %s', (chunk, trimmed) => {
    expect(trimPunctuation(chunk)).toBe(trimmed);
  });
});

describe('an empty search', () => {
  it.each(['', '   ', '\t\n', '-', ' - - ', '""', '"   "'])(
    '%j has no terms, so it matches everything',
    (query) => {
      expect(parseSearchQuery(query).terms).toEqual([]);
    },
  );
});

describe('quoted phrases', () => {
  it.each<[string, string, SearchTerm[]]>([
    ['a phrase keeps its spaces and punctuation, lower-cased', `"Can't Encode"`, [phrase("can't encode")]],
    [
      'a phrase beside words',
      `Unicode "codec can't" latin`,
      [word('unicode'), phrase("codec can't"), word('latin')],
    ],
    ['a phrase ends at its closing quote', '"a b"c', [phrase('a b'), word('c')]],
    ['a leading dash negates a phrase', `-"can't encode"`, [phrase("can't encode", true)]],
  ])('%s', (_what, query, terms) => {
    expect(parseSearchQuery(query).terms).toEqual(terms);
  });
});

describe('qualifiers', () => {
  it.each<[string, string, SearchTerm[]]>([
    ['level', 'level:error', [{ kind: 'level', value: 'error', negated: false }]],
    [
      'qualifier names and levels in any case',
      'LEVEL:Warning',
      [{ kind: 'level', value: 'warning', negated: false }],
    ],
    ['status', 'status:resolved', [{ kind: 'status', value: 'resolved', negated: false }]],
    ['a negated status', '-status:Muted', [{ kind: 'status', value: 'muted', negated: true }]],
    [
      'environment keeps its case (Rollbar’s environments are case-sensitive)',
      'environment:Production',
      [text('environment', 'Production')],
    ],
    ['framework keeps its case', 'framework:Rails', [text('framework', 'Rails')]],
    ['fingerprint keeps its case', 'fingerprint:AbC123', [text('fingerprint', 'AbC123')]],
    ['host, lower-cased', 'host:Web-1', [text('host', 'web-1')]],
    ['context with a quoted value', 'context:"orders#create"', [text('context', 'orders#create')]],
    [
      'a quoted value may hold spaces',
      'context:"Orders Create" boom',
      [text('context', 'orders create'), word('boom')],
    ],
    ['file, lower-cased', 'file:App/Models', [text('file', 'app/models')]],
    ['code_version', 'code_version:1.4', [text('code_version', '1.4')]],
    ['person', 'person:42', [text('person', '42')]],
    ['user_id is person', 'user_id:ABC', [text('person', 'abc')]],
    ['username, lower-cased', 'username:Alice', [text('username', 'alice')]],
    ['email, lower-cased', 'email:Alice@Example', [text('email', 'alice@example')]],
    [
      'a negated qualifier',
      '-level:debug -host:web',
      [{ kind: 'level', value: 'debug', negated: true }, text('host', 'web', true)],
    ],
    ['a colon inside the value is kept', 'host:[::1]', [text('host', '[::1]')]],
  ])('%s', (_what, query, terms) => {
    expect(parseSearchQuery(query).terms).toEqual(terms);
  });

  it('cuts a long file to its end and a long host to its start, as the index keeps them', () => {
    const path = `${'dir/'.repeat(40)}app.js`;
    const host = `web-${'x'.repeat(200)}`;
    const [file, hostTerm] = parseSearchQuery(`file:${path} host:${host}`).terms;
    expect(file).toEqual(text('file', path.slice(-100)));
    expect(hostTerm).toEqual(text('host', host.slice(0, 100)));
  });
});

describe('which text qualifiers ignore case', () => {
  it('all but environment, framework and fingerprint, which compare as stored', () => {
    expect(TEXT_QUALIFIERS.filter((qualifier) => !ignoresCase(qualifier))).toEqual([
      'environment',
      'framework',
      'fingerprint',
    ]);
  });
});

describe('the item number', () => {
  it.each<[string, SearchTerm[]]>([
    ['#12', [{ kind: 'counter', value: 12, negated: false }]],
    ['-#12', [{ kind: 'counter', value: 12, negated: true }]],
    ['#007', [{ kind: 'counter', value: 7, negated: false }]],
  ])('%s', (query, terms) => {
    expect(parseSearchQuery(query).terms).toEqual(terms);
  });
});

describe('first seen and last seen', () => {
  it.each<[string, string, SearchTerm[]]>([
    ['after a day: from its UTC midnight', 'first_seen:>2026-11-01', [date('first_seen', '>', NOV_1)]],
    ['before a date-time', 'last_seen:<2026-11-30T12:00:00Z', [date('last_seen', '<', NOV_30_NOON)]],
    [
      'a date-time with an offset',
      'last_seen:<2026-11-30T13:00:00+01:00',
      [date('last_seen', '<', NOV_30_NOON)],
    ],
    [
      'a date-time without a zone is UTC',
      'last_seen:<2026-11-30T12:00',
      [date('last_seen', '<', NOV_30_NOON)],
    ],
    ['epoch seconds', `first_seen:>${NOV_1}`, [date('first_seen', '>', NOV_1)]],
    [
      'from (>=) a day: after the second before it',
      'first_seen:>=2026-11-01',
      [date('first_seen', '>', NOV_1 - 1)],
    ],
    [
      'until (<=) a second: before the one after it',
      `first_seen:<=${NOV_1}`,
      [date('first_seen', '<', NOV_1 + 1)],
    ],
    [
      'after a fraction of a second: from the next whole one',
      'first_seen:>2026-11-30T12:00:00.5Z',
      [date('first_seen', '>', NOV_30_NOON)],
    ],
    [
      'before a fraction of a second: up to its whole second',
      'first_seen:<2026-11-30T12:00:00.5Z',
      [date('first_seen', '<', NOV_30_NOON + 1)],
    ],
    [
      'a day without an operator: that UTC day',
      'first_seen:2026-11-01',
      [date('first_seen', '>', NOV_1 - 1), date('first_seen', '<', NOV_1 + DAY)],
    ],
    [
      'a time without an operator: that second',
      `last_seen:${NOV_1}`,
      [date('last_seen', '>', NOV_1 - 1), date('last_seen', '<', NOV_1 + 1)],
    ],
    ['a quoted date', 'first_seen:">2026-11-01"', [date('first_seen', '>', NOV_1)]],
    ['negated', '-last_seen:>2026-11-01', [date('last_seen', '>', NOV_1, true)]],
    [
      'a year before 100 is that year, not 19xx',
      'first_seen:>0099-01-01',
      [date('first_seen', '>', Date.parse('0099-01-01T00:00:00Z') / 1000)],
    ],
  ])('%s', (_what, query, terms) => {
    expect(parseSearchQuery(query).terms).toEqual(terms);
  });
});

describe('the example in the module’s comment', () => {
  it('parses into one term per piece', () => {
    const query =
      `ReferenceError level:error -status:resolved "can't encode" file:app/models host:web #12 ` +
      'first_seen:>2026-11-01 last_seen:<2026-11-30T12:00:00Z email:alice@';
    expect(parseSearchQuery(query).terms).toEqual([
      word('referenceerror'),
      { kind: 'level', value: 'error', negated: false },
      { kind: 'status', value: 'resolved', negated: true },
      phrase("can't encode"),
      text('file', 'app/models'),
      text('host', 'web'),
      { kind: 'counter', value: 12, negated: false },
      date('first_seen', '>', NOV_1),
      date('last_seen', '<', NOV_30_NOON),
      text('email', 'alice@'),
    ]);
  });
});

describe('refused with a 422 that says what is wrong', () => {
  const dateHelp = 'use YYYY-MM-DD, an ISO date-time such as 2026-11-30T12:00:00Z, or epoch seconds';
  it.each([
    [
      'an unclosed phrase',
      `"can't encode`,
      `query: a quote is not closed: "can't encode (add the closing ")`,
    ],
    [
      'an unclosed quoted value',
      'context:"orders',
      'query: a quote is not closed: "orders (add the closing ")',
    ],
    ['an odd quote after a phrase', '"a" "b', 'query: a quote is not closed: "b (add the closing ")'],
    ['a qualifier without a value', 'level:', 'query: level: needs a value, as in level:error'],
    ['a qualifier followed by a space', 'Host: web', 'query: host: needs a value, as in host:web-1'],
    ['an empty quoted value', 'context:""', 'query: context: needs a value, as in context:orders#create'],
    [
      'an unknown level',
      'level:fatal',
      'query: level must be one of debug, info, warning, error, critical (not "fatal")',
    ],
    [
      'two levels at once',
      'level:error,warning',
      'query: level must be one of debug, info, warning, error, critical (not "error,warning")',
    ],
    // Rollbar's statuses are active, resolved and muted (its docs name no `unresolved`): say which.
    [
      'an unknown status',
      'status:unresolved',
      'query: status must be one of active, resolved, muted (not "unresolved")',
    ],
    [
      'a word for a date',
      'first_seen:>yesterday',
      `query: first_seen: "yesterday" is not a date (${dateHelp})`,
    ],
    [
      'a day that does not exist',
      'first_seen:>2026-02-30',
      `query: first_seen: "2026-02-30" is not a date (${dateHelp})`,
    ],
    [
      'a month that does not exist',
      'last_seen:<2026-13-01',
      `query: last_seen: "2026-13-01" is not a date (${dateHelp})`,
    ],
    [
      'an hour that does not exist',
      'last_seen:<2026-11-30T25:00:00Z',
      `query: last_seen: "2026-11-30T25:00:00Z" is not a date (${dateHelp})`,
    ],
    [
      'an American date',
      'first_seen:>11/30/2026',
      `query: first_seen: "11/30/2026" is not a date (${dateHelp})`,
    ],
    [
      'an operator without a date',
      'first_seen:>',
      'query: first_seen: needs a date after >, as in first_seen:>2026-11-01',
    ],
    [
      'an equals sign',
      'first_seen:=2026-11-01',
      `query: first_seen: "=2026-11-01" is not a date (${dateHelp})`,
    ],
    [
      'milliseconds for seconds',
      'last_seen:>1796040000000',
      'query: last_seen: "1796040000000" is not a date (epoch seconds have at most 10 digits; milliseconds?)',
    ],
    [
      'a negated day, which would be before or after it',
      '-first_seen:2026-11-01',
      'query: -first_seen: needs > or < (outside a day is first_seen:<day or first_seen:>day, two searches)',
    ],
    ['item number zero', '#0', `query: "#0": an item's number (#) is a positive integer`],
    [
      'an item number past any counter',
      '#99999999999999999999',
      `query: "#99999999999999999999": an item's number (#) is a positive integer`,
    ],
  ])('%s: %s', (_what, query, message) => {
    expect(refusal(query)).toBe(message);
  });

  it('echoes at most 40 characters of what it refuses', () => {
    expect(refusal(`level:${'x'.repeat(500)}`)).toBe(
      `query: level must be one of debug, info, warning, error, critical (not "${'x'.repeat(40)}…")`,
    );
  });
});

describe('limits', () => {
  it(`takes ${MAX_QUERY_CHARS} characters and refuses one more`, () => {
    expect(parseSearchQuery('a'.repeat(MAX_QUERY_CHARS)).terms).toHaveLength(1);
    expect(refusal('a'.repeat(MAX_QUERY_CHARS + 1))).toBe(
      `query: at most ${MAX_QUERY_CHARS} characters (this one has ${MAX_QUERY_CHARS + 1})`,
    );
  });

  it(`takes ${MAX_QUERY_TERMS} terms and refuses one more`, () => {
    const words = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`).join(' ');
    expect(parseSearchQuery(words(MAX_QUERY_TERMS)).terms).toHaveLength(MAX_QUERY_TERMS);
    expect(refusal(words(MAX_QUERY_TERMS + 1))).toBe(`query: at most ${MAX_QUERY_TERMS} terms`);
  });

  it('counts a date without an operator as the two terms it is', () => {
    const words = Array.from({ length: MAX_QUERY_TERMS - 1 }, (_, i) => `w${i}`).join(' ');
    expect(refusal(`${words} first_seen:2026-11-01`)).toBe(`query: at most ${MAX_QUERY_TERMS} terms`);
  });

  it('does not count what it drops', () => {
    const words = Array.from({ length: MAX_QUERY_TERMS }, (_, i) => `w${i}`).join(' ');
    expect(parseSearchQuery(`${words} - ... "" !!!`).terms).toHaveLength(MAX_QUERY_TERMS);
  });
});

describe('hostile input', () => {
  const longest = (unit: string) => unit.repeat(Math.floor(MAX_QUERY_CHARS / unit.length));

  it.each<[string, string, SearchTerm[] | 'refused']>([
    ['1,000 quotes: 500 empty phrases, dropped', longest('"'), []],
    ['999 quotes: the last one is not closed', '"'.repeat(999), 'refused'],
    ['1,000 dashes: one word of punctuation, dropped', longest('-'), []],
    ['500 lone dashes, dropped', longest('- '), []],
    ['parentheses around one letter', `${'('.repeat(499)}a${')'.repeat(499)}`, [word('a')]],
    ['a run of hashes', longest('#'), []],
    ['a run of colons', longest(':'), []],
    ['a qualifier name repeated', longest('level'), [word('level'.repeat(200).slice(0, MAX_TOKEN_LENGTH))]],
    [
      'qualifiers inside a quoted value',
      `context:"${longest('level: ').slice(0, 900)}"`,
      [text('context', 'level: '.repeat(150).slice(0, 100))],
    ],
  ])('%s', (_what, query, expected) => {
    if (expected === 'refused') expect(() => parseSearchQuery(query)).toThrow(ValidationError);
    else expect(parseSearchQuery(query).terms).toEqual(expected);
  });

  it('reads long hostile queries in linear time (a quadratic pass would take seconds)', () => {
    const queries = [
      '"'.repeat(999),
      '-'.repeat(1_000),
      `${'('.repeat(998)}a`,
      `${'a'.repeat(499)}${'!'.repeat(500)}a`,
      `first_seen:>${'1'.repeat(985)}`,
      `last_seen:<2026-11-30T12:00:00.${'9'.repeat(960)}Z`,
      `#${'9'.repeat(999)}`,
      ' '.repeat(1_000),
    ];
    const started = performance.now();
    for (let round = 0; round < 200; round += 1) {
      for (const query of queries) {
        try {
          parseSearchQuery(query);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
        }
      }
    }
    // 1,600 queries of 1,000 characters: milliseconds in linear time, minutes in quadratic.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('parses anything, or refuses it with a 422, never anything else', () => {
    const pieces = fc.constantFrom(
      '"',
      '-',
      '#',
      ':',
      '>',
      '<',
      ' ',
      'level:',
      'first_seen:',
      'context:',
      'a',
      'É',
      '😀',
      '1',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.array(pieces, { maxLength: 200 }).map((p) => p.join('')),
        ),
        (query) => {
          let terms: SearchTerm[];
          try {
            terms = parseSearchQuery(query).terms;
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
            return;
          }
          expect(terms.length).toBeLessThanOrEqual(MAX_QUERY_TERMS);
          for (const term of terms) {
            if (term.kind === 'word' || term.kind === 'phrase') expect(term.value.trim()).not.toBe('');
            if (term.kind === 'word') expect(term.value).toBe(term.value.toLowerCase());
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
