// A parsed search (`#shared/search/query`) as OpenSearch's query DSL, meaning what
// `#shared/search/match` means, on the fields of `./template`. Plain data, no client.
import { LAST_SEEN_STEP_SECONDS } from '#shared/search/document';
import { QUALIFIER_MATCH, type SearchQuery, type SearchTerm, type TextQualifier } from '#shared/search/query';

/** A query DSL clause: plain JSON. */
export type QueryClause = Record<string, unknown>;

/** The `_search` request body for a project's candidates. */
export interface CandidatesRequest {
  query: { bool: { filter: QueryClause[]; must_not: QueryClause[] } };
  sort: QueryClause[];
  size: number;
  _source: string[];
  track_total_hits: false;
}

/** Where each text qualifier looks: an item's own field and/or the values its occurrences carried. */
export const QUALIFIER_FIELDS: Readonly<Record<TextQualifier, readonly string[]>> = {
  environment: ['environment'],
  framework: ['framework'],
  fingerprint: ['fingerprint'],
  host: ['facets.hosts'],
  context: ['facets.contexts'],
  file: ['facets.files'],
  // The last occurrence's version is the document's; older ones are among the facets.
  code_version: ['code_version', 'facets.code_versions'],
  person: ['facets.person_ids'],
  username: ['facets.usernames'],
  email: ['facets.emails'],
};

/** Escapes what a wildcard pattern reads as operators, so `*`, `?` and `\` typed match themselves. */
export function escapeWildcard(value: string): string {
  return value.replace(/[\\*?]/g, (character) => `\\${character}`);
}

const contains = (field: string, value: string): QueryClause => ({
  wildcard: { [field]: { value: `*${escapeWildcard(value)}*` } },
});

/** One clause per field, or a `should` of them when the value may be in either. */
const anyField = (fields: readonly string[], clause: (field: string) => QueryClause): QueryClause =>
  fields.length === 1
    ? clause(fields[0]!)
    : { bool: { should: fields.map(clause), minimum_should_match: 1 } };

function textClause(qualifier: TextQualifier, value: string): QueryClause {
  const fields = QUALIFIER_FIELDS[qualifier];
  switch (QUALIFIER_MATCH[qualifier]) {
    case 'exact':
      return anyField(fields, (field) => ({ term: { [field]: value } }));
    case 'prefix':
      return anyField(fields, (field) => ({ prefix: { [field]: value } }));
    case 'contains':
      return anyField(fields, (field) => contains(field, value));
  }
}

/**
 * The clause a term asks for. The index rounds `last_seen` down to `LAST_SEEN_STEP_SECONDS`, so an
 * item's true time is in `[last_seen, last_seen + step)`: a term is widened to every item that may
 * match (`widen`, for terms that must match), or narrowed to those that surely match (for negated
 * terms, which exclude). The search service re-checks every candidate against the items table.
 */
function clauseOf(term: SearchTerm, widen: boolean): QueryClause {
  switch (term.kind) {
    case 'word':
      return contains('tokens', term.value);
    case 'phrase':
      // The stored title is lower-cased: a wildcard on its keyword means "inside the title", as the
      // matcher does, where match_phrase would mean "these analyzed tokens in a row".
      return contains('title.keyword', term.value);
    case 'level':
      return { term: { level: term.value } };
    case 'status':
      return { term: { status: term.value } };
    case 'text':
      return textClause(term.qualifier, term.value);
    case 'counter':
      return { term: { counter: term.value } };
    case 'date': {
      const step = term.field === 'last_seen' ? LAST_SEEN_STEP_SECONDS : 0;
      const bound =
        term.op === '>'
          ? { gt: widen ? term.value - step : term.value }
          : widen || step === 0
            ? { lt: term.value }
            : // Surely before: even the end of its step is not after the date.
              { lte: term.value - step };
      return { range: { [term.field]: { ...bound, format: 'epoch_second' } } };
    }
  }
}

/**
 * The `_search` body of a project's candidates: every term a filter (negated ones `must_not`), newest
 * activity first (the index's last-seen, then item id), one more than `limit` to know there are more.
 */
export function candidatesRequest(projectId: number, query: SearchQuery, limit: number): CandidatesRequest {
  const filter: QueryClause[] = [{ term: { project_id: projectId } }];
  const mustNot: QueryClause[] = [];
  for (const term of query.terms) {
    if (term.negated) mustNot.push(clauseOf(term, false));
    else filter.push(clauseOf(term, true));
  }
  return {
    query: { bool: { filter, must_not: mustNot } },
    sort: [{ last_seen: { order: 'desc' } }, { item_id: { order: 'desc' } }],
    size: limit + 1,
    _source: ['item_id', 'last_seen', 'facets'],
    track_total_hits: false,
  };
}

/** The `_count` body of a project's documents (documents whose facets came first hold no project id). */
export function projectDocumentsQuery(projectId: number): { query: QueryClause } {
  return { query: { bool: { filter: [{ term: { project_id: projectId } }] } } };
}

/** The `_search` body of a page of the plain listing: the project's numbered items, highest counter first. */
export function itemsByCounterRequest(
  projectId: number,
  options: { limit: number; below?: number },
): { query: QueryClause; sort: QueryClause[]; size: number; _source: string[]; track_total_hits: false } {
  const filter: QueryClause[] = [
    { term: { project_id: projectId } },
    { range: { counter: options.below === undefined ? { gte: 1 } : { gte: 1, lt: options.below } } },
  ];
  return {
    query: { bool: { filter } },
    sort: [{ counter: { order: 'desc' } }, { item_id: { order: 'desc' } }],
    size: options.limit + 1,
    _source: ['item_id', 'counter'],
    track_total_hits: false,
  };
}

/** The `_search` body that finds the project's item numbered `counter`. */
export function itemOfCounterRequest(
  projectId: number,
  counter: number,
): { query: QueryClause; size: number; _source: string[]; track_total_hits: false } {
  return {
    query: { bool: { filter: [{ term: { project_id: projectId } }, { term: { counter } }] } },
    size: 1,
    _source: ['item_id', 'counter'],
    track_total_hits: false,
  };
}
