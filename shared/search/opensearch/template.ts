// The OpenSearch index every project's items live in, and its template: one index routed by project
// id, each field of a SearchDocument and of its Facets mapped, and a title analyzer that follows the
// shared title tokenizer (`#shared/search/title-tokens`). Plain data, no client.
import { MAX_TITLE_TOKENS, MAX_TOKEN_LENGTH } from '#shared/search/title-tokens';

/** The one index of items' documents; documents are routed by project id. */
export const ITEMS_INDEX = 'faultline-items';
/** The composable index template's name (`PUT _index_template/<name>`). */
export const ITEMS_TEMPLATE = 'faultline-items';

/**
 * Characters of a keyword value kept in the index: a title is cut at 255 before it is stored and a
 * facet value at 100, so this only bounds hostile input (Lucene refuses a term over 32,766 bytes).
 */
export const MAX_KEYWORD_CHARS = 1_024;

/** Strips what the tokenizer strips around each chunk: `(Error)` → `Error`, `'latin-1'` → `latin-1`. */
export const EDGE_PUNCTUATION_PATTERN = '^[^\\p{L}\\p{N}]+|[^\\p{L}\\p{N}]+$';

const keyword = { type: 'keyword', ignore_above: MAX_KEYWORD_CHARS } as const;
/** A keyword compared case-insensitively: its terms (and term queries on it) are lower-cased. */
const lowercaseKeyword = { ...keyword, normalizer: 'faultline_lowercase' } as const;
const epochSeconds = { type: 'date', format: 'epoch_second' } as const;

/** The analysis settings: the title analyzer and the keywords' lowercase normalizer. */
export const analysis = {
  analyzer: {
    /**
     * Whitespace chunks without their edge punctuation, each kept whole and split into its pieces at
     * `_` and other punctuation, lower → upper case changes and letter ↔ digit changes, lower-cased,
     * bounded as the tokenizer bounds them. Bare words are matched on `tokens` (the tokenizer's own
     * output), so this analyzer only serves full-text queries on `title`; where Lucene's
     * word_delimiter_graph splits differently (see `TITLE_ANALYZER_DIFFERENCES`) the results of
     * Faultline's queries do not change.
     */
    faultline_title: {
      type: 'custom',
      tokenizer: 'whitespace',
      filter: [
        'faultline_edge_punctuation',
        'faultline_non_empty',
        'faultline_title_pieces',
        'lowercase',
        'faultline_token_length',
        'faultline_token_count',
        'remove_duplicates',
      ],
    },
  },
  filter: {
    faultline_edge_punctuation: {
      type: 'pattern_replace',
      pattern: EDGE_PUNCTUATION_PATTERN,
      replacement: '',
      all: true,
    },
    // A chunk of punctuation only (`—`, `:`) becomes empty above; the tokenizer drops it.
    faultline_non_empty: { type: 'length', min: 1 },
    faultline_title_pieces: {
      type: 'word_delimiter_graph',
      preserve_original: true,
      split_on_case_change: true,
      split_on_numerics: true,
      generate_word_parts: true,
      generate_number_parts: true,
      catenate_words: false,
      catenate_numbers: false,
      catenate_all: false,
      // The tokenizer keeps `s` of `John's` as a piece; Lucene's default would drop it.
      stem_english_possessive: false,
    },
    faultline_token_length: { type: 'truncate', length: MAX_TOKEN_LENGTH },
    faultline_token_count: { type: 'limit', max_token_count: MAX_TITLE_TOKENS },
  },
  normalizer: {
    faultline_lowercase: { type: 'custom', filter: ['lowercase'] },
  },
} as const;

/** Every field of a document and of its facets: the query builder (`./query`) reads these names. */
export const mappings = {
  // Writes without routing would land on another shard than the project's searches read.
  _routing: { required: true },
  // A field nobody declared is refused rather than guessed: a typo would otherwise never match.
  dynamic: 'strict',
  properties: {
    project_id: { type: 'long' },
    item_id: { type: 'long' },
    counter: { type: 'long' },
    title: {
      type: 'text',
      analyzer: 'faultline_title',
      // Phrases match inside the lower-cased title, as `#shared/search/match` does.
      fields: { keyword },
    },
    // The shared tokenizer's output, lower-cased: a bare word matches inside one of them.
    tokens: keyword,
    level: keyword,
    status: keyword,
    // Compared as stored: Rollbar's environment names are case-sensitive, as are frameworks and hashes.
    environment: keyword,
    framework: keyword,
    fingerprint: keyword,
    code_version: lowercaseKeyword,
    first_seen: epochSeconds,
    last_seen: epochSeconds,
    facets: {
      properties: {
        hosts: lowercaseKeyword,
        contexts: lowercaseKeyword,
        files: lowercaseKeyword,
        code_versions: lowercaseKeyword,
        person_ids: lowercaseKeyword,
        usernames: lowercaseKeyword,
        emails: lowercaseKeyword,
      },
    },
  },
} as const;

/**
 * The index template, put before the first write (`PUT _index_template/faultline-items`): the index
 * is then created by that write with these settings. One primary shard holds millions of small
 * documents; a replica appears when the domain has a second node (two zones).
 */
export const itemsIndexTemplate = {
  index_patterns: [ITEMS_INDEX],
  priority: 100,
  template: {
    settings: {
      index: {
        number_of_shards: 1,
        auto_expand_replicas: '0-1',
        // OpenSearch's default: a written document is searchable within a second (Rollbar: ~2 s).
        refresh_interval: '1s',
        // What the domain's slow logs (CloudWatch) record: searches past the 300 ms goal, slow writes.
        'search.slowlog.threshold.query.info': '300ms',
        'search.slowlog.threshold.query.warn': '1s',
        'indexing.slowlog.threshold.index.warn': '1s',
      },
      analysis,
    },
    mappings,
  },
  _meta: { description: "Faultline: items' search documents, routed by project id" },
} as const;

/**
 * Where Lucene's word_delimiter_graph, as documented, indexes a title differently from the shared
 * tokenizer (each a title and what only one side produces): the `tokens` field carries the
 * tokenizer's output, so bare-word searches are not affected.
 */
export const TITLE_ANALYZER_DIFFERENCES = [
  {
    title: 'HTTPServerError',
    why: 'an acronym followed by a word: Lucene breaks only at lower → upper, the tokenizer also before the last capital',
    onlyTokenizer: ['http', 'server'],
    onlyAnalyzer: ['httpserver'],
  },
  {
    title: "u'\\u0441'",
    why: 'a word between punctuation that splits further: Lucene keeps the chunk and the smallest pieces, not the word between',
    onlyTokenizer: ['u0441'],
    onlyAnalyzer: [],
  },
] as const;
