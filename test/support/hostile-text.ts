// Client text built to make a backtracking pattern work hard: runs of separators, quotes, digits and hex.
// Shared by the hostile-input tests and the linear-time benchmark, so both feed the normalizers the same.

/** Units repeated into hostile text; each once made (or could make) a pattern rescan what it had read. */
export const HOSTILE_UNITS: Readonly<Record<string, string>> = {
  "letters and dots, the issue's `a.a.a.…`": 'a.',
  'one character': 'a',
  digits: '1',
  'digits and dots': '1.',
  'hex runs': 'f1',
  'hex runs with dashes': 'ab1-',
  'dashes and dots': '-.',
  'dashes before letters': '-a',
  colons: ':',
  'digits and colons': '1:',
  slashes: '/',
  'slashes before a less-than': '//x<',
  'single quotes': "'",
  'double quotes': '"',
  backticks: '`',
  'URL schemes': 'http://',
  'e-mail-like runs': 'a@a.',
  whitespace: ' \n',
  parentheses: 'a(',
  'closing parentheses': 'a)',
  "Safari's separators": "', '' is ",
  'dates and times': '2024-01-01T12:30:45.1',
};

/** `unit` repeated to exactly `length` characters. */
export function hostileText(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/**
 * Safari's longest wording with each of its four open parts repeated: a backtracking engine tries every
 * way to split it, in time that grows with the fourth power of its length.
 */
export function safariNotAFunction(length: number): string {
  const quarter = Math.floor(length / 4);
  return (
    hostileText(" is not a function. (In '", quarter) +
    hostileText("', '", quarter) +
    hostileText("' is ", quarter) +
    hostileText('x', length - 3 * quarter)
  );
}
