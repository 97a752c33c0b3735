// A search as users type it (Rollbar's item search syntax), parsed once into terms every engine
// reads: the DynamoDB engine evaluates them (`./match`), OpenSearch translates them into its query
// DSL (`./opensearch/query`). Plain logic, no AWS.
//
//   ReferenceError level:error -status:resolved "can't encode" file:app/models host:web #12
//   first_seen:>2026-11-01 last_seen:<2026-11-30T12:00:00Z email:alice@
import type { Level } from '#shared/domain/levels';
import type { ItemStatus } from '#shared/items/item';

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

/** One term of a query; `negated` for a leading `-` (the item must not match the term). */
export type SearchTerm = { negated: boolean } & (
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
  | { kind: 'counter'; value: number }
);

/** A parsed query: an item matches when it matches every term (negated terms: does not match). */
export interface SearchQuery {
  terms: SearchTerm[];
}

/**
 * Parses what a user typed. Throws `ValidationError` (422) naming what is wrong: an unknown level or
 * status, a date that is not a date, an unclosed quote, too long, too many terms. A `word:…` whose
 * prefix is not a qualifier is a bare word (titles contain colons: `Error: boom`).
 */
export function parseSearchQuery(text: string): SearchQuery {
  throw new Error(`not implemented yet: ${text.length}`);
}
