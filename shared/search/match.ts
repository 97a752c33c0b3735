// Whether an item matches a parsed query: the DynamoDB engine's evaluation of candidates, and the
// re-check of every engine's candidates against the items table. Plain logic, no AWS.
import type { Facets, SearchDocument } from './document';
import type { SearchQuery } from './query';

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

export function matchesQuery(query: SearchQuery, subject: SearchSubject, options: MatchOptions = {}): boolean {
  throw new Error(`not implemented yet: ${query.terms.length} ${subject.document.item_id} ${options.lastSeenStep}`);
}
