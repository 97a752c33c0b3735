// One search interface, two engines: DynamoDB (`#shared/store/search-index`, the default) and
// OpenSearch (`./opensearch/engine`, with `-c search=opensearch`). The indexer writes through it;
// the search service (`./service`) asks it for candidates and re-checks them against the items table.
import type { Facets, SearchDocument } from './document';
import type { SearchQuery } from './query';

/** One item the index says matches, with the facets it holds for it (the re-check needs them). */
export interface SearchCandidate {
  item_id: number;
  /** The index's last-seen time (rounded down to its step): candidates come newest first by it. */
  last_seen: number;
  facets: Facets;
}

export interface SearchCandidates {
  /** Newest activity first (index's last-seen, then item id, both descending); at most `limit`. */
  candidates: SearchCandidate[];
  /** More candidates match beyond `limit`. */
  more: boolean;
}

/** An item as the index holds it: its document and its facets. */
export interface SearchEntry {
  document: SearchDocument;
  facets: Facets;
}

/**
 * Three writes, each an idempotent upsert by project and item id: an item's whole entry (what the
 * indexer writes when the document changes: one row, one write, on DynamoDB), or one part of it,
 * the other kept as the index holds it (the indexer's new facets of an unchanged document; a
 * document alone for callers that hold no facets, such as tests seeding an index).
 */
export interface SearchIndexWriter {
  /** Writes each item's document and facets together, whole (the indexer merged the facets first). */
  putEntries(entries: SearchEntry[]): Promise<void>;
  /** Writes each document whole; the item's facets stay as the index holds them. */
  putDocuments(documents: SearchDocument[]): Promise<void>;
  /** The facets the index holds for these items (empty facets for an item it holds none for). */
  readFacets(projectId: number, itemIds: number[]): Promise<Map<number, Facets>>;
  /** Writes each item's facets whole (the indexer merged them first); its document stays as held. */
  putFacets(projectId: number, entries: Array<{ item_id: number; facets: Facets }>): Promise<void>;
}

export interface SearchIndexReader {
  /**
   * The project's items the index says match, newest activity first. An engine may be lenient on
   * `last_seen:` (its times are rounded down to a step) but never misses an item its documents match.
   */
  candidates(projectId: number, query: SearchQuery, options: { limit: number }): Promise<SearchCandidates>;
  /** How many items of the project the index holds (`search status`). */
  countDocuments(projectId: number): Promise<number>;
  /**
   * The plain item listing (`GET /api/1/items` without a query): the project's numbered items,
   * highest counter first, those below `below` when it is given, at most `limit`. The items table
   * has no index of its own by counter: the search index is the listing's.
   */
  itemsByCounter(projectId: number, options: { limit: number; below?: number }): Promise<CounterPage>;
  /** The id of the project's item numbered `counter` (`item_by_counter`), or undefined. */
  itemIdOfCounter(projectId: number, counter: number): Promise<number | undefined>;
}

/** A page of a project's items by counter, highest first. */
export interface CounterPage {
  items: Array<{ item_id: number; counter: number }>;
  /** More items follow below the page's last counter. */
  more: boolean;
}

export type SearchEngine = SearchIndexWriter & SearchIndexReader;

export type SearchEngineName = 'dynamodb' | 'opensearch';
