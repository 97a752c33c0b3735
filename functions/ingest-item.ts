// POST /api/1/item/ (and rollbar.js's POST /api/1/): validate a Rollbar item and enqueue it.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { ClientError } from '#shared/errors';
import { accessTokenOf, readItemBody } from '#shared/http/request';
import { ok, withHeaders } from '#shared/http/response';
import { routedHandler } from '#shared/http/router';
import { createItemIngest } from '#shared/ingest/item-ingest';
import { countAccepted, countRefused, logger, noteRequestProject } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { SqsOccurrenceQueue } from '#shared/queue/ingest-queue';
import { rateLimitHeaders } from '#shared/rate-limits/headers';
import { createRateLimiter } from '#shared/rate-limits/limiter';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DynamoDBRateLimitCounter } from '#shared/store/rate-limit-counter';

const tables = tableNames(['projects', 'rateLimits']);
const queue = queueUrls(['ingest']);
const documents = createDocumentClient();
const acceptItem = createItemIngest({
  projects: createProjectService({
    projects: new DynamoDBProjectRepository(documents, tables.projects),
  }),
  rateLimiter: createRateLimiter({ counter: new DynamoDBRateLimitCounter(documents, tables.rateLimits) }),
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
    return withHeaders(ok({ id: null, uuid: accepted.uuid }), rateLimitHeaders(accepted.rateLimit));
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
