// Replaces the volatile parts of a log message (ids, numbers, addresses, times) so one log line is one item.

/**
 * Only the first 8 KiB of a message take part in its fingerprint. Log lines are far shorter; a message
 * longer than this (a dumped document, a stack trace pasted into a log line) is identified by its
 * beginning, and every rule below then costs a bounded amount of work per occurrence.
 */
export const NORMALIZED_MESSAGE_MAX_LENGTH = 8 * 1024;

/**
 * Each rule swaps a volatile part for a placeholder. Order matters: quoted values and URLs go first because
 * they may contain anything; timestamps before IPv6 and numbers so `12:30:45` is a time, not an address; hex
 * and UUIDs before numbers so an id is one placeholder, not a run of `<n>`s. Placeholders contain no digits,
 * so no later rule rewrites them.
 *
 * Every rule runs in time linear in the text: a global search retries at every position, so a rule may not
 * scan far from a position where it then fails, unless a lookbehind lets it start only where a run begins
 * (the e-mail rule) or the run it scanned is consumed whole (the URL rule). Test inputs that once took
 * quadratic time (`a.` × 150,000 against the e-mail rule) are in test/shared/domain/linear-time.test.ts.
 */
const RULES: ReadonlyArray<readonly [RegExp, string | ((match: string) => string)]> = [
  // A URL's path names the endpoint; its query string holds the request's values.
  // The URL is taken whole and its query cut off in the function: a pattern that ended in `\?` would rescan
  // the URL from every later `http://` in it when it has no query (`http://http://…`).
  [/\b(?:https?|wss?|ftp):\/\/[^\s?#'"<>][^\s#'"<>]*/gi, withoutQuery],
  // A local part starts only where a run of its characters starts (its leading `.+-` kept), so a run with
  // no `@` after it (`a.a.a.…`) is scanned once, not once from each of its dots.
  [/(?<![\w.+-])([.+-]*)\w[\w.+-]*@[\w-]+(?:\.[\w-]+)+\b/g, '$1<email>'],
  // Quoted values are what a log line interpolates. An apostrophe inside a word (`can't`) opens nothing.
  [/(?<![\w'])'[^'\n]*'(?![\w'])/g, "'<value>'"],
  [/(?<![\w"])"[^"\n]*"(?![\w"])/g, '"<value>"'],
  [/(?<![\w`])`[^`\n]*`(?![\w`])/g, '`<value>`'],
  [
    /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?Z|\s?[+-]\d{2}:?\d{2})?)?\b/g,
    '<timestamp>',
  ],
  [/\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b/g, '<time>'],
  [/\b[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}\b/gi, '<uuid>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, '<ip>'],
  [
    /(?<![\w:])(?:(?:[\da-f]{1,4}:){7}[\da-f]{1,4}|(?:[\da-f]{1,4}(?::[\da-f]{1,4})*)?::(?:[\da-f]{1,4}(?::[\da-f]{1,4})*)?)(?:%\w+)?(?![\w:])/gi,
    // `Face::Bed` is Ruby, not an address: an IPv6 address in a log line practically always has a digit.
    (match) => (/\d/.test(match) ? '<ip>' : match),
  ],
  [/\b0x[\da-f]+\b/gi, '<hex>'],
  // Six or more hex characters with a letter and a digit: object ids, hashes, request ids. Pure digit runs are
  // numbers (so `order 12345` and `order 1234567` stay one item), pure letters are words (`facade`).
  [/\b(?=[\da-f]*\d)(?=\d*[a-f])[\da-f]{6,}\b/gi, '<hex>'],
  [/\d+(?:\.\d+)?/g, '<n>'],
  [/\s+/g, ' '],
];

function withoutQuery(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : `${url.slice(0, query)}?<query>`;
}

/** The message as it takes part in a fingerprint: volatile parts replaced, whitespace collapsed. */
export function normalizeMessage(message: string): string {
  let text =
    message.length > NORMALIZED_MESSAGE_MAX_LENGTH
      ? message.slice(0, NORMALIZED_MESSAGE_MAX_LENGTH)
      : message;
  for (const [pattern, replacement] of RULES) {
    text =
      typeof replacement === 'string'
        ? text.replace(pattern, replacement)
        : text.replace(pattern, replacement);
  }
  return text.trim();
}
