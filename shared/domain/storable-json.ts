// Client JSON made safe to carry and store: nesting bounded, characters SQS refuses replaced, walked
// without recursion, so no payload a client can send overflows the stack of whatever walks it next.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Containers nested deeper than this are replaced by a marker string. No SDK sends more than a few
 * dozen levels; `JSON.stringify` and recursive walkers overflow the stack at a few thousand.
 */
export const MAX_NESTING_DEPTH = 100;

export const NESTING_CUT_MARKER = `[cut: nested deeper than ${MAX_NESTING_DEPTH} levels]`;

/**
 * What an SQS message body may hold (#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD |
 * #x10000–#x10FFFF). With the `u` flag an unpaired surrogate is one code point, outside every range.
 */
const NOT_CARRIED_BY_SQS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const REPLACEMENT_CHARACTER = '\uFFFD';

export interface JsonRewrite {
  /** Applied to every string value; returns the string to keep. */
  text?: (value: string) => string;
  /** Applied to every object key; returns the key to keep. */
  key?: (key: string) => string;
  /** Containers deeper than this become `cutMarker`; MAX_NESTING_DEPTH unless told. */
  maxDepth?: number;
  cutMarker?: string;
  /** Told each time a container is cut. */
  onCut?: () => void;
}

type Container = Json[] | { [key: string]: Json };

/** Sets an own property, even `__proto__`, which a plain assignment would turn into a prototype. */
function setEntry(target: Container, key: string | number, value: Json): void {
  if (Array.isArray(target)) target.push(value);
  else Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A copy of `root` with strings and keys rewritten and containers past `maxDepth` cut, built with an
 * explicit stack. Values JSON cannot hold (undefined, functions) are left out, as `JSON.stringify` does.
 */
export function rewriteJson(root: unknown, rewrite: JsonRewrite = {}): Json {
  const maxDepth = rewrite.maxDepth ?? MAX_NESTING_DEPTH;
  const marker = rewrite.cutMarker ?? NESTING_CUT_MARKER;
  const text = rewrite.text ?? ((value: string) => value);
  const key = rewrite.key ?? ((name: string) => name);
  const pending: Array<{ source: object; target: Container; depth: number }> = [];

  const convert = (value: unknown, depth: number): Json | undefined => {
    if (value === null || typeof value === 'boolean') return value;
    if (typeof value === 'number') return Number.isFinite(value) ? value : null;
    if (typeof value === 'string') return text(value);
    if (typeof value !== 'object') return undefined;
    if (depth > maxDepth) {
      rewrite.onCut?.();
      return marker;
    }
    const target: Container = Array.isArray(value) ? [] : {};
    pending.push({ source: value, target, depth });
    return target;
  };

  const result = convert(root, 1) ?? null;
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { source, target, depth } = next;
    if (Array.isArray(source)) {
      for (const entry of source) setEntry(target, 0, convert(entry, depth + 1) ?? null);
    } else {
      for (const [name, entry] of Object.entries(source)) {
        const converted = convert(entry, depth + 1);
        if (converted !== undefined) setEntry(target, key(name), converted);
      }
    }
  }
  return result;
}

export interface StorableJson {
  value: Json;
  /** How many characters SQS cannot carry were replaced with U+FFFD, in strings and keys. */
  replacedCharacters: number;
  /** Whether containers nested past MAX_NESTING_DEPTH were cut. */
  nestingCut: boolean;
}

/** Client JSON as SQS can carry it and any walker can read it. */
export function storableJson(root: unknown): StorableJson {
  let replacedCharacters = 0;
  let nestingCut = false;
  const replace = (value: string) =>
    value.replace(NOT_CARRIED_BY_SQS, () => {
      replacedCharacters++;
      return REPLACEMENT_CHARACTER;
    });
  const value = rewriteJson(root, {
    text: replace,
    key: replace,
    onCut: () => {
      nestingCut = true;
    },
  });
  return { value, replacedCharacters, nestingCut };
}

/** Whether every character of `text` can travel in an SQS message. */
export function carriedBySqs(text: string): boolean {
  NOT_CARRIED_BY_SQS.lastIndex = 0;
  const found = NOT_CARRIED_BY_SQS.test(text);
  NOT_CARRIED_BY_SQS.lastIndex = 0;
  return !found;
}
