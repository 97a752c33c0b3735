// Client JSON made safe to carry and store: nesting bounded, characters SQS refuses replaced, and
// no walk that a deep payload can overflow.
import { describe, expect, it } from 'vitest';
import {
  carriedBySqs,
  MAX_NESTING_DEPTH,
  NESTING_CUT_MARKER,
  rewriteJson,
  storableJson,
} from '#shared/domain/storable-json';

/** `{ a: { a: … { a: leaf } } }` with `depth` objects. */
function nested(depth: number, leaf: unknown = 'leaf'): unknown {
  let value: unknown = leaf;
  for (let level = 0; level < depth; level++) value = { a: value };
  return value;
}

/** How many objects deep the value goes, and what is at the bottom. */
function bottom(value: unknown): { depth: number; leaf: unknown } {
  let depth = 0;
  let current = value;
  while (current !== null && typeof current === 'object') {
    current = (current as { a: unknown }).a;
    depth++;
  }
  return { depth, leaf: current };
}

describe('nesting', () => {
  it(`is kept up to ${MAX_NESTING_DEPTH} levels`, () => {
    const { value, nestingCut } = storableJson(nested(MAX_NESTING_DEPTH));
    expect(bottom(value)).toEqual({ depth: MAX_NESTING_DEPTH, leaf: 'leaf' });
    expect(nestingCut).toBe(false);
  });

  it('deeper is cut with a marker that says so, and told', () => {
    const { value, nestingCut } = storableJson(nested(MAX_NESTING_DEPTH + 1));
    expect(bottom(value)).toEqual({ depth: MAX_NESTING_DEPTH, leaf: NESTING_CUT_MARKER });
    expect(nestingCut).toBe(true);
  });

  it('of 100,000 levels, in objects or lists, is read without overflowing the stack', () => {
    let list: unknown = 'leaf';
    for (let level = 0; level < 100_000; level++) list = [list];
    expect(() => storableJson(nested(100_000))).not.toThrow();
    expect(JSON.stringify(storableJson(list).value)).toContain(NESTING_CUT_MARKER);
  });
});

describe('characters', () => {
  it('that SQS cannot carry become U+FFFD, in values and keys, and are counted', () => {
    const { value, replacedCharacters } = storableJson({
      'k\uFFFE': ['a\uFFFFb', 'c\uD800d', 'e\u0001f', 'tab\tline\ncr\r', 'emoji 😀'],
    });
    expect(value).toEqual({ 'k\uFFFD': ['a\uFFFDb', 'c\uFFFDd', 'e\uFFFDf', 'tab\tline\ncr\r', 'emoji 😀'] });
    expect(replacedCharacters).toBe(4);
  });

  it('are judged one by one: a pair of surrogates is carried, either half alone is not', () => {
    expect(carriedBySqs('😀 \t\n\r\uE000\uFFFD')).toBe(true);
    for (const text of ['\uD83D', '\uDE00', 'a\uFFFE', '\u0000', '\u001F'])
      expect(carriedBySqs(text)).toBe(false);
    // The shared expression keeps no position between calls.
    expect(carriedBySqs('\uD83D')).toBe(false);
    expect(carriedBySqs('ok')).toBe(true);
  });
});

describe('a copy', () => {
  it('keeps a key named __proto__ as data, not as a prototype', () => {
    const copy = rewriteJson(JSON.parse('{"__proto__":{"polluted":true}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves out what JSON cannot hold, as JSON.stringify does, and writes non-finite numbers as null', () => {
    expect(
      rewriteJson({ a: undefined, f: () => 1, n: Number.NaN, i: Number.POSITIVE_INFINITY, l: [undefined] }),
    ).toEqual({
      n: null,
      i: null,
      l: [null],
    });
  });

  it('rewrites every string and key it is given to', () => {
    expect(
      rewriteJson(
        { Name: ['Ada', { Role: 'x' }] },
        { text: (t) => t.toUpperCase(), key: (k) => k.toLowerCase() },
      ),
    ).toEqual({ name: ['ADA', { role: 'X' }] });
  });
});
