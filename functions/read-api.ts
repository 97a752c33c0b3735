// The read API: items, their occurrences and counts, people's occurrences and deploys (read scope).
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { NotFoundError } from '#shared/errors';
import { httpHandler } from '#shared/http/middleware';
import { accessTokenOf } from '#shared/http/request';
import { ok } from '#shared/http/response';
import { createProjectService } from '#shared/projects/service';
import { createReadService } from '#shared/read/service';
import { DynamoDBCountRepository } from '#shared/store/counts';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBItemRepository } from '#shared/store/items';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';

const tables = tableNames(['projects', 'items', 'occurrences']);
const documents = createDocumentClient();
const read = createReadService({
  projects: createProjectService({ projects: new DynamoDBProjectRepository(documents, tables.projects) }),
  items: new DynamoDBItemRepository(documents, tables.items),
  occurrences: new DynamoDBOccurrenceRepository(
    documents,
    tables.occurrences,
    new DynamoDBPayloadCodec(documents, tables.occurrences),
  ),
  deploys: new DynamoDBDeployRepository(documents, tables.items),
  counts: new DynamoDBCountRepository(documents, { occurrences: tables.occurrences, items: tables.items }),
});

export const handler = httpHandler(async (event) => {
  const token = accessTokenOf(event);
  const query = event.queryStringParameters ?? {};
  const path = event.pathParameters ?? {};
  switch (event.routeKey) {
    case 'GET /api/1/items':
      return ok(await read.listItems(token, query));
    case 'GET /api/1/item/{itemId}':
      return ok(await read.getItem(token, path.itemId));
    case 'GET /api/1/item_by_counter/{counter}':
      return ok(await read.getItemByCounter(token, path.counter));
    case 'GET /api/1/item/{itemId}/instances':
      return ok(await read.listInstances(token, path.itemId, query));
    case 'GET /api/1/instance/{instanceId}':
      return ok(await read.getInstance(token, path.instanceId));
    case 'GET /api/1/item/{itemId}/counts':
      return ok(await read.itemCounts(token, path.itemId, query));
    case 'GET /api/1/counts':
      return ok(await read.environmentCounts(token, query));
    case 'GET /api/1/person/{personId}/instances':
      return ok(await read.listPersonInstances(token, path.personId, query));
    case 'GET /api/1/deploys':
      return ok(await read.listDeploys(token, query));
    case 'GET /api/1/deploy/{deployId}':
      return ok(await read.getDeploy(token, path.deployId));
    default:
      throw new NotFoundError(`no such route: ${event.routeKey}`);
  }
});
