// The search service: a project's items that match what a user typed, newest activity first, a page
// at a time, and the plain listing by counter. The engine proposes candidates; each is re-checked
// against the items table, so a lagging index never shows a stale status, level or count. Behind
// `GET /api/1/items` (with or without `query=`), `item_by_counter` and the CLI.
import type { Level } from '#shared/domain/levels';
import { ValidationError } from '#shared/errors';
import type { ItemRecord, ItemStatus } from '#shared/items/item';
import type { ItemRepository } from '#shared/store/items';
import { documentOf, LAST_SEEN_STEP_SECONDS } from './document';
import type { SearchCandidate, SearchIndexReader } from './engine';
import { matchesQuery } from './match';
import { parseSearchQuery, type SearchQuery, type SearchTerm } from './query';

/** Items a page, as the item listing's. */
export const SEARCH_PAGE_SIZE = 100;
/**
 * Candidates asked beyond the ones a page needs: room for what the re-check drops (an item resolved
 * or changed since it was indexed) and for the items seen within the last step of the page's
 * boundary, whose exact order only the items table knows.
 */
const CANDIDATE_MARGIN = 20;
/**
 * Candidates re-checked beyond a page's end at most. A project whose items all changed since they were
 * indexed, or whose hundreds of items were all seen within the same 10 minutes, stops here: its page
 * may then miss an item or order one approximately instead of reading the whole project's items.
 */
const MAX_EXTRA_CANDIDATES = 1_000;
/**
 * Pages of a search at most. Every item before a page's end is re-checked (a consistent read each),
 * so page 100 reads 10,000 items: deeper pages would let one request read a whole project's items.
 */
export const MAX_SEARCH_PAGE = 100;
/** Items re-checked by one BatchGetItem, and such reads in flight at once. */
const RECHECK_BATCH = 100;
const RECHECKS_IN_FLIGHT = 8;

export interface SearchParameters {
  /** What the user typed (Rollbar's syntax, `#shared/search/query`). */
  query: string;
  /** The API's separate filters: each is one more term (all must hold). */
  status?: ItemStatus;
  level?: Level;
  environment?: string;
  framework?: string;
  /** From 1. */
  page: number;
}

export interface SearchResults {
  /** The page's items as the items table holds them now, newest last occurrence first. */
  items: ItemRecord[];
  page: number;
  /** More items match beyond this page (or may: see `MAX_EXTRA_CANDIDATES`). */
  more: boolean;
}

/** The plain listing's filters (`GET /api/1/items` without a query), each compared with the item row. */
export interface ListingParameters {
  status?: ItemStatus;
  level?: Level;
  environment?: string;
  framework?: string;
  /** From 1. */
  page: number;
}

/**
 * Entries a filtered listing asks the index for at first; then as many as the items still wanted at
 * the rate they passed so far, up to `MAX_LISTING_READ`: the filters are the item rows', so the index
 * cannot tell how many pass.
 */
const FIRST_LISTING_READ = SEARCH_PAGE_SIZE;
const MAX_LISTING_READ = 1_000;

export interface SearchServiceDeps {
  engine: SearchIndexReader;
  items: ItemRepository;
}

export type SearchService = ReturnType<typeof createSearchService>;

/** The query with the separate filters added as terms. Throws `ValidationError` (422) on bad syntax. */
export function searchQueryOf(parameters: Omit<SearchParameters, 'page'>): SearchQuery {
  const parsed = parseSearchQuery(parameters.query);
  const filters: SearchTerm[] = [];
  if (parameters.status !== undefined)
    filters.push({ kind: 'status', value: parameters.status, negated: false });
  if (parameters.level !== undefined)
    filters.push({ kind: 'level', value: parameters.level, negated: false });
  // As the qualifiers compare them: environments and frameworks as stored (case matters).
  if (parameters.environment !== undefined)
    filters.push({ kind: 'text', qualifier: 'environment', value: parameters.environment, negated: false });
  if (parameters.framework !== undefined)
    filters.push({ kind: 'text', qualifier: 'framework', value: parameters.framework, negated: false });
  return { terms: [...parsed.terms, ...filters] };
}

/** Newest last occurrence first, then the higher id: the order of results and of candidates. */
const newestFirst = (a: ItemRecord, b: ItemRecord) =>
  b.last_occurrence_timestamp - a.last_occurrence_timestamp || b.id - a.id;

export function createSearchService(deps: SearchServiceDeps) {
  /**
   * Each candidate's item as it is now, read once per search (consistently: an item resolved a moment
   * ago must not show as active), or null when it no longer matches, is gone or is another project's.
   */
  async function recheck(
    projectId: number,
    query: SearchQuery,
    candidates: SearchCandidate[],
    checked: Map<number, ItemRecord | null>,
  ): Promise<void> {
    const unchecked = candidates.filter((candidate) => !checked.has(candidate.item_id));
    const batches: number[][] = [];
    for (let at = 0; at < unchecked.length; at += RECHECK_BATCH) {
      batches.push(unchecked.slice(at, at + RECHECK_BATCH).map((candidate) => candidate.item_id));
    }
    const items = new Map<number, ItemRecord>();
    for (let at = 0; at < batches.length; at += RECHECKS_IN_FLIGHT) {
      const reads = await Promise.all(
        batches
          .slice(at, at + RECHECKS_IN_FLIGHT)
          .map((ids) => deps.items.getMany(ids, { consistent: true })),
      );
      for (const read of reads) for (const [id, item] of read) items.set(id, item);
    }
    for (const candidate of unchecked) {
      const item = items.get(candidate.item_id);
      const passes =
        item !== undefined &&
        item.project_id === projectId &&
        // The exact last-seen time, and the facets the index holds (the items table has none).
        matchesQuery(query, { document: documentOf(item), facets: candidate.facets });
      checked.set(candidate.item_id, passes ? item : null);
    }
  }

  async function search(projectId: number, parameters: SearchParameters): Promise<SearchResults> {
    if (!Number.isSafeInteger(parameters.page) || parameters.page < 1 || parameters.page > MAX_SEARCH_PAGE) {
      throw new ValidationError(
        `page: a search shows pages 1 to ${MAX_SEARCH_PAGE} (${MAX_SEARCH_PAGE * SEARCH_PAGE_SIZE} items); narrow the query to see more`,
      );
    }
    const query = searchQueryOf(parameters);
    const wanted = parameters.page * SEARCH_PAGE_SIZE;
    const checked = new Map<number, ItemRecord | null>();
    let limit = wanted + CANDIDATE_MARGIN;
    for (;;) {
      const { candidates, more } = await deps.engine.candidates(projectId, query, { limit });
      await recheck(projectId, query, candidates, checked);
      const passing = candidates
        .map((candidate) => checked.get(candidate.item_id))
        .filter((item): item is ItemRecord => item !== null && item !== undefined)
        .sort(newestFirst);
      const page = passing.slice(wanted - SEARCH_PAGE_SIZE, wanted);
      if (!more || limit >= wanted + MAX_EXTRA_CANDIDATES || settled(passing, candidates, wanted)) {
        return { items: page, page: parameters.page, more: more || passing.length > wanted };
      }
      limit = Math.min(limit * 2, wanted + MAX_EXTRA_CANDIDATES);
    }
  }

  /**
   * A page of the project's items, highest counter first (newest item first), as the items table
   * holds them. The index finds them (the items table has no index by counter), so an item is listed
   * once the indexer has written its entry, about a second after the fold made it. Without filters
   * only the page's items are read; with filters, items are read a batch at a time from the top until
   * the page is full, each kept when its row passes them all.
   */
  async function listByCounter(projectId: number, parameters: ListingParameters): Promise<ItemRecord[]> {
    const wanted = parameters.page * SEARCH_PAGE_SIZE;
    const passes = (item: ItemRecord) =>
      item.project_id === projectId &&
      (parameters.status === undefined || item.status === parameters.status) &&
      (parameters.level === undefined || item.level === parameters.level) &&
      (parameters.environment === undefined || item.environment === parameters.environment) &&
      (parameters.framework === undefined || item.framework === parameters.framework);
    const filtered =
      parameters.status !== undefined ||
      parameters.level !== undefined ||
      parameters.environment !== undefined ||
      parameters.framework !== undefined;
    if (!filtered) {
      // Down to the page a thousand at a time: OpenSearch answers at most 10,000 hits from the top of
      // a search (`max_result_window`), and the listing has pages up to the 100,000th item.
      const numbered: number[] = [];
      let below: number | undefined;
      while (numbered.length < wanted) {
        const page = await deps.engine.itemsByCounter(projectId, {
          limit: Math.min(MAX_LISTING_READ, wanted - numbered.length),
          below,
        });
        numbered.push(...page.items.map((entry) => entry.item_id));
        const last = page.items.at(-1);
        if (!page.more || !last) break;
        below = last.counter;
      }
      const ids = numbered.slice(wanted - SEARCH_PAGE_SIZE);
      const found = await deps.items.getMany(ids);
      return ids.map((id) => found.get(id)).filter((item): item is ItemRecord => !!item && passes(item));
    }
    const matching: ItemRecord[] = [];
    let below: number | undefined;
    let read = 0;
    for (let limit = FIRST_LISTING_READ; matching.length < wanted; ) {
      const page = await deps.engine.itemsByCounter(projectId, { limit, below });
      const found = await deps.items.getMany(page.items.map((entry) => entry.item_id));
      for (const { item_id } of page.items) {
        const item = found.get(item_id);
        if (item && passes(item)) matching.push(item);
      }
      read += page.items.length;
      const last = page.items.at(-1);
      if (!page.more || !last) break;
      below = last.counter;
      // The next batch as large as the items still wanted at the rate they have passed so far (each
      // item read is half a read unit), at least 100 and at most 1,000.
      const rate = matching.length / read;
      const needed = rate > 0 ? Math.ceil((wanted - matching.length) / rate) : limit * 2;
      limit = Math.min(MAX_LISTING_READ, Math.max(FIRST_LISTING_READ, needed));
    }
    return matching.slice(wanted - SEARCH_PAGE_SIZE, wanted);
  }

  /** The project's item numbered `counter`, as the items table holds it, or undefined. */
  async function itemByCounter(projectId: number, counter: number): Promise<ItemRecord | undefined> {
    const itemId = await deps.engine.itemIdOfCounter(projectId, counter);
    const item = itemId === undefined ? undefined : await deps.items.get(itemId);
    return item?.project_id === projectId && item.counter === counter ? item : undefined;
  }

  return { search, listByCounter, itemByCounter };
}

/**
 * Whether the first `wanted` items that passed are the first `wanted` of all that match. Candidates
 * not read yet have an index last-seen time no later than the last one read, so (while the index is
 * within a step of the items table) an exact time before that plus the step: the items that passed
 * with a later exact time come before all of them.
 */
function settled(passing: ItemRecord[], candidates: SearchCandidate[], wanted: number): boolean {
  const boundary = candidates.at(-1);
  if (!boundary) return true;
  const certainlyBefore = passing.filter(
    (item) => item.last_occurrence_timestamp >= boundary.last_seen + LAST_SEEN_STEP_SECONDS,
  );
  return certainlyBefore.length >= wanted;
}
