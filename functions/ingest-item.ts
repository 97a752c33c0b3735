// POST /api/1/item/ (and rollbar.js's POST /api/1/): validate a Rollbar item and enqueue it.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { ClientError } from '#shared/errors';
import { accessTokenOf, readItemBody } from '#shared/http/request';
import { ok } from '#shared/http/response';
import { routedHandler } from '#shared/http/router';
import { createItemIngest } from '#shared/ingest/item-ingest';
import { countAccepted, countRefused, logger, noteRequestProject } from '#shared/observability';
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

async function acceptOne(event: APIGatewayProxyEventV2) {
  try {
    const body = await readItemBody(event);
    const accepted = await acceptItem({ token: accessTokenOf(event, body), body });
    countAccepted();
    // At debug: a line per accepted item was most of what ingest cost in CloudWatch Logs; the
    // OccurrencesAccepted metric counts them, and the storing worker logs each batch.
    logger.debug('item accepted', { project_id: accepted.projectId, uuid: accepted.uuid });
    noteRequestProject(accepted.projectId);
    // Rollbar answers `id: null` here: the item id is known only once the occurrence is grouped.
    return ok({ id: null, uuid: accepted.uuid });
  } catch (error) {
    if (error instanceof ClientError) countRefused(error);
    throw error;
  }
}

// rollbar.js posts to the endpoint itself, the other SDKs to its `item/`: the same call.
export const handler = routedHandler('ingestItem', {
  'POST /api/1/item': acceptOne,
  'POST /api/1': acceptOne,
});
