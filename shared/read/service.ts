// The read API's service: items, occurrences and deploys of the token's project, in Rollbar's shapes.
import { z } from 'zod';
import { NotFoundError, ValidationError } from '#shared/errors';
import { LEVELS } from '#shared/domain/levels';
import { UUID_PATTERN } from '#shared/domain/payload';
import type { ProjectService } from '#shared/projects/service';
import type { DeployRepository } from '#shared/store/deploys';
import { ITEM_STATUSES, type ItemRecord, type ItemRepository } from '#shared/store/items';
import type { OccurrenceRecord, OccurrenceRepository } from '#shared/store/occurrences';

export interface ReadServiceDeps {
  projects: ProjectService;
  items: ItemRepository;
  occurrences: OccurrenceRepository;
  deploys: DeployRepository;
}

const ITEMS_PER_PAGE = 100;
const INSTANCES_PER_PAGE = 20;
const DEPLOYS_PER_PAGE = 20;
const MAX_PAGE = 1000;

const page = z.coerce.number().int().min(1).max(MAX_PAGE).default(1);
const positiveId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const itemListQuerySchema = z.object({
  page,
  status: z.enum(ITEM_STATUSES).optional(),
  level: z.enum(LEVELS).optional(),
  environment: z.string().min(1).max(255).optional(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`${issue?.path.join('.') || what}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

/** An item as the API shows it: Rollbar's fields, without our keys and bookkeeping. */
export function itemResource(item: ItemRecord) {
  const { level_lock, ...fields } = item;
  return { ...fields, level_lock: level_lock ? 1 : 0 };
}

export function instanceResource(occurrence: OccurrenceRecord) {
  return {
    id: occurrence.uuid,
    uuid: occurrence.uuid,
    project_id: occurrence.project_id,
    item_id: occurrence.item_id,
    timestamp: occurrence.timestamp,
    version: occurrence.code_version,
    billable: 1,
    truncated: occurrence.payload_truncated,
    data: occurrence.data,
  };
}

export function createReadService(deps: ReadServiceDeps) {
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
    const filters = parse(itemListQuerySchema, query, 'query');
    const wanted = filters.page * ITEMS_PER_PAGE;
    const matching: ItemRecord[] = [];
    let startCounter: number | undefined;
    do {
      const { ids, lastCounter } = await deps.items.listIds(projectId, {
        limit: ITEMS_PER_PAGE,
        exclusiveStartCounter: startCounter,
      });
      const found = await deps.items.getMany(ids);
      for (const id of ids) {
        const item = found.get(id);
        if (!item) continue;
        if (filters.status && item.status !== filters.status) continue;
        if (filters.level && item.level !== filters.level) continue;
        if (filters.environment && item.environment !== filters.environment) continue;
        matching.push(item);
      }
      startCounter = lastCounter;
    } while (startCounter !== undefined && matching.length < wanted);
    return {
      items: matching.slice(wanted - ITEMS_PER_PAGE, wanted).map(itemResource),
      page: filters.page,
    };
  }

  async function getItem(token: string | undefined, itemId: string | undefined) {
    const projectId = await authorize(token);
    return itemResource(await itemOfProject(projectId, parse(positiveId, itemId, 'item id')));
  }

  async function getItemByCounter(token: string | undefined, counter: string | undefined) {
    const projectId = await authorize(token);
    const number = parse(positiveId, counter, 'counter');
    const item = await deps.items.findByCounter(projectId, number);
    if (!item) throw new NotFoundError(`item #${number} not found`);
    return itemResource(item);
  }

  async function listInstances(token: string | undefined, itemId: string | undefined, query: Record<string, string | undefined>) {
    const projectId = await authorize(token);
    const item = await itemOfProject(projectId, parse(positiveId, itemId, 'item id'));
    const pageNumber = parse(page, query.page, 'page');
    let cursor: string | undefined;
    let occurrences: OccurrenceRecord[] = [];
    for (let current = 1; current <= pageNumber; current++) {
      const result = await deps.occurrences.listByItem(item.id, { limit: INSTANCES_PER_PAGE, cursor });
      occurrences = result.occurrences;
      cursor = result.cursor;
      if (!cursor && current < pageNumber) {
        occurrences = [];
        break;
      }
    }
    return { instances: occurrences.map(instanceResource), page: pageNumber };
  }

  async function getInstance(token: string | undefined, instanceId: string | undefined) {
    const projectId = await authorize(token);
    const uuid = parse(z.string().regex(UUID_PATTERN, 'must be a uuid'), instanceId, 'instance id');
    const occurrence = await deps.occurrences.get(projectId, uuid);
    if (!occurrence) throw new NotFoundError(`instance ${uuid} not found`);
    return instanceResource(occurrence);
  }

  async function listDeploys(token: string | undefined, query: Record<string, string | undefined>) {
    const projectId = await authorize(token);
    const pageNumber = parse(page, query.page, 'page');
    const deploys = await deps.deploys.list(projectId, { limit: DEPLOYS_PER_PAGE, page: pageNumber });
    return { deploys, page: pageNumber };
  }

  async function getDeploy(token: string | undefined, deployId: string | undefined) {
    const projectId = await authorize(token);
    const id = parse(positiveId, deployId, 'deploy id');
    const deploy = await deps.deploys.get(projectId, id);
    if (!deploy) throw new NotFoundError(`deploy ${id} not found`);
    return deploy;
  }

  return { listItems, getItem, getItemByCounter, listInstances, getInstance, listDeploys, getDeploy };
}
