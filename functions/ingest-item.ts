// POST /api/1/item/ (and rollbar.js's POST /api/1/): validate a Rollbar item and enqueue it.
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { httpHandler } from '#shared/http/middleware';
import { accessTokenOf, readItemBody } from '#shared/http/request';
import { ok } from '#shared/http/response';
import { createItemIngest } from '#shared/ingest/item-ingest';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { SqsOccurrenceQueue } from '#shared/queue/ingest-queue';
import { DynamoDBProjectRepository } from '#shared/store/projects';

const tables = tableNames(['projects']);
const queue = queueUrls(['ingest']);
const acceptItem = createItemIngest({
  projects: createProjectService({
    projects: new DynamoDBProjectRepository(createDocumentClient(), tables.projects),
  }),
  queue: new SqsOccurrenceQueue(createSqsClient(), queue.ingest),
});

export const handler = httpHandler(async (event) => {
  const body = await readItemBody(event);
  const accepted = await acceptItem({ token: accessTokenOf(event, body), body });
  logger.info('item accepted', { project_id: accepted.projectId, uuid: accepted.uuid });
  // Rollbar answers `id: null` here: the item id is known only once the occurrence is grouped.
  return ok({ id: null, uuid: accepted.uuid });
});
