// The facets one occurrence carries (its host, context, files, code version and person), read from
// its Rollbar `data` for the search index. Plain logic, no AWS. Payloads are client input: every
// field is checked for its type, and long lists are read only as far as the facets need.
import { emptyFacets, FACET_LIMITS, type FacetName, type Facets, MAX_FACET_VALUE_CHARS } from './document';

/** Traces read of one occurrence: `body.trace`, then the first of `body.trace_chain`. */
export const MAX_TRACES_READ = 10;
/**
 * Frames read of one occurrence, over all its traces, most recent call first. Stored payloads keep
 * the first and last 20 frames of a trace; this bounds what a hostile one costs.
 */
export const MAX_FRAMES_READ = 200;

type Json = Record<string, unknown>;

const objectOr = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;

/** A value worth indexing: a string with something other than spaces in it. */
const textOf = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/** Its first characters, never ending on half of a surrogate pair. */
function keepStart(value: string): string {
  if (value.length <= MAX_FACET_VALUE_CHARS) return value;
  const cut = value.slice(0, MAX_FACET_VALUE_CHARS);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** Its last characters (a path's file name), never starting on half of a surrogate pair. */
function keepEnd(value: string): string {
  if (value.length <= MAX_FACET_VALUE_CHARS) return value;
  const cut = value.slice(-MAX_FACET_VALUE_CHARS);
  return /^[\uDC00-\uDFFF]/.test(cut) ? cut.slice(1) : cut;
}

/** The traces of a body: `trace` first, then `trace_chain`'s in the order the client sent them. */
function tracesOf(body: Json | undefined): Json[] {
  if (!body) return [];
  const traces: Json[] = [];
  const trace = objectOr(body.trace);
  if (trace) traces.push(trace);
  const chain = Array.isArray(body.trace_chain) ? body.trace_chain : [];
  for (let index = 0; index < Math.min(chain.length, MAX_TRACES_READ); index++) {
    const link = objectOr(chain[index]);
    if (link) traces.push(link);
  }
  return traces.slice(0, MAX_TRACES_READ);
}

/** The frames' file names, most recent call first (Rollbar lists a trace's frames most recent last). */
function filesOf(body: Json | undefined): string[] {
  const files = new Set<string>();
  let read = 0;
  for (const trace of tracesOf(body)) {
    const frames = Array.isArray(trace.frames) ? trace.frames : [];
    for (let index = frames.length - 1; index >= 0; index--) {
      if (read >= MAX_FRAMES_READ || files.size >= FACET_LIMITS.files) return [...files];
      read++;
      const file = textOf(objectOr(frames[index])?.filename);
      if (file) files.add(keepEnd(file));
    }
  }
  return [...files];
}

/** `code_version`, else the server's, else the browser client's (where rollbar.js puts it). */
function codeVersionOf(data: Json): string | undefined {
  const client = objectOr(objectOr(data.client)?.javascript);
  return (
    textOf(data.code_version) ?? textOf(objectOr(data.server)?.code_version) ?? textOf(client?.code_version)
  );
}

/** A person's id as the index keeps it: text, and numbers as text (older payloads sent numbers). */
function personIdOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return textOf(value);
}

/** What one occurrence's `data` gives each facet: non-empty text only, each list once per value, bounded. */
export function facetsOfOccurrence(data: unknown): Facets {
  const facets = emptyFacets();
  const root = objectOr(data);
  if (!root) return facets;
  const person = objectOr(root.person);
  const single: Array<[FacetName, string | undefined]> = [
    ['hosts', textOf(objectOr(root.server)?.host)],
    ['contexts', textOf(root.context)],
    ['code_versions', codeVersionOf(root)],
    ['person_ids', personIdOf(person?.id)],
    ['usernames', textOf(person?.username)],
    ['emails', textOf(person?.email)],
  ];
  for (const [name, value] of single) {
    if (value !== undefined) facets[name] = [keepStart(value)];
  }
  facets.files = filesOf(objectOr(root.body));
  return facets;
}
