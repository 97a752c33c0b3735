// Grouping v2: the same JavaScript bug worded by different browsers is one item.
// Over 400 lines on purpose: tables of browsers' wordings, one row a case; long, not complicated.
import { describe, expect, it } from 'vitest';
import {
  BROWSER_ERROR_KINDS,
  BROWSER_MESSAGE_PATTERNS,
  type BrowserErrorKind,
  lastPropertyName,
  matchBrowserMessage,
  stripMessagePrefixes,
} from '#shared/domain/browser-messages';
import { type GroupingVersion, groupOccurrence } from '#shared/domain/fingerprint';
import { type ItemData, itemDataSchema } from '#shared/domain/payload';

/** A `window.onerror` report as rollbar.js sends it: one frame, the engine's message. */
function onerror(
  message: string,
  options: { className?: string; filename?: string; lineno?: number; platform?: string } = {},
): ItemData {
  return itemDataSchema.parse({
    environment: 'production',
    platform: options.platform ?? 'browser',
    language: 'javascript',
    body: {
      trace: {
        frames: [
          {
            filename: options.filename ?? 'https://shop.example.com/assets/app.3f9a2b1c.js',
            lineno: options.lineno ?? 1,
            colno: 4821,
          },
        ],
        exception: { class: options.className ?? 'TypeError', message },
      },
    },
  });
}

function fingerprintOf(message: string, version: GroupingVersion = 2): string {
  return groupOccurrence(onerror(message), { groupingVersion: version }).fingerprint;
}

/** For each kind: the wordings of the same bug, as Chrome/Edge (V8), Firefox, Safari and IE report it. */
const SAME_BUG: ReadonlyArray<{ kind: BrowserErrorKind; bug: string; wordings: readonly string[] }> = [
  {
    kind: 'undefined-variable',
    bug: 'an undeclared variable',
    wordings: [
      'Uncaught ReferenceError: gtag is not defined',
      'ReferenceError: gtag is not defined',
      "Can't find variable: gtag",
      "'gtag' is undefined",
    ],
  },
  {
    kind: 'not-a-function',
    bug: 'calling a missing method',
    wordings: [
      'Uncaught TypeError: user.profile.save is not a function',
      'user.profile.save is not a function',
      "user.profile.save is not a function. (In 'user.profile.save()', 'user.profile.save' is undefined)",
      "undefined is not a function (evaluating 'user.profile.save()')",
      "Object doesn't support property or method 'save'",
      '(0 , _api__WEBPACK_IMPORTED_MODULE_2__.save) is not a function',
    ],
  },
  {
    kind: 'not-a-constructor',
    bug: 'new on something that is not a class',
    wordings: [
      'charts.LineChart is not a constructor',
      'TypeError: charts.LineChart is not a constructor',
      "undefined is not a constructor (evaluating 'new charts.LineChart(canvas, options)')",
    ],
  },
  {
    kind: 'nullish-property-access',
    bug: 'reading a property of undefined',
    wordings: [
      "Cannot read properties of undefined (reading 'email')",
      "Cannot read property 'email' of undefined",
      'can\'t access property "email", user.profile is undefined',
      'can\'t access property "email" of undefined',
      "undefined is not an object (evaluating 'user.profile.email')",
      "Unable to get property 'email' of undefined or null reference",
      "Cannot set properties of null (setting 'email')",
      "null is not an object (evaluating 'user.profile.email')",
    ],
  },
  {
    kind: 'nullish-value',
    bug: 'an undefined value, as Firefox before 74 words it',
    wordings: ['user.profile is undefined', 'user.profile is null'],
  },
  {
    kind: 'nullish-to-object',
    bug: 'Object.keys of undefined',
    wordings: [
      'Cannot convert undefined or null to object',
      "can't convert undefined to object",
      'Object.keys requires that input parameter not be null or undefined',
    ],
  },
  {
    kind: 'not-iterable',
    bug: 'destructuring something that is not iterable',
    wordings: [
      'undefined is not iterable (cannot read property Symbol(Symbol.iterator))',
      'items is not iterable',
      "undefined is not a function (near '...[first, second]...')",
      'Spread syntax requires ...iterable[Symbol.iterator] to be a function',
      'useState is not a function or its return value is not iterable',
    ],
  },
  {
    kind: 'stack-overflow',
    bug: 'infinite recursion',
    wordings: [
      'RangeError: Maximum call stack size exceeded',
      'InternalError: too much recursion',
      'Maximum call stack size exceeded.',
      'Out of stack space',
    ],
  },
  {
    kind: 'invalid-array-length',
    bug: 'new Array(-1)',
    wordings: [
      'Invalid array length',
      'invalid array length',
      'Array size is not a small enough positive integer.',
      'Array length must be a finite positive integer',
    ],
  },
  {
    kind: 'number-precision-out-of-range',
    bug: 'toFixed with too many digits',
    wordings: [
      'toFixed() digits argument must be between 0 and 100',
      'precision 101 out of range',
      'toFixed() argument must be between 0 and 100',
      'toPrecision() argument must be between 1 and 100',
      'precision -1 out of range',
      'The number of fractional digits is out of range',
    ],
  },
  {
    kind: 'radix-out-of-range',
    bug: 'toString with a bad radix',
    wordings: [
      'toString() radix must be between 2 and 36',
      'radix must be an integer at least 2 and no greater than 36',
      'toString() radix argument must be between 2 and 36',
      'The radix must be between 2 and 36',
    ],
  },
  {
    kind: 'invalid-date',
    bug: 'toISOString of an invalid date',
    wordings: ['RangeError: Invalid time value', 'invalid date', 'Invalid Date'],
  },
  {
    kind: 'json-unexpected-end',
    bug: 'JSON.parse of an empty response',
    wordings: [
      'Unexpected end of JSON input',
      'JSON.parse: unexpected end of data at line 1 column 1 of the JSON data',
      'JSON Parse error: Unexpected EOF',
      "Failed to execute 'json' on 'Response': Unexpected end of JSON input",
    ],
  },
  {
    kind: 'json-invalid',
    bug: 'JSON.parse of an HTML error page',
    wordings: [
      'SyntaxError: Unexpected token < in JSON at position 0',
      'Unexpected token \'<\', "<!DOCTYPE "... is not valid JSON',
      'JSON.parse: unexpected character at line 1 column 1 of the JSON data',
      "JSON Parse error: Unrecognized token '<'",
      '"undefined" is not valid JSON',
      "Expected property name or '}' in JSON at position 1 (line 1 column 2)",
    ],
  },
  {
    kind: 'unexpected-token',
    bug: 'an HTML page loaded as a script',
    wordings: [
      "Uncaught SyntaxError: Unexpected token '<'",
      "expected expression, got '<'",
      'Unexpected token <',
    ],
  },
  {
    kind: 'unexpected-end-of-script',
    bug: 'a truncated script',
    wordings: [
      'Unexpected end of input',
      'expected expression, got end of script',
      'Unexpected end of script',
    ],
  },
  {
    kind: 'assignment-to-constant',
    bug: 'assigning to a const',
    wordings: [
      'Assignment to constant variable.',
      "invalid assignment to const 'total'",
      'Attempted to assign to readonly property.',
    ],
  },
  {
    kind: 'read-only-property-assignment',
    bug: 'assigning to a frozen object',
    wordings: ["Cannot assign to read only property 'count' of object '#<Object>'", '"count" is read-only'],
  },
  {
    kind: 'redeclaration',
    bug: 'a let declared twice',
    wordings: [
      "Identifier 'total' has already been declared",
      'redeclaration of let total',
      "Cannot declare a let variable twice: 'total'.",
    ],
  },
  {
    kind: 'uninitialized-variable',
    bug: 'a const used before its declaration',
    wordings: [
      "Cannot access 'config' before initialization",
      "can't access lexical declaration 'config' before initialization",
      'Cannot access uninitialized variable.',
    ],
  },
  {
    kind: 'cyclic-json',
    bug: 'JSON.stringify of a cyclic object',
    wordings: [
      "Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    --- property 'self' closes the circle",
      'cyclic object value',
      'JSON.stringify cannot serialize cyclic structures.',
    ],
  },
  {
    kind: 'script-error',
    bug: 'an error in a cross-origin script',
    wordings: ['Script error.', 'Script error'],
  },
  {
    kind: 'network-failure',
    bug: 'a fetch that never reached the server',
    wordings: [
      'TypeError: Failed to fetch',
      'NetworkError when attempting to fetch resource.',
      'Load failed',
      'The network connection was lost.',
    ],
  },
  {
    kind: 'resize-observer-loop',
    bug: 'a ResizeObserver loop',
    wordings: [
      'ResizeObserver loop limit exceeded',
      'ResizeObserver loop completed with undelivered notifications.',
    ],
  },
];

describe('the same bug worded by Chrome, Firefox and Safari is one item', () => {
  it.each(SAME_BUG)('$kind: $bug', ({ kind, wordings }) => {
    for (const wording of wordings) expect(matchBrowserMessage(wording)?.kind, wording).toBe(kind);
    const fingerprints = new Set(wordings.map((wording) => fingerprintOf(wording)));
    expect(fingerprints.size).toBe(1);
    expect(groupOccurrence(onerror(wordings[0] ?? ''), { groupingVersion: 2 }).method).toBe(
      'browser-message',
    );
  });

  it('every kind in the database has a case here', () => {
    expect(new Set(SAME_BUG.map((row) => row.kind))).toEqual(new Set(BROWSER_ERROR_KINDS));
  });

  it('every wording in the database has an example here', () => {
    const examples = SAME_BUG.flatMap((row) => row.wordings.map(stripMessagePrefixes));
    const unexercised = BROWSER_MESSAGE_PATTERNS.filter(
      (candidate) => !examples.some((example) => candidate.pattern.test(example)),
    ).map((candidate) => `${candidate.kind} ${candidate.pattern}`);
    expect(unexercised).toEqual([]);
  });

  it('different kinds of error are different items', () => {
    const firstOfEach = SAME_BUG.map((row) => fingerprintOf(row.wordings[0] ?? ''));
    expect(new Set(firstOfEach).size).toBe(SAME_BUG.length);
  });
});

describe('what identifies the bug is kept', () => {
  it.each([
    ['two different variables', 'gtag is not defined', 'fbq is not defined'],
    [
      'two different properties read from undefined',
      "Cannot read properties of undefined (reading 'email')",
      "Cannot read properties of undefined (reading 'name')",
    ],
    ['two different missing methods', 'user.save is not a function', 'user.load is not a function'],
    ['the same name in two kinds of error', 'gtag is not defined', 'gtag is not a function'],
    ['two different unexpected tokens', "Unexpected token '<'", "Unexpected token '}'"],
    [
      'two different redeclared variables',
      "Identifier 'total' has already been declared",
      "Identifier 'count' has already been declared",
    ],
  ])('the same wording about %s is two items', (_case, first, second) => {
    expect(fingerprintOf(first)).not.toBe(fingerprintOf(second));
  });
});

describe('what does not identify the bug is dropped', () => {
  it.each([
    ['out-of-range numbers', 'precision 101 out of range', 'precision 500 out of range'],
    [
      'the method whose digits were out of range',
      'toFixed() digits argument must be between 0 and 100',
      'toExponential() argument must be between 0 and 100',
    ],
    [
      'JSON positions',
      'Unexpected token < in JSON at position 0',
      'Unexpected token < in JSON at position 312',
    ],
    [
      'the JSON excerpt',
      'Unexpected token \'<\', "<!DOCTYPE "... is not valid JSON',
      'Unexpected token \'<\', "<html><hea"... is not valid JSON',
    ],
    [
      'the object a property was read from',
      'can\'t access property "email", user.profile is undefined',
      'can\'t access property "email", order.customer is undefined',
    ],
    [
      'undefined versus null',
      "Cannot read properties of undefined (reading 'email')",
      "Cannot read properties of null (reading 'email')",
    ],
    [
      'the variable assigned to a const',
      "invalid assignment to const 'total'",
      "invalid assignment to const 'count'",
    ],
  ])('%s do not split a group', (_case, first, second) => {
    expect(fingerprintOf(first)).toBe(fingerprintOf(second));
  });

  it('the file and line do not split a group: an inline script reports the page URL', () => {
    const inBundle = onerror('gtag is not defined', {
      filename: 'https://shop.example.com/app.js',
      lineno: 12,
    });
    const inline = onerror('gtag is not defined', {
      filename: 'https://shop.example.com/checkout/42',
      lineno: 3,
    });
    expect(groupOccurrence(inBundle, { groupingVersion: 2 })).toEqual(
      groupOccurrence(inline, { groupingVersion: 2 }),
    );
  });

  it.each([
    ['Uncaught (in promise) TypeError: Failed to fetch'],
    ['Unhandled Promise Rejection: TypeError: Load failed'],
    ['uncaught exception: NetworkError when attempting to fetch resource.'],
    ['UnhandledRejection: Failed to fetch'],
  ])('a rejected promise is the same item as the thrown error: %s', (message) => {
    expect(fingerprintOf(message)).toBe(fingerprintOf('Failed to fetch'));
  });
});

describe('which reports go through the database', () => {
  it('grouping v1 ignores the browser database', () => {
    const first = groupOccurrence(onerror('gtag is not defined'), { groupingVersion: 1 });
    const second = groupOccurrence(onerror('fbq is not defined'), { groupingVersion: 1 });
    expect(first.method).toBe('trace');
    // v1 groups by class and frame, so two messages thrown at the same place are one item…
    expect(first.fingerprint).toBe(second.fingerprint);
    // …which v2 splits.
    expect(fingerprintOf('gtag is not defined', 2)).not.toBe(fingerprintOf('fbq is not defined', 2));
  });

  it('an unmatched message falls back to the default fingerprint', () => {
    const item = onerror('Widget failed to render');
    expect(groupOccurrence(item, { groupingVersion: 2 })).toEqual(
      groupOccurrence(item, { groupingVersion: 1 }),
    );
    expect(groupOccurrence(item, { groupingVersion: 2 }).method).toBe('trace');
  });

  it('a multi-frame trace uses the default fingerprint', () => {
    const item = itemDataSchema.parse({
      environment: 'production',
      platform: 'browser',
      body: {
        trace: {
          frames: [
            { filename: 'app.js', method: 'render' },
            { filename: 'app.js', method: 'loadUser' },
          ],
          exception: { class: 'ReferenceError', message: 'gtag is not defined' },
        },
      },
    });
    expect(groupOccurrence(item, { groupingVersion: 2 }).method).toBe('trace');
  });

  it('a single-frame error from a server language uses the default fingerprint', () => {
    const item = itemDataSchema.parse({
      environment: 'production',
      platform: 'linux',
      language: 'python',
      body: {
        trace: {
          frames: [{ filename: 'app.py' }],
          exception: { class: 'NameError', message: 'x is not defined' },
        },
      },
    });
    expect(groupOccurrence(item, { groupingVersion: 2 }).method).toBe('trace');
  });

  it('a report without frames still goes through the database', () => {
    const item = itemDataSchema.parse({
      environment: 'production',
      platform: 'browser',
      body: { trace_chain: [{ frames: [], exception: { class: 'Error', message: 'Script error.' } }] },
    });
    expect(groupOccurrence(item, { groupingVersion: 2 })).toEqual(
      groupOccurrence(onerror('Script error.'), { groupingVersion: 2 }),
    );
  });
});

describe('the last property name of an expression', () => {
  it.each([
    ['a.b.c', 'c'],
    ['this.props.onClick()', 'onClick'],
    ['(0 , _api.fetchUser)', 'fetchUser'],
    ['(0, _api.fetchUser)', 'fetchUser'],
    ['a["b"]', 'b'],
    ['rows[0]', '0'],
    ['a.b = 1', 'b'],
    ['Inventory.items[draggingItem.id].equip', 'equip'],
    ['a.b(...).c', 'c'],
    ['new Ys.HkdfSha256()', 'HkdfSha256'],
    ['gtag', 'gtag'],
  ])('%s → %s', (expression, name) => {
    expect(lastPropertyName(expression)).toBe(name);
  });
});
