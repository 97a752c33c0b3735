// The read API: items, their occurrences and counts, people's occurrences and deploys (read scope).
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { accessTokenOf } from '#shared/http/request';
import { ok } from '#shared/http/response';
import { type RouteHandler, routedHandler } from '#shared/http/router';
import { logger } from '#shared/observability';
import { CloudWatchMetricsSource } from '#shared/operations/cloudwatch';
import { createOperationsService, operationsRegionsFromEnv } from '#shared/operations/service';
import { createProjectService } from '#shared/projects/service';
import { createReadService } from '#shared/read/service';
import { searchEngineFromEnv } from '#shared/search/engines';
import { createSearchService } from '#shared/search/service';
import { DynamoDBCountRepository } from '#shared/store/counts';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBItemRepository } from '#shared/store/items';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';

// The search table is the default engine's: named here so a missing variable fails the cold start.
const tables = tableNames(['projects', 'items', 'occurrences', 'search']);
const documents = createDocumentClient();
const items = new DynamoDBItemRepository(documents, tables.items);
const projects = createProjectService({
  projects: new DynamoDBProjectRepository(documents, tables.projects),
});
const read = createReadService({
  projects,
  items,
  occurrences: new DynamoDBOccurrenceRepository(
    documents,
    tables.occurrences,
    new DynamoDBPayloadCodec(documents, tables.occurrences),
  ),
  deploys: new DynamoDBDeployRepository(documents, tables.items),
  counts: new DynamoDBCountRepository(documents, { occurrences: tables.occurrences, items: tables.items }),
  search: createSearchService({ engine: searchEngineFromEnv(documents), items }),
});

// Installation-wide figures for any read token (docs/dashboard.md, "Operations"): every region's metrics.
const operations = createOperationsService({
  projects,
  source: new CloudWatchMetricsSource(),
  regions: () => operationsRegionsFromEnv(),
  onRegionError: (region, error) => logger.warn('CloudWatch did not answer for a region', { region, error }),
});

type Query = NonNullable<APIGatewayProxyEventV2['queryStringParameters']>;
type Path = NonNullable<APIGatewayProxyEventV2['pathParameters']>;

/** A read: the token, the path's parameters and the query in, Rollbar's `{"err":0,"result":…}` out. */
function reading(
  call: (token: string | undefined, path: Path, query: Query) => Promise<unknown>,
): RouteHandler {
  // API Gateway leaves out `pathParameters` and `queryStringParameters` when there are none.
  return async (event) =>
    ok(await call(accessTokenOf(event), event.pathParameters ?? {}, event.queryStringParameters ?? {}));
}

export const handler = routedHandler('readApi', {
  'GET /api/1/items': reading((token, _, query) => read.listItems(token, query)),
  'GET /api/1/item/{itemId}': reading((token, path) => read.getItem(token, path.itemId)),
  'GET /api/1/item_by_counter/{counter}': reading((token, path) =>
    read.getItemByCounter(token, path.counter),
  ),
  'GET /api/1/item/{itemId}/instances': reading((token, path, query) =>
    read.listInstances(token, path.itemId, query),
  ),
  'GET /api/1/instance/{instanceId}': reading((token, path) => read.getInstance(token, path.instanceId)),
  'GET /api/1/item/{itemId}/counts': reading((token, path, query) =>
    read.itemCounts(token, path.itemId, query),
  ),
  'GET /api/1/counts': reading((token, _, query) => read.environmentCounts(token, query)),
  'GET /api/1/person/{personId}/instances': reading((token, path, query) =>
    read.listPersonInstances(token, path.personId, query),
  ),
  'GET /api/1/deploys': reading((token, _, query) => read.listDeploys(token, query)),
  'GET /api/1/deploy/{deployId}': reading((token, path) => read.getDeploy(token, path.deployId)),
  'GET /api/1/operations/metrics': reading((token, _, query) => operations.metrics(token, query)),
});
