// A parsed search as OpenSearch's query DSL: one case per kind of term, as it must match and negated.
import { describe, expect, it } from 'vitest';
import { LAST_SEEN_STEP_SECONDS } from '#shared/search/document';
import { candidatesRequest, escapeWildcard, type QueryClause } from '#shared/search/opensearch/query';
import type { SearchTerm } from '#shared/search/query';

const PROJECT = 7;
const T = 1_764_000_000;
const step = LAST_SEEN_STEP_SECONDS;

type Case = { name: string; term: SearchTerm; clause: QueryClause; negatedClause?: QueryClause };

const cases: Case[] = [
  {
    name: 'a bare word is looked for inside the title tokens',
    term: { kind: 'word', value: 'error', negated: false },
    clause: { wildcard: { tokens: { value: '*error*' } } },
  },
  {
    name: 'a phrase is looked for inside the lower-cased title',
    term: { kind: 'phrase', value: "can't encode", negated: false },
    clause: { wildcard: { 'title.keyword': { value: "*can't encode*" } } },
  },
  {
    name: 'a level is one term',
    term: { kind: 'level', value: 'critical', negated: false },
    clause: { term: { level: 'critical' } },
  },
  {
    name: 'a status is one term',
    term: { kind: 'status', value: 'resolved', negated: false },
    clause: { term: { status: 'resolved' } },
  },
  {
    name: 'an environment is exact, as typed',
    term: { kind: 'text', qualifier: 'environment', value: 'Production', negated: false },
    clause: { term: { environment: 'Production' } },
  },
  {
    name: 'a framework is exact',
    term: { kind: 'text', qualifier: 'framework', value: 'rails', negated: false },
    clause: { term: { framework: 'rails' } },
  },
  {
    name: 'a fingerprint is exact',
    term: { kind: 'text', qualifier: 'fingerprint', value: 'a'.repeat(40), negated: false },
    clause: { term: { fingerprint: 'a'.repeat(40) } },
  },
  {
    name: 'a host is a prefix of one the item was seen on',
    term: { kind: 'text', qualifier: 'host', value: 'web', negated: false },
    clause: { prefix: { 'facets.hosts': 'web' } },
  },
  {
    name: 'a context is a prefix',
    term: { kind: 'text', qualifier: 'context', value: 'users#', negated: false },
    clause: { prefix: { 'facets.contexts': 'users#' } },
  },
  {
    name: "a file is inside any frame's file",
    term: { kind: 'text', qualifier: 'file', value: 'app/models', negated: false },
    clause: { wildcard: { 'facets.files': { value: '*app/models*' } } },
  },
  {
    name: 'a code version is a prefix of the last one or of an earlier one',
    term: { kind: 'text', qualifier: 'code_version', value: '3f9a', negated: false },
    clause: {
      bool: {
        should: [{ prefix: { code_version: '3f9a' } }, { prefix: { 'facets.code_versions': '3f9a' } }],
        minimum_should_match: 1,
      },
    },
  },
  {
    name: 'a person id is exact',
    term: { kind: 'text', qualifier: 'person', value: '42', negated: false },
    clause: { term: { 'facets.person_ids': '42' } },
  },
  {
    name: 'a username is exact',
    term: { kind: 'text', qualifier: 'username', value: 'alice', negated: false },
    clause: { term: { 'facets.usernames': 'alice' } },
  },
  {
    name: 'an email is a prefix',
    term: { kind: 'text', qualifier: 'email', value: 'alice@', negated: false },
    clause: { prefix: { 'facets.emails': 'alice@' } },
  },
  {
    name: 'first seen after a date is strictly after it',
    term: { kind: 'date', field: 'first_seen', op: '>', value: T, negated: false },
    clause: { range: { first_seen: { gt: T, format: 'epoch_second' } } },
  },
  {
    name: 'first seen before a date is strictly before it',
    term: { kind: 'date', field: 'first_seen', op: '<', value: T, negated: false },
    clause: { range: { first_seen: { lt: T, format: 'epoch_second' } } },
  },
  {
    name: 'last seen after a date takes items whose rounded-down time may be after it',
    term: { kind: 'date', field: 'last_seen', op: '>', value: T, negated: false },
    clause: { range: { last_seen: { gt: T - step, format: 'epoch_second' } } },
    // Excludes only the items surely seen after it.
    negatedClause: { range: { last_seen: { gt: T, format: 'epoch_second' } } },
  },
  {
    name: 'last seen before a date takes items whose rounded-down time is before it',
    term: { kind: 'date', field: 'last_seen', op: '<', value: T, negated: false },
    clause: { range: { last_seen: { lt: T, format: 'epoch_second' } } },
    // Excludes only the items whose whole step is before it.
    negatedClause: { range: { last_seen: { lte: T - step, format: 'epoch_second' } } },
  },
  {
    name: 'a counter is one term',
    term: { kind: 'counter', value: 12, negated: false },
    clause: { term: { counter: 12 } },
  },
];

const projectFilter = { term: { project_id: PROJECT } };

describe('each term', () => {
  it.each(cases)('$name', ({ term, clause }) => {
    expect(candidatesRequest(PROJECT, { terms: [term] }, 10).query.bool).toEqual({
      filter: [projectFilter, clause],
      must_not: [],
    });
  });

  it.each(cases)('negated: $name', ({ term, clause, negatedClause }) => {
    expect(candidatesRequest(PROJECT, { terms: [{ ...term, negated: true }] }, 10).query.bool).toEqual({
      filter: [projectFilter],
      must_not: [negatedClause ?? clause],
    });
  });
});

describe('the search request', () => {
  it('keeps to the project, every term must match, newest activity first, one more than the limit', () => {
    const request = candidatesRequest(
      PROJECT,
      {
        terms: [
          { kind: 'word', value: 'error', negated: false },
          { kind: 'status', value: 'resolved', negated: true },
          { kind: 'level', value: 'error', negated: false },
        ],
      },
      100,
    );
    expect(request).toEqual({
      query: {
        bool: {
          filter: [
            projectFilter,
            { wildcard: { tokens: { value: '*error*' } } },
            { term: { level: 'error' } },
          ],
          must_not: [{ term: { status: 'resolved' } }],
        },
      },
      sort: [{ last_seen: { order: 'desc' } }, { item_id: { order: 'desc' } }],
      size: 101,
      _source: ['item_id', 'last_seen', 'facets'],
      track_total_hits: false,
    });
  });

  it('asks only for the project with no terms', () => {
    expect(candidatesRequest(PROJECT, { terms: [] }, 20).query.bool).toEqual({
      filter: [projectFilter],
      must_not: [],
    });
  });
});

describe('wildcard escaping', () => {
  it.each([
    ['plain', 'plain'],
    ['a*b', 'a\\*b'],
    ['what?', 'what\\?'],
    ['c:\\temp', 'c:\\\\temp'],
    ['*?\\', '\\*\\?\\\\'],
  ])('a typed %j matches itself, not a pattern', (typed, escaped) => {
    expect(escapeWildcard(typed)).toBe(escaped);
  });

  it('escapes what is typed inside a word, a phrase and a file', () => {
    const request = candidatesRequest(
      PROJECT,
      {
        terms: [
          { kind: 'word', value: 'a*', negated: false },
          { kind: 'phrase', value: 'why?', negated: false },
          { kind: 'text', qualifier: 'file', value: 'c:\\app', negated: false },
        ],
      },
      1,
    );
    expect(request.query.bool.filter.slice(1)).toEqual([
      { wildcard: { tokens: { value: '*a\\**' } } },
      { wildcard: { 'title.keyword': { value: '*why\\?*' } } },
      { wildcard: { 'facets.files': { value: '*c:\\\\app*' } } },
    ]);
  });
});
