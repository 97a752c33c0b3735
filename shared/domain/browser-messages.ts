// The database of JavaScript error messages as each browser engine words them, for grouping v2.
import { RE2JS } from 're2js';

/**
 * The engine whose wording a pattern matches. Chrome, Edge, Opera and Node run V8; Firefox runs
 * SpiderMonkey; Safari and every browser on iOS run JavaScriptCore; Internet Explorer and legacy Edge ran
 * Chakra. Messages that come from the DOM rather than the engine (`Failed to fetch`) are filed under the
 * engine of the browser that produces them.
 */
export type Engine = 'v8' | 'spidermonkey' | 'javascriptcore' | 'chakra';

/** What went wrong, independent of the engine that said it. Part of the fingerprint: never rename one. */
export const BROWSER_ERROR_KINDS = [
  'undefined-variable',
  'not-a-function',
  'not-a-constructor',
  'nullish-property-access',
  'nullish-value',
  'nullish-to-object',
  'not-iterable',
  'stack-overflow',
  'invalid-array-length',
  'number-precision-out-of-range',
  'radix-out-of-range',
  'invalid-date',
  'json-unexpected-end',
  'json-invalid',
  'unexpected-token',
  'unexpected-end-of-script',
  'assignment-to-constant',
  'read-only-property-assignment',
  'redeclaration',
  'uninitialized-variable',
  'cyclic-json',
  'script-error',
  'network-failure',
  'resize-observer-loop',
] as const;
export type BrowserErrorKind = (typeof BROWSER_ERROR_KINDS)[number];

/**
 * The captures a pattern may keep. `name` is a variable or property name, kept as written; `expression` is
 * a JavaScript expression (`a.b.c`, `this.props.onClick()`) reduced to its last property name, because
 * engines render expressions differently and V8 reports only the property; `token` is a syntax error's token.
 * Every other named capture (numbers, JSON positions, the object expression, `undefined` vs `null`) is
 * dropped: it is there to document what the pattern matches.
 */
export type KeptCapture = 'name' | 'expression' | 'token';

export interface BrowserMessagePattern {
  kind: BrowserErrorKind;
  engines: readonly Engine[];
  pattern: RegExp;
  keep: readonly KeptCapture[];
}

export interface BrowserMessageMatch {
  kind: BrowserErrorKind;
  engines: readonly Engine[];
  /** The values that take part in the fingerprint, in the order of `keep`. */
  kept: string[];
}

const V8: readonly Engine[] = ['v8'];
const SM: readonly Engine[] = ['spidermonkey'];
const JSC: readonly Engine[] = ['javascriptcore'];
const CHAKRA: readonly Engine[] = ['chakra'];
const ALL: readonly Engine[] = ['v8', 'spidermonkey', 'javascriptcore', 'chakra'];

function rule(
  kind: BrowserErrorKind,
  engines: readonly Engine[],
  pattern: RegExp,
  keep: readonly KeptCapture[] = [],
): BrowserMessagePattern {
  return { kind, engines, pattern, keep };
}

/**
 * Order matters where wordings overlap: specific patterns (JavaScriptCore's `… is not a function. (In …)`,
 * `… is not a function (near …)`) come before the generic ones they would otherwise fall into, and the
 * catch-all `x is undefined` comes last.
 */
export const BROWSER_MESSAGE_PATTERNS: readonly BrowserMessagePattern[] = [
  rule('script-error', ALL, /^Script error\.?$/),

  rule('undefined-variable', ['v8', 'spidermonkey'], /^(?<name>[^\s'"]+) is not defined$/, ['name']),
  rule('undefined-variable', JSC, /^Can't find variable: (?<name>\S+)$/, ['name']),
  rule('undefined-variable', CHAKRA, /^'(?<name>[^']+)' is (?:not defined|undefined)$/, ['name']),

  rule('not-iterable', V8, /^(?<expression>.+) is not a function or its return value is not iterable$/),
  rule(
    'not-iterable',
    ['v8', 'spidermonkey'],
    /^(?<expression>.+) is not iterable(?: \(cannot read property Symbol\(Symbol\.iterator\)\))?$/,
  ),
  rule('not-iterable', JSC, /^(?<value>.+) is not a function \(near '\.\.\.(?<expression>.*)\.\.\.'\)$/s),
  rule('not-iterable', JSC, /^Spread syntax requires \.\.\.iterable\[Symbol\.iterator\] to be a function$/),

  rule(
    'not-a-function',
    JSC,
    /^(?<expression>.+) is not a function\. \(In '(?<call>.*)', '(?<callee>.*)' is (?<value>.+)\)$/s,
    ['expression'],
  ),
  rule('not-a-function', JSC, /^'?(?<value>[^']+)'? is not a function \(evaluating '(?<expression>.+)'\)$/s, [
    'expression',
  ]),
  rule('not-a-function', ['v8', 'spidermonkey'], /^(?<expression>.+) is not a function$/s, ['expression']),
  rule('not-a-function', CHAKRA, /^Object doesn't support property or method '(?<name>[^']+)'$/, ['name']),

  rule(
    'not-a-constructor',
    JSC,
    // The first part is the value (`undefined`, `Object`), not the expression: the callee is in `evaluating`.
    /^(?<value>.+) is not a constructor \(evaluating 'new (?<expression>.+)'\)$/s,
    ['expression'],
  ),
  rule('not-a-constructor', ['v8', 'spidermonkey'], /^(?<expression>.+) is not a constructor$/s, [
    'expression',
  ]),

  rule(
    'nullish-property-access',
    V8,
    /^Cannot (?:read|set) properties of (?<value>undefined|null) \((?:reading|setting) '(?<name>.*)'\)$/s,
    ['name'],
  ),
  rule(
    'nullish-property-access',
    V8,
    /^Cannot (?:read|set) property '(?<name>.*)' of (?<value>undefined|null)$/s,
    ['name'],
  ),
  rule(
    'nullish-property-access',
    SM,
    /^can't access property "?(?<name>[^"]*?)"?, (?<object>.+) is (?<value>undefined|null)$/s,
    ['name'],
  ),
  rule(
    'nullish-property-access',
    SM,
    /^can't access property "?(?<name>[^"]*?)"? of (?<value>undefined|null)$/,
    ['name'],
  ),
  rule(
    'nullish-property-access',
    JSC,
    /^'?(?<value>undefined|null)'? is not an object \(evaluating '(?<expression>.+)'\)$/s,
    ['expression'],
  ),
  rule(
    'nullish-property-access',
    CHAKRA,
    /^Unable to (?:get|set) (?:the )?(?:value of the )?property '(?<name>[^']*)'(?: of undefined or null reference|: object is null or undefined)$/,
    ['name'],
  ),

  rule('nullish-to-object', V8, /^Cannot convert undefined or null to object$/),
  rule('nullish-to-object', SM, /^can't convert (?<value>undefined|null) to object$/),
  rule('nullish-to-object', JSC, /^(?<function>\S+) requires that input parameter not be null or undefined$/),

  rule('stack-overflow', ['v8', 'javascriptcore'], /^Maximum call stack size exceeded\.?$/),
  rule('stack-overflow', SM, /^too much recursion$/),
  rule('stack-overflow', CHAKRA, /^Out of stack space$/),

  rule('invalid-array-length', ['v8', 'spidermonkey', 'javascriptcore'], /^[Ii]nvalid array length$/),
  rule('invalid-array-length', JSC, /^Array size is not a small enough positive integer\.$/),
  rule('invalid-array-length', CHAKRA, /^Array length must be a finite positive integer$/),

  rule(
    'number-precision-out-of-range',
    ['v8', 'javascriptcore'],
    /^(?<method>toFixed|toPrecision|toExponential)\(\) (?:digits )?argument must be between (?<min>-?\d+) and (?<max>\d+)$/,
  ),
  rule('number-precision-out-of-range', SM, /^precision (?<number>\S+) out of range$/),
  rule(
    'number-precision-out-of-range',
    CHAKRA,
    /^The (?:number of fractional digits|precision) is out of range$/,
  ),

  rule(
    'radix-out-of-range',
    ['v8', 'javascriptcore'],
    /^toString\(\) radix (?:argument )?must be between 2 and 36$/,
  ),
  rule('radix-out-of-range', SM, /^radix must be an integer at least 2 and no greater than 36$/),
  rule('radix-out-of-range', CHAKRA, /^The radix must be between 2 and 36$/),

  rule('invalid-date', V8, /^Invalid time value$/),
  rule('invalid-date', SM, /^invalid date$/),
  rule('invalid-date', JSC, /^Invalid Date$/),

  rule('json-unexpected-end', V8, /^Unexpected end of JSON input$/),
  rule('json-unexpected-end', SM, /^JSON\.parse: (?:unexpected )?end of data\b.*$/),
  rule('json-unexpected-end', JSC, /^JSON Parse error: Unexpected EOF$/),
  rule(
    'json-invalid',
    V8,
    /^(?<detail>.+) in JSON at position (?<position>\d+)(?: \(line (?<line>\d+) column (?<column>\d+)\))?$/s,
  ),
  rule(
    'json-invalid',
    V8,
    /^(?:Unexpected token '(?<token>.*)', )?"(?<excerpt>.*)"(?:\.\.\.)? is not valid JSON$/s,
  ),
  rule(
    'json-invalid',
    SM,
    /^JSON\.parse: (?<detail>.+) at line (?<line>\d+) column (?<column>\d+) of the JSON data$/,
  ),
  rule('json-invalid', JSC, /^JSON Parse error: (?<detail>.+)$/s),

  rule('unexpected-end-of-script', V8, /^Unexpected end of input$/),
  rule('unexpected-end-of-script', SM, /^expected expression, got end of script$/),
  rule('unexpected-end-of-script', JSC, /^Unexpected end of script$/),
  rule('unexpected-token', ['v8', 'javascriptcore'], /^Unexpected token '(?<token>.+?)'(?:\. .*)?$/s, [
    'token',
  ]),
  rule('unexpected-token', V8, /^Unexpected token (?<token>[^\s']+)$/, ['token']),
  rule('unexpected-token', SM, /^(?:expected expression, got|unexpected token:) '(?<token>.+)'$/, ['token']),

  rule('assignment-to-constant', V8, /^Assignment to constant variable\.$/),
  rule('assignment-to-constant', SM, /^invalid assignment to const [`'"]?(?<variable>[^`'"]+)[`'"]?$/),
  // JavaScriptCore words an assignment to a `const` and to a frozen object's property alike; a const is the
  // likelier cause in code that `'use strict'` would not otherwise reach, so its wording goes here.
  rule('assignment-to-constant', JSC, /^Attempted to assign to readonly property\.$/),
  rule(
    'read-only-property-assignment',
    V8,
    /^Cannot assign to read only property '(?<name>.+?)' of (?<object>.+)$/s,
    ['name'],
  ),
  rule('read-only-property-assignment', SM, /^"?(?<name>[^"]+?)"? is read-only$/, ['name']),

  rule('redeclaration', V8, /^Identifier '(?<name>.+)' has already been declared$/, ['name']),
  rule(
    'redeclaration',
    SM,
    /^redeclaration of (?:let|const|var|class|function|formal parameter) (?<name>.+)$/,
    ['name'],
  ),
  rule('redeclaration', JSC, /^Cannot declare a (?:let|const|class) variable twice: '(?<name>.+)'\.$/, [
    'name',
  ]),

  rule('uninitialized-variable', V8, /^Cannot access '(?<variable>.+)' before initialization$/),
  rule(
    'uninitialized-variable',
    SM,
    /^can't access lexical declaration [`'"]?(?<variable>.+?)[`'"]? before initialization$/,
  ),
  rule('uninitialized-variable', JSC, /^Cannot access uninitialized variable\.$/),

  rule('cyclic-json', V8, /^Converting circular structure to JSON\b.*$/s),
  rule('cyclic-json', SM, /^cyclic object value$/),
  rule('cyclic-json', JSC, /^JSON\.stringify cannot serialize cyclic structures\.$/),

  rule('network-failure', V8, /^Failed to fetch(?: \((?<host>[^)]*)\))?$/),
  rule('network-failure', SM, /^NetworkError when attempting to fetch resource\.$/),
  rule(
    'network-failure',
    JSC,
    /^(?:Load failed|The network connection was lost\.|The Internet connection appears to be offline\.)$/,
  ),

  rule(
    'resize-observer-loop',
    ALL,
    /^ResizeObserver loop (?:limit exceeded|completed with undelivered notifications\.)$/,
  ),

  // SpiderMonkey before Firefox 74 named the value that was undefined, not the property read from it.
  rule('nullish-value', SM, /^(?<expression>.+) is (?<value>undefined|null)$/s, ['expression']),
];

/**
 * What browsers and SDKs put before the engine's message: the uncaught/unhandled-rejection prefix and the
 * error class. A rejected promise and a thrown error with the same message are the same bug.
 */
const MESSAGE_PREFIX =
  /^\s*(?:Uncaught(?: \(in promise\))?:?\s+|Unhandled Promise Rejection:\s*|Unhandled promise rejection:?\s+|UnhandledRejection:?\s+|uncaught exception:\s*|Failed to execute 'json' on 'Response':\s*|(?:[A-Z][A-Za-z]*Error|Error|Exception|DOMException)(?::\s*|$))/;

/** The engine's own message, with `Uncaught `, `Unhandled Promise Rejection: `, `TypeError: ` etc. removed. */
export function stripMessagePrefixes(message: string): string {
  let text = message;
  // Prefixes stack (`Uncaught (in promise) TypeError: …`); a bound keeps a hostile message cheap.
  for (let round = 0; round < 4; round++) {
    const prefix = MESSAGE_PREFIX.exec(text);
    if (!prefix || prefix[0].length === 0) break;
    text = text.slice(prefix[0].length);
  }
  return text.trim();
}

// Starts only where a name starts: from inside a name it would rescan the rest of it from each character.
const IDENTIFIER_AT_END = /(?<![\p{L}\p{N}_$])[\p{L}\p{N}_$]+(?=['"`]?\]?\)*\s*$)/u;
const CALLABLE_BEFORE_PAREN = /[\p{L}\p{N}_$)\]]/u;

/**
 * The last property name of an expression: `a.b.c` → `c`, `this.props.onClick()` → `onClick`,
 * `(0 , _api.fetchUser)` → `fetchUser`, `a["b"]` → `b`, `rows[0]` → `0`, `a.b = 1` → `b`. Engines agree on the
 * property that failed but not on how they print the rest (V8 omits it for property reads), so only the
 * property identifies the bug across browsers.
 */
export function lastPropertyName(expression: string): string {
  let text = expression.trim();
  const assignment = text.search(/\s=\s/);
  if (assignment > 0) text = text.slice(0, assignment).trimEnd();
  // Drop trailing call arguments `(…)`, but not a parenthesized expression `(0 , a.b)`.
  while (text.endsWith(')')) {
    let depth = 0;
    let open = -1;
    for (let index = text.length - 1; index >= 0; index--) {
      const char = text[index];
      if (char === ')') depth++;
      else if (char === '(' && --depth === 0) {
        open = index;
        break;
      }
    }
    if (open <= 0 || !CALLABLE_BEFORE_PAREN.test(text[open - 1] ?? '')) break;
    text = text.slice(0, open).trimEnd();
  }
  const match = IDENTIFIER_AT_END.exec(text);
  return match ? match[0] : text;
}

/**
 * Messages longer than this are not looked up: engines' messages are a line, and the longest (Safari's
 * `(evaluating '…')` quoting the failing expression) stay far below it. Such a report keeps the default
 * fingerprint of its trace.
 */
export const BROWSER_MESSAGE_MAX_LENGTH = 2048;

/**
 * The database, as RE2 (linear-time) patterns. Several wordings have two to four unbounded parts
 * (`… is not a function. (In '…', '…' is …)`), which a backtracking engine matches in polynomial time
 * on a message that repeats their separators; RE2 matches each in one pass with the same captures.
 * `test` runs RE2's DFA without captures, so only the pattern that matches pays for them.
 */
const LINEAR_PATTERNS = BROWSER_MESSAGE_PATTERNS.map(({ pattern }) =>
  RE2JS.compile(
    pattern.source,
    (pattern.flags.includes('s') ? RE2JS.DOTALL : 0) |
      (pattern.flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0),
  ),
);

/** The first pattern the message matches, with the values that identify the bug; undefined if none does. */
export function matchBrowserMessage(message: string): BrowserMessageMatch | undefined {
  if (message.length > BROWSER_MESSAGE_MAX_LENGTH) return undefined;
  const text = stripMessagePrefixes(message);
  if (text === '') return undefined;
  for (const [index, candidate] of BROWSER_MESSAGE_PATTERNS.entries()) {
    const linear = LINEAR_PATTERNS[index]!;
    if (!linear.test(text)) continue;
    // re2js types `exec` loosely; its result has the shape of RegExp's.
    const match = linear.exec(text) as RegExpExecArray | null;
    if (!match) continue;
    const groups = match.groups ?? {};
    const kept = candidate.keep.map((capture) => {
      const value = (groups[capture] ?? '').trim();
      return capture === 'expression' ? lastPropertyName(value) : value;
    });
    return { kind: candidate.kind, engines: candidate.engines, kept };
  }
  return undefined;
}
