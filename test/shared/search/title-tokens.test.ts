// The title tokenizer every search engine shares: what a few typed letters must find, table-driven.
import { describe, expect, it } from 'vitest';
import { MAX_TITLE_TOKENS, MAX_TOKEN_LENGTH, titleTokens } from '#shared/search/title-tokens';

describe('the words a title is found by', () => {
  it.each([
    [
      'a camelCase class, by its pieces and whole',
      'ReferenceError: x is not defined',
      ['referenceerror', 'reference', 'error', 'x', 'is', 'not', 'defined'],
    ],
    ['snake_case, by its pieces and whole', 'not_found_error', ['not_found_error', 'not', 'found', 'error']],
    ['a word in parentheses, without them', '(Error)', ['error']],
    ['an acronym before a word', 'HTTPServerError', ['httpservererror', 'http', 'server', 'error']],
    ['letters and digits apart and together', 'v2Client', ['v2client', 'v', '2', 'client']],
    ['non-Latin letters', 'ÜberFehler beim Öffnen', ['überfehler', 'über', 'fehler', 'beim', 'öffnen']],
    ['nothing in an empty title', '', []],
    ['nothing in punctuation alone', '!!! --- ...', []],
  ])('%s', (_what, title, expected) => {
    expect(titleTokens(title)).toEqual(expected);
  });

  it("finds Rollbar's example by each fragment its docs name", () => {
    const tokens = titleTokens("UnicodeEncodeError: 'latin-1' codec can't encode character u'\\u0441'");
    for (const fragment of ['unicodeencodeerror', 'encode', 'error', 'latin', 'latin-1', 'u0441', 'codec']) {
      expect(tokens).toContain(fragment);
    }
  });

  it('keeps each token once, lower-cased, in the order it first appears', () => {
    expect(titleTokens('Error error ERROR TimeoutError')).toEqual(['error', 'timeouterror', 'timeout']);
  });

  it('bounds what a hostile title costs: tokens and their length', () => {
    const words = Array.from({ length: 1_000 }, (_, i) => `word${i}`).join(' ');
    expect(titleTokens(words)).toHaveLength(MAX_TITLE_TOKENS);
    const [long] = titleTokens('a'.repeat(10_000));
    expect(long).toHaveLength(MAX_TOKEN_LENGTH);
    // A run of capitals is read up to the cut only (the acronym rule rescans such a run).
    expect(titleTokens(`${'A'.repeat(200_000)}b`)).toEqual(['a'.repeat(MAX_TOKEN_LENGTH)]);
  });
});
