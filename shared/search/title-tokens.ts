// The words of an item's title as search indexes them, for every engine: each word as written
// (lower-cased) and its pieces, so "Error" finds `ReferenceError`, `not_found_error` and `(Error)`,
// as Rollbar's title search does. Plain logic, no AWS: the DynamoDB engine and OpenSearch's analyzer
// (planned, issue "Search") both follow it.

/**
 * Characters read of a title. Stored titles are cut at 255; this bounds any other caller, and the
 * acronym rule's look-ahead, which rescans a run of capitals, on a long one.
 */
export const MAX_TITLE_CHARS = 1_024;
/** Tokens of one title at most: a title is ≤ 255 characters, so this only bounds hostile input. */
export const MAX_TITLE_TOKENS = 128;
/** Characters of one token at most; a longer word is indexed by its start. */
export const MAX_TOKEN_LENGTH = 64;

/** A chunk between spaces, without the punctuation around it: `'latin-1'` → `latin-1`. */
const CHUNK = /[^\s]+/gu;
const EDGE_PUNCTUATION = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;
/** A word: letters, digits and underscores (snake_case stays one word, then splits into pieces). */
const WORD = /[\p{L}\p{N}_]+/gu;
/**
 * Where a word splits: `_`, lower → upper (`reference|Error`), an acronym's end (`HTTP|Server`),
 * letters ↔ digits (`u|0441`, `v|2|Client`).
 */
const PIECE = /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{L}+|\p{N}+/gu;

/** The title's tokens, lower-cased, each once, in the order they first appear. */
export function titleTokens(title: string): string[] {
  const tokens = new Set<string>();
  const add = (token: string) => {
    if (tokens.size >= MAX_TITLE_TOKENS || token === '') return;
    tokens.add(token.toLowerCase().slice(0, MAX_TOKEN_LENGTH));
  };
  for (const [chunk] of title.slice(0, MAX_TITLE_CHARS).matchAll(CHUNK)) {
    if (tokens.size >= MAX_TITLE_TOKENS) break;
    const trimmed = chunk.replace(EDGE_PUNCTUATION, '');
    add(trimmed);
    for (const [word] of trimmed.matchAll(WORD)) {
      add(word);
      for (const part of word.split('_')) {
        add(part);
        for (const [piece] of part.matchAll(PIECE)) add(piece);
      }
    }
  }
  return [...tokens];
}
