// Whether an event passes a rule's filters, with Rollbar's types and operations. Plain logic, no AWS.
//
// Regexes are the user's: they run in re2js (RE2, linear time in the input), compiled once per
// pattern and cached; one that does not compile never matches. Every text a filter reads is cut to
// MATCH_TEXT_LIMIT characters first, so a rule costs a bounded time per event whatever it says.
import { RE2JS } from 're2js';
import { isLevel, levelRank } from '#shared/domain/levels';
import type { NotifiedDeploy, NotifiedItem, RuleFilter } from '../model';
import { PATTERN_TEXT_LIMIT, patternProblem } from '../patterns';

/** Filters read at most this many characters of a field (a title is ≤ 255; a payload value may be long). */
export const MATCH_TEXT_LIMIT = 10_000;
/** Compiled patterns kept per container; the oldest is forgotten first. */
const PATTERN_CACHE_SIZE = 1_000;

/** What filters look at. `occurrence` is the last occurrence's `data`: undefined until it is read, null when there is none. */
export interface FilterSubject {
  item?: NotifiedItem;
  deploy?: NotifiedDeploy;
  occurrence?: Record<string, unknown> | null;
}

/** `needs_occurrence`: nothing failed yet, and a filter must read the last occurrence to decide. */
export type FilterVerdict = 'match' | 'no_match' | 'needs_occurrence';

/** The filters that read the last occurrence's payload rather than the item. */
export function readsOccurrence(filter: RuleFilter): boolean {
  return (
    filter.type === 'path' ||
    filter.type === 'filename' ||
    filter.type === 'method' ||
    filter.type === 'context'
  );
}

export interface FilterMatcherOptions {
  /** Told once per pattern that does not compile (the rule then never matches on it). */
  onInvalidPattern?: (pattern: string, error: unknown) => void;
}

export class FilterMatcher {
  private readonly patterns = new Map<string, RE2JS | null>();

  constructor(private readonly options: FilterMatcherOptions = {}) {}

  /** All filters must pass (Rollbar's rules AND their filters). */
  evaluate(filters: readonly RuleFilter[], subject: FilterSubject): FilterVerdict {
    let unknown = false;
    for (const filter of filters) {
      if (readsOccurrence(filter) && subject.occurrence === undefined) {
        unknown = true;
        continue;
      }
      if (!this.passes(filter, subject)) return 'no_match';
    }
    return unknown ? 'needs_occurrence' : 'match';
  }

  private passes(filter: RuleFilter, subject: FilterSubject): boolean {
    const { item, deploy } = subject;
    const data = subject.occurrence ?? undefined;
    switch (filter.type) {
      case 'environment':
        return this.compare(filter.operation, item?.environment ?? deploy?.environment, filter.value);
      case 'level': {
        const level = item?.level;
        if (!isLevel(level)) return false;
        return filter.operation === 'eq'
          ? level === filter.value
          : levelRank(level) >= levelRank(filter.value);
      }
      case 'title':
        return this.compare(filter.operation, item?.title, filter.value);
      case 'filename':
        return this.compare(filter.operation, topFrameOf(data)?.filename, filter.value);
      case 'method':
        return this.compare(filter.operation, topFrameOf(data)?.method, filter.value);
      case 'context':
        return this.compare(filter.operation, scalarText(data?.context), filter.value);
      case 'framework':
        return this.compare(filter.operation, item?.framework ?? undefined, filter.value);
      case 'path':
        return this.comparePath(filter.operation, valueAtPath(data, filter.path), filter.value);
      case 'unique_occurrences':
        return (item?.total_occurrences ?? 0) >= filter.value;
      case 'rate':
        // The trigger's own setting (`occurrence_rate`), not a condition on the event.
        return true;
      case 'comment':
        return this.compare(filter.operation, deploy?.comment ?? undefined, filter.value);
    }
  }

  /**
   * Text operations. A field the event does not have matches no positive operation (eq, within,
   * regex, startswith) and every negative one (neq, nwithin, nregex).
   */
  private compare(operation: string, field: string | undefined, value: string | undefined): boolean {
    const wanted = value ?? '';
    const text = field === undefined ? undefined : field.slice(0, MATCH_TEXT_LIMIT);
    switch (operation) {
      case 'eq':
        return text !== undefined && text === wanted;
      case 'neq':
        return text === undefined || text !== wanted;
      case 'within':
        return text?.includes(wanted) === true;
      case 'nwithin':
        return text === undefined || !text.includes(wanted);
      case 'startswith':
        return text?.startsWith(wanted) === true;
      case 'regex':
        return text !== undefined && this.search(wanted, text);
      case 'nregex': {
        // An invalid pattern matches nothing either way: the rule stays quiet rather than firing on everything.
        if (!this.compiled(wanted)) return false;
        return text === undefined || !this.search(wanted, text);
      }
      default:
        return false;
    }
  }

  private comparePath(operation: string, found: unknown, value: string | undefined): boolean {
    if (operation === 'exists') return found !== undefined && found !== null;
    if (operation === 'nexists') return found === undefined || found === null;
    const text = scalarText(found);
    if (operation === 'gte' || operation === 'lte') {
      const number = typeof found === 'number' ? found : text === undefined ? Number.NaN : Number(text);
      const bound = Number(value);
      if (!Number.isFinite(number) || value === undefined || value.trim() === '' || !Number.isFinite(bound))
        return false;
      return operation === 'gte' ? number >= bound : number <= bound;
    }
    return this.compare(operation, text, value);
  }

  private search(pattern: string, text: string): boolean {
    const compiled = this.compiled(pattern);
    return compiled ? compiled.test(text.slice(0, PATTERN_TEXT_LIMIT)) : false;
  }

  private compiled(pattern: string): RE2JS | null {
    const cached = this.patterns.get(pattern);
    if (cached !== undefined) return cached;
    let compiled: RE2JS | null;
    try {
      // A pattern saved before today's limits, or written around the API, is not run either.
      const problem = patternProblem(pattern);
      if (problem) throw new Error(`pattern ${problem}`);
      compiled = RE2JS.compile(pattern);
    } catch (error) {
      compiled = null;
      this.options.onInvalidPattern?.(pattern, error);
    }
    if (this.patterns.size >= PATTERN_CACHE_SIZE) {
      const oldest = this.patterns.keys().next().value;
      if (oldest !== undefined) this.patterns.delete(oldest);
    }
    this.patterns.set(pattern, compiled);
    return compiled;
  }
}

/** Numbers and booleans compare as their text; objects, arrays and null have none. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The value at a dotted path in the occurrence's data (`body.trace.exception.class`; array elements
 * by index, `body.trace_chain.0.exception.class`). Own properties only: `__proto__` or
 * `constructor` in a path finds nothing.
 */
export function valueAtPath(data: Record<string, unknown> | undefined, path: string): unknown {
  let current: unknown = data;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * The frame that raised the last occurrence's error: the last frame of `body.trace`, or of the
 * first trace of `body.trace_chain` (Rollbar lists the outermost exception first, frames oldest first).
 */
export function topFrameOf(
  data: Record<string, unknown> | undefined,
): { filename?: string; method?: string } | undefined {
  const body = asObject(data?.body);
  const chain = Array.isArray(body?.trace_chain) ? body.trace_chain : undefined;
  const trace = asObject(body?.trace) ?? asObject(chain?.[0]);
  const frames = Array.isArray(trace?.frames) ? trace.frames : undefined;
  const frame = asObject(frames?.at(-1));
  if (!frame) return undefined;
  return {
    filename: typeof frame.filename === 'string' ? frame.filename : undefined,
    method: typeof frame.method === 'string' ? frame.method : undefined,
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
