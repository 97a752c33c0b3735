// The index template: the title analyzer's settings as OpenSearch documents them, and a mapping for
// every field a document, its facets and the query builder use.
import { describe, expect, it } from 'vitest';
import { FACET_NAMES, type SearchDocument } from '#shared/search/document';
import { QUALIFIER_FIELDS } from '#shared/search/opensearch/query';
import {
  analysis,
  EDGE_PUNCTUATION_PATTERN,
  ITEMS_INDEX,
  itemsIndexTemplate,
  mappings,
  TITLE_ANALYZER_DIFFERENCES,
} from '#shared/search/opensearch/template';
import { QUALIFIER_MATCH, TEXT_QUALIFIERS } from '#shared/search/query';
import { MAX_TITLE_TOKENS, MAX_TOKEN_LENGTH, titleTokens } from '#shared/search/title-tokens';

type FieldMapping = {
  type?: string;
  normalizer?: string;
  format?: string;
  properties?: Record<string, FieldMapping>;
  fields?: Record<string, FieldMapping>;
};

/** The mapping of a dotted field path (`facets.hosts`, `title.keyword`). */
function fieldMapping(path: string): FieldMapping | undefined {
  const [first, ...rest] = path.split('.');
  let field: FieldMapping | undefined = (mappings.properties as Record<string, FieldMapping>)[first!];
  for (const part of rest) field = field?.properties?.[part] ?? field?.fields?.[part];
  return field;
}

/**
 * Titles and the tokens OpenSearch's documentation says the analyzer makes of them: whitespace chunks,
 * edge punctuation replaced away, word_delimiter_graph keeping the chunk (preserve_original) and
 * splitting at punctuation, lower → upper and letter ↔ digit, without stemming possessives, lower-cased.
 */
const documentedAnalyses: Array<{ title: string; tokens: string[] }> = [
  {
    title: 'ReferenceError: x is not defined',
    tokens: ['referenceerror', 'reference', 'error', 'x', 'is', 'not', 'defined'],
  },
  { title: 'not_found_error (Error)', tokens: ['not_found_error', 'not', 'found', 'error'] },
  { title: "'latin-1' codec", tokens: ['latin-1', 'latin', '1', 'codec'] },
  { title: "can't encode", tokens: ["can't", 'can', 't', 'encode'] },
  { title: "John's v2Client", tokens: ["john's", 'john', 's', 'v2client', 'v', '2', 'client'] },
  { title: 'Ошибка: ИмяФайла — 404', tokens: ['ошибка', 'имяфайла', 'имя', 'файла', '404'] },
];

describe('the title analyzer', () => {
  it.each(documentedAnalyses)('indexes "$title" as the shared tokenizer does', ({ title, tokens }) => {
    expect(new Set(titleTokens(title))).toEqual(new Set(tokens));
  });

  it.each(TITLE_ANALYZER_DIFFERENCES)(
    'says where it differs from the tokenizer: "$title"',
    ({ title, onlyTokenizer, onlyAnalyzer }) => {
      const tokens = titleTokens(title);
      for (const token of onlyTokenizer) expect(tokens).toContain(token);
      for (const token of onlyAnalyzer) expect(tokens).not.toContain(token);
    },
  );

  it('chunks at whitespace, strips edge punctuation, drops empty chunks, splits, lower-cases, then bounds', () => {
    expect(analysis.analyzer.faultline_title).toEqual({
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
    });
    expect(analysis.filter.faultline_non_empty).toEqual({ type: 'length', min: 1 });
    expect(analysis.filter.faultline_token_length).toEqual({ type: 'truncate', length: MAX_TOKEN_LENGTH });
    expect(analysis.filter.faultline_token_count).toEqual({
      type: 'limit',
      max_token_count: MAX_TITLE_TOKENS,
    });
  });

  it('keeps each chunk whole and splits it at case changes and digits, keeping possessive pieces', () => {
    expect(analysis.filter.faultline_title_pieces).toMatchObject({
      type: 'word_delimiter_graph',
      preserve_original: true,
      split_on_case_change: true,
      split_on_numerics: true,
      generate_word_parts: true,
      generate_number_parts: true,
      catenate_all: false,
      stem_english_possessive: false,
    });
  });

  it.each([
    ['(Error)', 'Error'],
    ["'latin-1'", 'latin-1'],
    ["u'\\u0441'", "u'\\u0441"],
    ['ReferenceError:', 'ReferenceError'],
    ['—', ''],
    ['Ошибка!', 'Ошибка'],
  ])(
    'strips the edge punctuation of %j as the tokenizer does (Java and JavaScript read \\p{L} alike)',
    (chunk, stripped) => {
      expect(analysis.filter.faultline_edge_punctuation).toMatchObject({
        type: 'pattern_replace',
        replacement: '',
        all: true,
      });
      expect(chunk.replace(new RegExp(EDGE_PUNCTUATION_PATTERN, 'gu'), '')).toBe(stripped);
    },
  );
});

describe('the mapping', () => {
  const everyField: SearchDocument = {
    project_id: 1,
    item_id: 1,
    counter: 1,
    title: 't',
    tokens: ['t'],
    level: 'error',
    status: 'active',
    environment: 'production',
    framework: null,
    fingerprint: 'f',
    code_version: null,
    first_seen: 0,
    last_seen: 0,
  };

  it.each(Object.keys(everyField))('maps the document field %s', (field) => {
    expect(fieldMapping(field)?.type).toBeDefined();
  });

  it.each(FACET_NAMES)('maps the facet %s as a lower-cased keyword', (facet) => {
    expect(fieldMapping(`facets.${facet}`)).toMatchObject({
      type: 'keyword',
      normalizer: 'faultline_lowercase',
    });
  });

  it.each(TEXT_QUALIFIERS.map((qualifier) => [qualifier, QUALIFIER_MATCH[qualifier]] as const))(
    'maps the fields %s: reads (%s match), case-sensitive only for environment, framework and fingerprint',
    (qualifier) => {
      const caseSensitive = ['environment', 'framework', 'fingerprint'].includes(qualifier);
      for (const field of QUALIFIER_FIELDS[qualifier]) {
        const mapping = fieldMapping(field);
        expect(mapping?.type).toBe('keyword');
        expect(mapping?.normalizer).toBe(caseSensitive ? undefined : 'faultline_lowercase');
      }
    },
  );

  it('maps the title for full text with the analyzer, and as a keyword for phrases inside it', () => {
    expect(fieldMapping('title')).toMatchObject({ type: 'text', analyzer: 'faultline_title' });
    expect(fieldMapping('title.keyword')?.type).toBe('keyword');
    expect(fieldMapping('tokens')?.type).toBe('keyword');
  });

  it('maps first and last seen as dates in epoch seconds, ids and counters as longs', () => {
    expect(fieldMapping('first_seen')).toEqual({ type: 'date', format: 'epoch_second' });
    expect(fieldMapping('last_seen')).toEqual({ type: 'date', format: 'epoch_second' });
    for (const field of ['project_id', 'item_id', 'counter']) expect(fieldMapping(field)?.type).toBe('long');
  });

  it('requires routing and refuses fields nobody declared', () => {
    expect(mappings._routing).toEqual({ required: true });
    expect(mappings.dynamic).toBe('strict');
  });

  it('applies to the one items index, with one shard and a replica when a second node exists', () => {
    expect(itemsIndexTemplate.index_patterns).toEqual([ITEMS_INDEX]);
    expect(itemsIndexTemplate.template.settings.index).toMatchObject({
      number_of_shards: 1,
      auto_expand_replicas: '0-1',
    });
    expect(itemsIndexTemplate.template.settings.analysis.normalizer.faultline_lowercase).toEqual({
      type: 'custom',
      filter: ['lowercase'],
    });
  });
});
