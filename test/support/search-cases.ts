// The search cases every engine must answer alike: a corpus of item documents and facets, and
// queries with the items they find, newest activity first. The DynamoDB engine runs them on DynamoDB
// Local; the OpenSearch suite runs them against a real cluster when OPENSEARCH_URL is set.
import { emptyFacets, type Facets, type SearchDocument } from '#shared/search/document';

export interface SearchCase {
  /** What a user looks for, in their words. */
  name: string;
  query: string;
  /** Item ids found, in order (newest last-seen first, then higher id). */
  expected: number[];
}

export const SEARCH_CASE_PROJECT = 7;

const base = {
  project_id: SEARCH_CASE_PROJECT,
  level: 'error',
  status: 'active',
  environment: 'production',
  framework: null,
  code_version: null,
  first_seen: 1_764_000_000,
} as const satisfies Partial<SearchDocument>;

export const searchCorpus: {
  documents: SearchDocument[];
  facets: Array<{ item_id: number; facets: Facets }>;
} = {
  documents: [
    {
      ...base,
      item_id: 101,
      counter: 1,
      title: "unicodeencodeerror: 'latin-1' codec can't encode character u'\\u0441'",
      tokens: [
        'unicodeencodeerror',
        'unicode',
        'encode',
        'error',
        'latin-1',
        'latin',
        '1',
        'codec',
        "can't",
        'can',
        't',
        'character',
        "u'\\u0441",
        'u0441',
        'u',
        '0441',
      ],
      fingerprint: 'a'.repeat(40),
      last_seen: 1_764_003_600,
    },
    {
      ...base,
      item_id: 102,
      counter: 2,
      title: 'referenceerror: x is not defined',
      tokens: ['referenceerror', 'reference', 'error', 'x', 'is', 'not', 'defined'],
      fingerprint: 'b'.repeat(40),
      last_seen: 1_764_007_200,
    },
  ],
  facets: [{ item_id: 101, facets: { ...emptyFacets(), hosts: ['web-1'] } }],
};

export const searchCases: SearchCase[] = [
  { name: 'a fragment of a class name finds its items, newest first', query: 'Error', expected: [102, 101] },
  { name: 'a host finds the items seen on it', query: 'host:web', expected: [101] },
];
