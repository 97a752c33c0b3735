// The read API's service: items, occurrences, counts and deploys of the token's project, shown as the
// API's resources (`#shared/api/resources`).
import { z } from 'zod';
import { countsResource, deployResource, instanceResource, itemResource } from '#shared/api/resources';
import { LEVELS } from '#shared/domain/levels';
import { UUID_PATTERN } from '#shared/domain/payload';
import { NotFoundError, ValidationError } from '#shared/errors';
import { ITEM_STATUSES, type ItemRecord } from '#shared/items/item';
import type { ProjectService } from '#shared/projects/service';
import type { SearchService } from '#shared/search/service';
import type { CountRepository, CountSubject } from '#shared/store/counts';
import type { DeployRepository } from '#shared/store/deploys';
import type { ItemRepository } from '#shared/store/items';
import { countBucket } from '#shared/store/keys';
import type { OccurrencePage, OccurrenceRecord, OccurrenceRepository } from '#shared/store/occurrences';
import { parseInput } from '#shared/validation';

export interface ReadServiceDeps {
  projects: ProjectService;
  items: ItemRepository;
  occurrences: OccurrenceRepository;
  deploys: DeployRepository;
  counts: CountRepository;
  /**
   * `GET /api/1/items` (a search with `query=`, else the listing by counter) and `item_by_counter`:
   * the search service, on the configured engine, whose index is the only one by counter.
   */
  search: SearchService;
  now?: () => number;
}

const INSTANCES_PER_PAGE = 20;
const DEPLOYS_PER_PAGE = 20;
const MAX_PAGE = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The most buckets one graph may ask for: two months of hours, about three years of days. */
const MAX_BUCKETS = 1500;

const page = z.coerce.number().int().min(1).max(MAX_PAGE).default(1);
const positiveId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const itemListQuerySchema = z.object({
  page,
  status: z.enum(ITEM_STATUSES).optional(),
  level: z.enum(LEVELS).optional(),
  environment: z.string().min(1).max(255).optional(),
  framework: z.string().min(1).max(255).optional(),
  /** Rollbar's item search (`#shared/search/query`); its syntax is checked by the parser. */
  query: z.string().optional(),
});

/**
 * The last epoch second of the year 9999. Later times have no date (JavaScript's end at 275760) or no
 * four-digit year in the count rows' ISO keys, so they are refused with a 422 rather than a 500.
 */
const LATEST_COUNT_TIME = 253_402_300_799;
// parseInput names the field: `start_time: must be …`.
const countTime = z.coerce
  .number()
  .int('must be a whole number of seconds')
  .nonnegative('must be an epoch time in seconds')
  .max(LATEST_COUNT_TIME, 'must be an epoch time in seconds, before the year 10000');

const countsQuerySchema = z.object({
  granularity: z.enum(['hour', 'day']).default('hour'),
  /** Epoch seconds; the graph's window defaults to the last 24 hours or the last 30 days. */
  start_time: countTime.optional(),
  end_time: countTime.optional(),
  environment: z.string().min(1).max(255).optional(),
});

/** Page N of a cursor-paged listing: Rollbar's API pages by number. */
async function walkPages(
  pageNumber: number,
  fetchPage: (cursor: string | undefined) => Promise<OccurrencePage>,
): Promise<OccurrenceRecord[]> {
  let cursor: string | undefined;
  for (let current = 1; ; current++) {
    const result = await fetchPage(cursor);
    if (current === pageNumber) return result.occurrences;
    if (!result.cursor) return [];
    cursor = result.cursor;
  }
}

export function createReadService(deps: ReadServiceDeps) {
  const now = deps.now ?? Date.now;
  const authorize = async (token: string | undefined) =>
    (await deps.projects.authorize(token, ['read'])).project.projectId;

  async function itemOfProject(projectId: number, itemId: number): Promise<ItemRecord> {
    const item = await deps.items.get(itemId);
    // Another project's item is reported as absent: ids are not secrets, but contents are.
    if (!item || item.project_id !== projectId) throw new NotFoundError(`item ${itemId} not found`);
    return item;
  }

  async function listItems(token: string | undefined, query: Record<string, string | undefined>) {
    const projectId = await authorize(token);
    const filters = parseInput(itemListQuerySchema, query, 'query');
    // A search (newest activity first) when there is something to search for; else the listing
    // (newest item first), found through the search index, its filters compared with the item rows.
    if (filters.query !== undefined && filters.query.trim() !== '') {
      const found = await deps.search.search(projectId, { ...filters, query: filters.query ?? '' });
      return { items: found.items.map(itemResource), page: found.page };
    }
    const items = await deps.search.listByCounter(projectId, filters);
    return { items: items.map(itemResource), page: filters.page };
  }

  async function getItem(token: string | undefined, itemId: string | undefined) {
    const projectId = await authorize(token);
    return itemResource(await itemOfProject(projectId, parseInput(positiveId, itemId, 'item id')));
  }

  async function getItemByCounter(token: string | undefined, counter: string | undefined) {
    const projectId = await authorize(token);
    const number = parseInput(positiveId, counter, 'counter');
    const item = await deps.search.itemByCounter(projectId, number);
    if (!item) throw new NotFoundError(`item #${number} not found`);
    return itemResource(item);
  }

  async function listInstances(
    token: string | undefined,
    itemId: string | undefined,
    query: Record<string, string | undefined>,
  ) {
    const projectId = await authorize(token);
    const item = await itemOfProject(projectId, parseInput(positiveId, itemId, 'item id'));
    const pageNumber = parseInput(page, query.page, 'page');
    const occurrences = await walkPages(pageNumber, (cursor) =>
      deps.occurrences.listByItem(item, { limit: INSTANCES_PER_PAGE, cursor }),
    );
    return { instances: occurrences.map(instanceResource), page: pageNumber };
  }

  async function getInstance(token: string | undefined, instanceId: string | undefined) {
    const projectId = await authorize(token);
    const uuid = parseInput(z.string().regex(UUID_PATTERN, 'must be a uuid'), instanceId, 'instance id');
    const occurrence = await deps.occurrences.get(projectId, uuid);
    if (!occurrence) throw new NotFoundError(`instance ${uuid} not found`);
    return instanceResource(occurrence);
  }

  /** The counts of a window the query names (the last day or month by default). */
  async function countSeries(subject: CountSubject, query: Record<string, string | undefined>) {
    const options = parseInput(countsQuerySchema, query, 'query');
    const step = options.granularity === 'hour' ? HOUR_MS : DAY_MS;
    const end = Math.floor((options.end_time !== undefined ? options.end_time * 1000 : now()) / step) * step;
    const start =
      options.start_time !== undefined
        ? Math.floor((options.start_time * 1000) / step) * step
        : end - (options.granularity === 'hour' ? 23 : 29) * step;
    if (start > end) throw new ValidationError('start_time must not be after end_time');
    if ((end - start) / step + 1 > MAX_BUCKETS)
      throw new ValidationError(`at most ${MAX_BUCKETS} buckets at once`);
    const counts = await deps.counts.list(
      subject,
      options.granularity,
      countBucket(start, options.granularity),
      countBucket(end, options.granularity),
    );
    return countsResource(options.granularity, start, end, counts);
  }

  async function itemCounts(
    token: string | undefined,
    itemId: string | undefined,
    query: Record<string, string | undefined>,
  ) {
    const projectId = await authorize(token);
    const item = await itemOfProject(projectId, parseInput(positiveId, itemId, 'item id'));
    return { item_id: item.id, ...(await countSeries({ itemId: item.id }, query)) };
  }

  async function environmentCounts(token: string | undefined, query: Record<string, string | undefined>) {
    const projectId = await authorize(token);
    const environment = parseInput(
      z.string().min(1, 'environment is required').max(255),
      query.environment,
      'environment',
    );
    return { environment, ...(await countSeries({ projectId, environment }, query)) };
  }

  async function listPersonInstances(
    token: string | undefined,
    personId: string | undefined,
    query: Record<string, string | undefined>,
  ) {
    const projectId = await authorize(token);
    const person = parseInput(z.string().min(1).max(255), personId, 'person id');
    const pageNumber = parseInput(page, query.page, 'page');
    const occurrences = await walkPages(pageNumber, (cursor) =>
      deps.occurrences.listByPerson(projectId, person, { limit: INSTANCES_PER_PAGE, cursor }),
    );
    return { person_id: person, instances: occurrences.map(instanceResource), page: pageNumber };
  }

  async function listDeploys(token: string | undefined, query: Record<string, string | undefined>) {
    const projectId = await authorize(token);
    const pageNumber = parseInput(page, query.page, 'page');
    const deploys = await deps.deploys.list(projectId, { limit: DEPLOYS_PER_PAGE, page: pageNumber });
    return { deploys: deploys.map(deployResource), page: pageNumber };
  }

  async function getDeploy(token: string | undefined, deployId: string | undefined) {
    const projectId = await authorize(token);
    const id = parseInput(positiveId, deployId, 'deploy id');
    const deploy = await deps.deploys.get(projectId, id);
    if (!deploy) throw new NotFoundError(`deploy ${id} not found`);
    return deployResource(deploy);
  }

  return {
    listItems,
    getItem,
    getItemByCounter,
    listInstances,
    getInstance,
    itemCounts,
    environmentCounts,
    listPersonInstances,
    listDeploys,
    getDeploy,
  };
}
