// PATCH /api/1/item/{itemId}: resolve, reopen or mute an item, or set its level (write scope).
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { accessTokenOf, readFields } from '#shared/http/request';
import { ok } from '#shared/http/response';
import { routedHandler } from '#shared/http/router';
import { createItemLifecycle } from '#shared/items/lifecycle';
import { logger } from '#shared/observability';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBItemRepository } from '#shared/store/items';
import { DynamoDBProjectRepository } from '#shared/store/projects';

const tables = tableNames(['projects', 'items']);
const documents = createDocumentClient();
const updateItem = createItemLifecycle({
  projects: createProjectService({ projects: new DynamoDBProjectRepository(documents, tables.projects) }),
  items: new DynamoDBItemRepository(documents, tables.items),
});

export const handler = routedHandler('updateItem', {
  'PATCH /api/1/item/{itemId}': async (event) => {
    // JSON, or a form (`curl -X PATCH -d status=resolved`), as the deploy routes read them.
    const fields = await readFields(event);
    const item = await updateItem({
      token: accessTokenOf(event, fields),
      itemId: event.pathParameters?.itemId,
      fields,
    });
    logger.info('item changed by hand', {
      project_id: item.project_id,
      item_id: item.id,
      status: item.status,
    });
    return ok(item);
  },
});
