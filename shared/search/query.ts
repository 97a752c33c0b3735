// A search as users type it (Rollbar's item search syntax), parsed once into terms every engine
// reads: the DynamoDB engine evaluates them (`./match`), OpenSearch translates them into its query
// DSL (`./opensearch/query`). Plain logic, no AWS.
//
//   ReferenceError level:error -status:resolved "can't encode" file:app/models host:web #12
//   first_seen:>2026-11-01 last_seen:<2026-11-30T12:00:00Z email:alice@
import { isLevel, LEVELS, type Level } from '#shared/domain/levels';
import { ValidationError } from '#shared/errors';
import { ITEM_STATUSES, type ItemStatus } from '#shared/items/item';
import { MAX_FACET_VALUE_CHARS } from './document';
import { MAX_TOKEN_LENGTH } from './title-tokens';

/** Characters of a query at most; a longer one is refused with a 422 naming `query`. */
export const MAX_QUERY_CHARS = 1_000;
/** Terms of a query at most. */
export const MAX_QUERY_TERMS = 32;

/** Qualifiers whose value is text: how each matches is `QUALIFIER_MATCH`. */
export const TEXT_QUALIFIERS = [
  'environment',
  'framework',
  'host',
  'context',
  'file',
  'code_version',
  'fingerprint',
  'person',
  'username',
  'email',
] as const;
export type TextQualifier = (typeof TEXT_QUALIFIERS)[number];

/**
 * How a text qualifier's value matches: `exact` the whole value; `prefix` its start; `contains`
 * anywhere. All case-insensitive except `environment`, `framework` and `fingerprint`, which are
 * compared as stored (Rollbar's environment names are case-sensitive). `user_id:` is `person:`.
 */
export const QUALIFIER_MATCH = {
  environment: 'exact',
  framework: 'exact',
  host: 'prefix',
  context: 'prefix',
  file: 'contains',
  code_version: 'prefix',
  fingerprint: 'exact',
  person: 'exact',
  username: 'exact',
  email: 'prefix',
} as const satisfies Record<TextQualifier, 'exact' | 'prefix' | 'contains'>;

const CASE_SENSITIVE: ReadonlySet<TextQualifier> = new Set(['environment', 'framework', 'fingerprint']);

/** Whether a text qualifier compares lower-cased (its parsed value already is); see `QUALIFIER_MATCH`. */
export function ignoresCase(qualifier: TextQualifier): boolean {
  return !CASE_SENSITIVE.has(qualifier);
}

/** Every qualifier name a query may use (case-insensitive), aliases included. */
export const QUALIFIER_NAMES = [
  'level',
  'status',
  ...TEXT_QUALIFIERS,
  'user_id',
  'first_seen',
  'last_seen',
] as const;
export type QualifierName = (typeof QUALIFIER_NAMES)[number];

/** One term of a query; `negated` for a leading `-` (the item must not match the term). */
export type SearchTerm = { negated: boolean } & TermKind;

type TermKind =
  /** A bare word: inside one of the title's tokens (`./title-tokens`), lower-cased. */
  | { kind: 'word'; value: string }
  /** A quoted phrase: inside the title, lower-cased. */
  | { kind: 'phrase'; value: string }
  | { kind: 'level'; value: Level }
  | { kind: 'status'; value: ItemStatus }
  /** The value as typed, unquoted; lower-cased for the case-insensitive qualifiers. */
  | { kind: 'text'; qualifier: TextQualifier; value: string }
  /** `first_seen:>…` / `last_seen:<…`: strictly after or before, epoch seconds. */
  | { kind: 'date'; field: 'first_seen' | 'last_seen'; op: '>' | '<'; value: number }
  /** `#123`: the item's counter. */
  | { kind: 'counter'; value: number };

/** A parsed query: an item matches when it matches every term (negated terms: does not match). */
export interface SearchQuery {
  terms: SearchTerm[];
}

/** Characters of a refused value echoed back in a 422's message. */
const ECHO_CHARS = 40;
/** Qualifiers whose value is a facet value, which the index cuts to `MAX_FACET_VALUE_CHARS`. */
const FACET_QUALIFIERS: ReadonlySet<TextQualifier> = new Set([
  'host',
  'context',
  'file',
  'code_version',
  'person',
  'username',
  'email',
]);
const QUALIFIER_BY_NAME: ReadonlyMap<string, QualifierName> = new Map(
  QUALIFIER_NAMES.map((name) => [name, name] as const),
);
/** Sticky: each reads at `lastIndex` only, one step of a single pass. */
const SPACES = /\s+/y;
const NOT_SPACES = /\S+/y;
const NOT_LETTERS_OR_DIGITS = /[^\p{L}\p{N}]+/uy;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/uy;
/** `name:` at a term's start; a name that is no qualifier (`Error:`, `https:`) leaves a bare word. */
const QUALIFIER_PREFIX = /[A-Za-z_]{1,32}:/y;
const COUNTER = /^#(\d+)$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?$/;
const EPOCH_SECONDS = /^\d+$/;
/** Epoch seconds have ten digits until the year 2286; a longer number is most likely milliseconds. */
const MAX_EPOCH_DIGITS = 10;
const DAY_SECONDS = 86_400;
const DATE_FORMS = 'YYYY-MM-DD, an ISO date-time such as 2026-11-30T12:00:00Z, or epoch seconds';

/**
 * Parses what a user typed. Throws `ValidationError` (422) naming what is wrong: an unknown level or
 * status, a date that is not a date, an unclosed quote, too long, too many terms. A `word:…` whose
 * prefix is not a qualifier is a bare word (titles contain colons: `Error: boom`).
 *
 * One pass over at most `MAX_QUERY_CHARS` characters; the only regular expressions read a bounded
 * value and have no nested repetition, so hostile input costs linear time.
 */
export function parseSearchQuery(text: string): SearchQuery {
  if (text.length > MAX_QUERY_CHARS)
    refuse(`at most ${MAX_QUERY_CHARS} characters (this one has ${text.length})`);
  const terms: SearchTerm[] = [];
  const add = (term: SearchTerm) => {
    terms.push(term);
    if (terms.length > MAX_QUERY_TERMS) refuse(`at most ${MAX_QUERY_TERMS} terms`);
  };
  let at = 0;
  while (at < text.length) {
    SPACES.lastIndex = at;
    if (SPACES.test(text)) {
      at = SPACES.lastIndex;
      continue;
    }
    const negated = text[at] === '-';
    if (negated) {
      at += 1;
      // A lone `-` negates nothing: dropped.
      SPACES.lastIndex = at;
      if (at >= text.length || SPACES.test(text)) continue;
    }
    if (text[at] === '"') {
      const { value, end } = readQuoted(text, at);
      at = end;
      // A blank phrase would match every title: dropped, like a word of punctuation.
      if (value.trim() !== '') add({ kind: 'phrase', value: value.toLowerCase(), negated });
      continue;
    }
    QUALIFIER_PREFIX.lastIndex = at;
    const prefix = QUALIFIER_PREFIX.exec(text)?.[0];
    const qualifier =
      prefix === undefined ? undefined : QUALIFIER_BY_NAME.get(prefix.slice(0, -1).toLowerCase());
    if (prefix !== undefined && qualifier !== undefined) {
      const valueAt = at + prefix.length;
      let value: string;
      if (text[valueAt] === '"') {
        const quoted = readQuoted(text, valueAt);
        value = quoted.value;
        at = quoted.end;
      } else {
        at = chunkEnd(text, valueAt);
        value = text.slice(valueAt, at);
      }
      for (const term of qualifierTerms(qualifier, value, negated)) add(term);
      continue;
    }
    const end = chunkEnd(text, at);
    const chunk = text.slice(at, end);
    at = end;
    const counter = COUNTER.exec(chunk);
    if (counter?.[1] !== undefined) {
      const value = Number(counter[1]);
      if (value < 1 || !Number.isSafeInteger(value))
        refuse(`${echo(chunk)}: an item's number (#) is a positive integer`);
      add({ kind: 'counter', value, negated });
      continue;
    }
    const word = trimPunctuation(chunk).toLowerCase().slice(0, MAX_TOKEN_LENGTH);
    if (word !== '') add({ kind: 'word', value: word, negated });
  }
  return { terms };
}

/**
 * A word as the title tokenizer trims a chunk: without the punctuation at its edges (`(Error)` →
 * `Error`, `Error:` → `Error`), the punctuation inside kept (`latin-1`, `can't`). A word is cut to
 * a token's length: a title's longer word is indexed by its start, and still found by it.
 */
export function trimPunctuation(chunk: string): string {
  NOT_LETTERS_OR_DIGITS.lastIndex = 0;
  const start = NOT_LETTERS_OR_DIGITS.test(chunk) ? NOT_LETTERS_OR_DIGITS.lastIndex : 0;
  // Backwards, one code point at a time: a trailing-punctuation pattern searched forwards would
  // retry from every punctuation mark inside the word (quadratic on `a!!!…!a`).
  let end = chunk.length;
  while (end > start) {
    const pair =
      end - 2 >= start &&
      isLowSurrogate(chunk.charCodeAt(end - 1)) &&
      isHighSurrogate(chunk.charCodeAt(end - 2));
    const last = pair ? end - 2 : end - 1;
    LETTER_OR_DIGIT.lastIndex = last;
    if (LETTER_OR_DIGIT.test(chunk)) break;
    end = last;
  }
  return chunk.slice(start, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function chunkEnd(text: string, from: number): number {
  NOT_SPACES.lastIndex = from;
  return NOT_SPACES.test(text) ? NOT_SPACES.lastIndex : from;
}

/** The text between the quote at `at` and the next one; no escapes (a phrase cannot hold `"`). */
function readQuoted(text: string, at: number): { value: string; end: number } {
  const close = text.indexOf('"', at + 1);
  if (close === -1) refuse(`a quote is not closed: ${cut(text.slice(at))} (add the closing ")`);
  return { value: text.slice(at + 1, close), end: close + 1 };
}

function qualifierTerms(name: QualifierName, value: string, negated: boolean): SearchTerm[] {
  if (value === '') refuse(`${name}: needs a value, as in ${name}:${EXAMPLES[name]}`);
  switch (name) {
    case 'level': {
      const level = value.toLowerCase();
      if (!isLevel(level)) refuse(`level must be one of ${LEVELS.join(', ')} (not ${echo(value)})`);
      return [{ kind: 'level', value: level, negated }];
    }
    case 'status': {
      const status = value.toLowerCase();
      if (!isItemStatus(status))
        refuse(`status must be one of ${ITEM_STATUSES.join(', ')} (not ${echo(value)})`);
      return [{ kind: 'status', value: status, negated }];
    }
    case 'first_seen':
    case 'last_seen':
      return dateTerms(name, value, negated);
    default: {
      const qualifier: TextQualifier = name === 'user_id' ? 'person' : name;
      return [{ kind: 'text', qualifier, value: textValue(qualifier, value), negated }];
    }
  }
}

const EXAMPLES: Record<QualifierName, string> = {
  level: 'error',
  status: 'active',
  environment: 'production',
  framework: 'rails',
  host: 'web-1',
  context: 'orders#create',
  file: 'app/models',
  code_version: '1.4.2',
  fingerprint: '<hash>',
  person: '42',
  user_id: '42',
  username: 'alice',
  email: 'alice@',
  first_seen: '>2026-11-01',
  last_seen: '<2026-11-30T12:00:00Z',
};

function isItemStatus(value: string): value is ItemStatus {
  return (ITEM_STATUSES as readonly string[]).includes(value);
}

/**
 * The value as a text term compares it: lower-cased where the qualifier ignores case; a facet
 * value cut as the index cuts the values it keeps (a file keeps its end, the file name; others
 * their start), so a long value typed whole still finds what the index kept of it.
 */
function textValue(qualifier: TextQualifier, value: string): string {
  const compared = ignoresCase(qualifier) ? value.toLowerCase() : value;
  if (!FACET_QUALIFIERS.has(qualifier) || compared.length <= MAX_FACET_VALUE_CHARS) return compared;
  return qualifier === 'file'
    ? compared.slice(-MAX_FACET_VALUE_CHARS)
    : compared.slice(0, MAX_FACET_VALUE_CHARS);
}

/**
 * `>`/`<` with a date: strictly after/before. `>=`/`<=` are the same on whole seconds (an item's
 * times are). Without an operator, a day means that UTC day and a time that second: two terms,
 * after its start and before its end. A negated one would be "before or after", which terms
 * (all must hold) cannot say: refused, with the way to say it.
 */
function dateTerms(field: 'first_seen' | 'last_seen', value: string, negated: boolean): SearchTerm[] {
  const operator = /^[<>]=?/.exec(value)?.[0] ?? '';
  const written = value.slice(operator.length);
  if (written === '')
    refuse(`${field}: needs a date after ${operator}, as in ${field}:${operator}2026-11-01`);
  const { seconds, span } = parseDate(field, written);
  if (operator === '') {
    if (negated) {
      refuse(`-${field}: needs > or < (outside a day is ${field}:<day or ${field}:>day, two searches)`);
    }
    const start = Math.floor(seconds);
    return [
      { kind: 'date', field, op: '>', value: start - 1, negated },
      { kind: 'date', field, op: '<', value: start + span, negated },
    ];
  }
  switch (operator) {
    case '>':
      return [{ kind: 'date', field, op: '>', value: Math.floor(seconds), negated }];
    case '>=':
      return [{ kind: 'date', field, op: '>', value: Math.ceil(seconds) - 1, negated }];
    case '<':
      return [{ kind: 'date', field, op: '<', value: Math.ceil(seconds), negated }];
    default:
      return [{ kind: 'date', field, op: '<', value: Math.floor(seconds) + 1, negated }];
  }
}

/** Epoch seconds of a written date, and how many seconds it spans (a day, or one second). */
function parseDate(field: string, written: string): { seconds: number; span: number } {
  const notADate = (): never => refuse(`${field}: ${echo(written)} is not a date (use ${DATE_FORMS})`);
  const day = DAY.exec(written);
  if (day) return { seconds: utcSeconds(day, notADate), span: DAY_SECONDS };
  const time = DATE_TIME.exec(written);
  if (time) {
    const [, , , , hour = '', minute = '', second = '0', fraction = '', zone = 'Z'] = time;
    if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) notADate();
    const offset = zoneOffsetSeconds(zone, notADate);
    const seconds =
      utcSeconds(time, notADate) + Number(hour) * 3_600 + Number(minute) * 60 + Number(second) - offset;
    return { seconds: seconds + (fraction === '' ? 0 : Number(`0.${fraction}`)), span: 1 };
  }
  if (EPOCH_SECONDS.test(written)) {
    if (written.length > MAX_EPOCH_DIGITS) {
      refuse(
        `${field}: ${echo(written)} is not a date (epoch seconds have at most 10 digits; milliseconds?)`,
      );
    }
    return { seconds: Number(written), span: 1 };
  }
  return notADate();
}

/** Midnight UTC of the matched year, month and day, which must exist (no 2026-02-30). */
function utcSeconds(match: RegExpExecArray, notADate: () => never): number {
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // `Date.UTC` reads years 0–99 as 1900–1999; setting the full year does not.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    notADate();
  return date.getTime() / 1000;
}

/** A date-time's zone: `Z` (or none: UTC), or `±hh:mm`. */
function zoneOffsetSeconds(zone: string, notADate: () => never): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 14 || minutes > 59) notADate();
  return (zone[0] === '-' ? -1 : 1) * (hours * 3_600 + minutes * 60);
}

function echo(value: string): string {
  return `"${cut(value)}"`;
}

function cut(value: string): string {
  return value.length > ECHO_CHARS ? `${value.slice(0, ECHO_CHARS)}…` : value;
}

function refuse(problem: string): never {
  throw new ValidationError(`query: ${problem}`);
}
