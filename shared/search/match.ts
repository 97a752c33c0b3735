// Whether an item matches a parsed query: the DynamoDB engine's evaluation of candidates, and the
// re-check of every engine's candidates against the items table. Plain logic, no AWS.
import { emptyFacets, type FacetName, type Facets, type SearchDocument } from './document';
import { QUALIFIER_MATCH, type SearchQuery, type SearchTerm, type TextQualifier } from './query';

/** What a query is evaluated on: an item's document and its facets. */
export interface SearchSubject {
  document: SearchDocument;
  facets: Facets;
}

export interface MatchOptions {
  /**
   * The document's `last_seen` was rounded down to this step (an index's document): the item matches
   * when any time in `[last_seen, last_seen + step)` would. Default 1 (an exact time).
   */
  lastSeenStep?: number;
}

/** The facet a text qualifier reads; the others read the document alone. */
const FACET_OF: Partial<Record<TextQualifier, FacetName>> = {
  host: 'hosts',
  context: 'contexts',
  file: 'files',
  code_version: 'code_versions',
  person: 'person_ids',
  username: 'usernames',
  email: 'emails',
};

/**
 * Facet values lower-cased, each facet at most once per call and only when a term reads it, into
 * lists reused from call to call (the DynamoDB engine runs this over 20,000 documents per query;
 * a call never awaits, so no other call can interleave).
 */
const LOWERED: Record<FacetName, string[]> = emptyFacets();
const LOWERED_IN_CALL: Record<FacetName, number> = {
  hosts: 0,
  contexts: 0,
  files: 0,
  code_versions: 0,
  person_ids: 0,
  usernames: 0,
  emails: 0,
};
let call = 0;

/** Whether the item matches every term (a negated term: does not match it). */
export function matchesQuery(
  query: SearchQuery,
  subject: SearchSubject,
  options: MatchOptions = {},
): boolean {
  const step = wholeStep(options.lastSeenStep);
  call += 1;
  for (const term of cheapestFirst(query.terms)) {
    if (term.kind === 'date' && term.field === 'last_seen' && step > 1) {
      if (!lastSeenMayHold(term, subject.document.last_seen, step)) return false;
      continue;
    }
    const holds =
      term.kind === 'text'
        ? textHolds(term.qualifier, term.value, subject)
        : termHolds(term, subject.document);
    if (holds === term.negated) return false;
  }
  return true;
}

/**
 * A query's terms, those that compare one field first: every term must hold, so most items are
 * turned down before their tokens and facets are read. Ordered once per query (a parsed query is
 * never changed), not per item.
 */
const ORDERED = new WeakMap<readonly SearchTerm[], readonly SearchTerm[]>();

function cheapestFirst(terms: readonly SearchTerm[]): readonly SearchTerm[] {
  let ordered = ORDERED.get(terms);
  if (ordered === undefined) {
    ordered = [...terms].sort((a, b) => cost(a) - cost(b));
    ORDERED.set(terms, ordered);
  }
  return ordered;
}

function cost(term: SearchTerm): number {
  if (term.kind === 'word' || term.kind === 'phrase') return 1;
  if (term.kind === 'text' && FACET_OF[term.qualifier] !== undefined) return 2;
  return 0;
}

function wholeStep(step: number | undefined): number {
  return step !== undefined && Number.isFinite(step) && step > 1 ? Math.floor(step) : 1;
}

function termHolds(term: Exclude<SearchTerm, { kind: 'text' }>, document: SearchDocument): boolean {
  switch (term.kind) {
    case 'word':
      return someIncludes(document.tokens, term.value);
    case 'phrase':
      return document.title.includes(term.value);
    case 'level':
      return document.level === term.value;
    case 'status':
      return document.status === term.value;
    case 'counter':
      return document.counter === term.value;
    case 'date': {
      const time = document[term.field];
      return term.op === '>' ? time > term.value : time < term.value;
    }
  }
}

/**
 * A rounded last-seen time stands for any whole second in `[last_seen, last_seen + step)`: the term
 * (negated or not) holds when it holds for one of them, so a candidate filter never drops an item
 * whose exact time matches. The re-check against the items table then uses the exact time.
 */
function lastSeenMayHold(
  term: Extract<SearchTerm, { kind: 'date' }>,
  lastSeen: number,
  step: number,
): boolean {
  const earliest = lastSeen;
  const latest = lastSeen + step - 1;
  if (term.op === '>') return term.negated ? earliest <= term.value : latest > term.value;
  return term.negated ? latest >= term.value : earliest < term.value;
}

function textHolds(qualifier: TextQualifier, value: string, subject: SearchSubject): boolean {
  const { document } = subject;
  switch (qualifier) {
    case 'environment':
      return document.environment === value;
    case 'framework':
      return document.framework === value;
    case 'fingerprint':
      return document.fingerprint === value;
    case 'code_version':
      if (document.code_version?.toLowerCase().startsWith(value)) return true;
      break;
    default:
      break;
  }
  const facet = FACET_OF[qualifier];
  if (facet === undefined) return false;
  const values = loweredFacet(subject.facets, facet);
  switch (QUALIFIER_MATCH[qualifier]) {
    case 'exact':
      return values.includes(value);
    case 'prefix':
      return someStartsWith(values, value);
    case 'contains':
      return someIncludes(values, value);
  }
}

function loweredFacet(facets: Facets, facet: FacetName): string[] {
  const values = LOWERED[facet];
  if (LOWERED_IN_CALL[facet] !== call) {
    values.length = 0;
    // A facets row written before a facet existed lacks it: no values, rather than a 500.
    for (const value of facets[facet] ?? []) values.push(value.toLowerCase());
    LOWERED_IN_CALL[facet] = call;
  }
  return values;
}

function someIncludes(values: readonly string[], part: string): boolean {
  for (const value of values) if (value.includes(part)) return true;
  return false;
}

function someStartsWith(values: readonly string[], start: string): boolean {
  for (const value of values) if (value.startsWith(start)) return true;
  return false;
}
