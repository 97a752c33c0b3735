// The search cases every engine must answer alike: a corpus of item documents and facets, and
// queries with the items they find, newest activity first. The DynamoDB engine runs them on DynamoDB
// Local; the OpenSearch suite runs them against a real cluster when OPENSEARCH_URL is set.
//
// Times are multiples of the index's last-seen step (as the indexer writes them) and the dates the
// cases name are far from every item's times, so an engine's leniency on rounded last-seen times
// changes no answer. `otherProjectCorpus` holds another project's item that matches nearly every
// query: an engine's suite that writes it too shows it never appears.
import { emptyFacets, type Facets, type SearchDocument } from '#shared/search/document';
import { titleTokens } from '#shared/search/title-tokens';

export interface SearchCase {
  /** What a user looks for, in their words. */
  name: string;
  query: string;
  /** Item ids found, in order (newest last-seen first, then higher id). */
  expected: number[];
}

export const SEARCH_CASE_PROJECT = 7;
/** Another project, whose item matches most cases' queries and must never be found by them. */
export const OTHER_SEARCH_CASE_PROJECT = 8;

/** 2025-11-24T16:00:00Z. */
const T0 = 1_764_000_000;
const HOUR = 3_600;
const DAY = 86_400;

const base = {
  project_id: SEARCH_CASE_PROJECT,
  level: 'error',
  status: 'active',
  environment: 'production',
  framework: null,
  code_version: null,
  first_seen: T0,
} as const satisfies Partial<SearchDocument>;

/** A document as the indexer makes it from an item: the title lower-cased, its tokens from the title as written. */
function document(
  title: string,
  fields: Omit<SearchDocument, 'title' | 'tokens' | keyof typeof base> & Partial<SearchDocument>,
): SearchDocument {
  return { ...base, ...fields, title: title.toLowerCase(), tokens: titleTokens(title) };
}

function facets(item_id: number, values: Partial<Facets>): { item_id: number; facets: Facets } {
  return { item_id, facets: { ...emptyFacets(), ...values } };
}

export const FINGERPRINT_OF_104 = 'c'.repeat(40);

/**
 * Newest activity first: 104 (three days later), 103, 106 and 102 (the same time: the higher id
 * first), 101, 105.
 */
export const searchCorpus: {
  documents: SearchDocument[];
  facets: Array<{ item_id: number; facets: Facets }>;
} = {
  documents: [
    document("UnicodeEncodeError: 'latin-1' codec can't encode character u'\\u0441'", {
      item_id: 101,
      counter: 1,
      fingerprint: 'a'.repeat(40),
      last_seen: T0 + HOUR,
    }),
    document('ReferenceError: x is not defined', {
      item_id: 102,
      counter: 2,
      fingerprint: 'b'.repeat(40),
      last_seen: T0 + 2 * HOUR,
    }),
    document('not_found_error: page missing', {
      item_id: 103,
      counter: 3,
      level: 'warning',
      status: 'resolved',
      environment: 'staging',
      framework: 'rails',
      fingerprint: 'd'.repeat(40),
      last_seen: T0 + 3 * HOUR,
    }),
    document('TimeoutError (Error) while calling HTTPServer', {
      item_id: 104,
      counter: 4,
      level: 'critical',
      status: 'muted',
      // Environments are compared as stored: `Production` is not `production`.
      environment: 'Production',
      framework: 'django',
      code_version: '1.4.2',
      fingerprint: FINGERPRINT_OF_104,
      first_seen: T0 - 30 * DAY,
      last_seen: T0 + 3 * DAY,
    }),
    document('Payment declined for order 42', {
      item_id: 105,
      counter: 5,
      level: 'info',
      framework: 'express',
      code_version: 'v2.0.0-beta',
      fingerprint: 'e'.repeat(40),
      first_seen: T0 + 600,
      last_seen: T0 + 600,
    }),
    document("TypeError: Cannot read property 'id' of undefined", {
      item_id: 106,
      counter: 6,
      fingerprint: 'f'.repeat(40),
      last_seen: T0 + 2 * HOUR,
    }),
  ],
  facets: [
    facets(101, {
      hosts: ['Web-1', 'worker-3'],
      contexts: ['orders#create'],
      files: ['app/models/order.rb', 'lib/encoding.rb'],
      code_versions: ['abc123'],
      person_ids: ['42'],
      usernames: ['Alice'],
      emails: ['alice@example.com'],
    }),
    facets(102, {
      hosts: ['api-2'],
      contexts: ['/checkout'],
      files: ['static/js/app.min.js'],
      person_ids: ['420'],
      usernames: ['bob'],
      emails: ['Bob@shop.example'],
    }),
    facets(104, { code_versions: ['1.4.3'] }),
    facets(105, { person_ids: ['7'] }),
  ],
};

/**
 * Another project's item, which matches most cases' queries (its facets too): an engine that writes it
 * beside the corpus shows that a search never crosses projects. Kept out of `searchCorpus`, whose
 * documents are all the case project's.
 */
export const otherProjectCorpus: {
  documents: SearchDocument[];
  facets: Array<{ item_id: number; facets: Facets }>;
} = {
  documents: [
    document('ReferenceError: everything everywhere (Error) payment order 42 not_found_error', {
      project_id: OTHER_SEARCH_CASE_PROJECT,
      item_id: 201,
      counter: 1,
      fingerprint: FINGERPRINT_OF_104,
      last_seen: T0 + 4 * DAY,
    }),
  ],
  facets: [
    facets(201, {
      hosts: ['web-1'],
      contexts: ['orders#create'],
      files: ['app/models/order.rb'],
      code_versions: ['1.4.2'],
      person_ids: ['42'],
      usernames: ['alice'],
      emails: ['alice@example.com'],
    }),
  ],
};

/** Every item of the case project, newest activity first. */
const ALL = [104, 103, 106, 102, 101, 105];
const ALL_BUT = (...ids: number[]) => ALL.filter((id) => !ids.includes(id));

export const searchCases: SearchCase[] = [
  // Bare words: inside any word of the title, its camelCase, snake_case and digit pieces included.
  { name: 'an empty search finds every item, newest activity first', query: '', expected: ALL },
  {
    name: 'a fragment of a class name finds its items, newest first',
    query: 'Error',
    expected: [104, 103, 106, 102, 101],
  },
  {
    name: 'a word in parentheses is found by the word',
    query: '(Error)',
    expected: [104, 103, 106, 102, 101],
  },
  { name: 'a camelCase piece finds the class', query: 'Encode', expected: [101] },
  { name: 'a piece of a hyphenated word finds it', query: 'latin', expected: [101] },
  { name: 'the digits of an escaped character find it', query: 'u0441', expected: [101] },
  { name: 'a word with a quote and a backslash inside finds it', query: "u'\\u0441'", expected: [101] },
  { name: 'letters inside a word find it', query: 'ncod', expected: [101] },
  { name: 'the end of a word finds it', query: 'efined', expected: [106, 102] },
  { name: 'case does not matter', query: 'REFERENCEERROR', expected: [102] },
  { name: 'a piece of a snake_case word finds it', query: 'found', expected: [103] },
  { name: 'a snake_case word whole finds it', query: 'not_found_error', expected: [103] },
  { name: 'an acronym is a piece of its word', query: 'HTTP', expected: [104] },
  { name: 'a number finds the title that holds it', query: '42', expected: [105] },
  { name: 'every word must match', query: 'reference defined', expected: [102] },
  { name: 'two words that match different items find neither', query: 'payment timeout', expected: [] },
  { name: 'a word no title holds finds nothing', query: 'nonexistent', expected: [] },
  { name: 'a trailing colon is punctuation, not a qualifier', query: 'referenceerror:', expected: [102] },
  {
    name: 'a minus before a word leaves out its items',
    query: 'error -reference',
    expected: ALL_BUT(102, 105),
  },

  // Quoted phrases: inside the title, as typed (case aside).
  { name: 'a phrase finds the title holding it', query: '"is not defined"', expected: [102] },
  { name: 'a phrase keeps its punctuation', query: `"codec can't encode"`, expected: [101] },
  { name: 'a phrase in another order finds nothing', query: '"defined not"', expected: [] },
  {
    name: 'a minus before a phrase leaves out its items',
    query: 'error -"is not defined"',
    expected: [104, 103, 106, 101],
  },

  // The item's own fields.
  { name: 'level: finds items of that level', query: 'level:warning', expected: [103] },
  { name: '-level: leaves that level out', query: '-level:error', expected: [104, 103, 105] },
  { name: 'status:resolved finds resolved items', query: 'status:resolved', expected: [103] },
  { name: 'status:muted finds muted items', query: 'status:muted', expected: [104] },
  { name: 'status:active finds active items', query: 'status:active', expected: [106, 102, 101, 105] },
  { name: '-status:active finds the others', query: '-status:active', expected: [104, 103] },
  { name: 'environment: is the whole name', query: 'environment:staging', expected: [103] },
  {
    name: 'environment: is case-sensitive',
    query: 'environment:production',
    expected: [106, 102, 101, 105],
  },
  { name: 'environment: with its capital finds its item', query: 'environment:Production', expected: [104] },
  { name: 'environment: is never a prefix', query: 'environment:prod', expected: [] },
  { name: 'framework: finds its items', query: 'framework:rails', expected: [103] },
  {
    name: '-framework: keeps items with another framework or none',
    query: '-framework:rails',
    expected: ALL_BUT(103),
  },
  { name: 'fingerprint: is the whole hash', query: `fingerprint:${FINGERPRINT_OF_104}`, expected: [104] },
  { name: 'fingerprint: is never a prefix', query: 'fingerprint:ccc', expected: [] },
  { name: '#counter finds that item', query: '#2', expected: [102] },
  { name: 'two counters find nothing (every term must hold)', query: '#3 #4', expected: [] },
  { name: 'a minus before a counter leaves it out', query: 'error -#1', expected: [104, 103, 106, 102] },
  {
    name: 'qualifiers and words combine',
    query: 'error level:error status:active environment:production',
    expected: [106, 102, 101],
  },

  // What the item's occurrences carried (facets).
  { name: 'host: finds items seen on a host starting so', query: 'host:web', expected: [101] },
  { name: 'host: is a prefix, not a fragment', query: 'host:eb-1', expected: [] },
  { name: 'host: finds any of the hosts an item was seen on', query: 'host:worker-3', expected: [101] },
  {
    name: 'host: with a minus leaves those items out',
    query: 'error -host:web',
    expected: [104, 103, 106, 102],
  },
  { name: 'context: is a prefix', query: 'context:orders', expected: [101] },
  { name: 'context: finds a path context', query: 'context:/check', expected: [102] },
  { name: 'file: finds a part of any frame file', query: 'file:models', expected: [101] },
  { name: 'file: finds every item with such a file', query: 'file:app', expected: [102, 101] },
  { name: 'code_version: is a prefix of the item version', query: 'code_version:1.4', expected: [104] },
  { name: 'code_version: finds a version an occurrence carried', query: 'code_version:abc', expected: [101] },
  { name: 'code_version: finds a pre-release version', query: 'code_version:v2', expected: [105] },
  { name: 'person: is the whole id', query: 'person:42', expected: [101] },
  { name: 'user_id: is person:', query: 'user_id:420', expected: [102] },
  { name: 'username: is the whole name, any case', query: 'username:alice', expected: [101] },
  { name: 'username: is never a prefix', query: 'username:ali', expected: [] },
  { name: 'email: is a prefix, any case', query: 'email:BOB@', expected: [102] },
  { name: 'email: finds an address by its start', query: 'email:alice@example', expected: [101] },
  { name: 'email: is never a fragment', query: 'email:example', expected: [] },
  {
    name: 'a facet, a word and a status combine',
    query: 'host:web -status:resolved error',
    expected: [101],
  },

  // Dates: first and last seen, strictly after (>) or before (<).
  {
    name: 'first_seen:< finds items first seen before a day',
    query: 'first_seen:<2025-11-01',
    expected: [104],
  },
  {
    name: 'first_seen:> finds items first seen after a day',
    query: 'first_seen:>2025-11-20',
    expected: ALL_BUT(104),
  },
  { name: 'first_seen:> takes epoch seconds', query: 'first_seen:>1764000300', expected: [105] },
  { name: 'last_seen:> finds items seen since', query: 'last_seen:>2025-11-26', expected: [104] },
  {
    name: 'last_seen: a day finds items last seen that day',
    query: 'last_seen:2025-11-24',
    expected: ALL_BUT(104),
  },
  {
    name: 'last_seen:> takes a time of day',
    query: 'last_seen:>2025-11-24T18:30:00Z',
    expected: [104, 103],
  },
  {
    name: 'last_seen:< takes a time with a zone',
    query: 'last_seen:<2025-11-24T18:30:00+01:00',
    expected: [101, 105],
  },
  {
    name: '-last_seen:> keeps the items not seen since',
    query: '-last_seen:>2025-11-26',
    expected: ALL_BUT(104),
  },
];
