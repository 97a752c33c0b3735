// SQS → grouping: fingerprints a batch of occurrences and stores them with their items and counts.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { createGroupingWorker } from '#shared/grouping/worker';
import { logger } from '#shared/observability';
import { DynamoDBGroupingStore } from '#shared/store/grouping-store';
import { DynamoDBItemRepository } from '#shared/store/items';
import { DynamoDBProjectRepository } from '#shared/store/projects';

const tables = tableNames(['projects', 'items', 'occurrences']);
const documents = createDocumentClient();
const processBatch = createGroupingWorker({
  writer: new DynamoDBGroupingStore(
    documents,
    { items: tables.items, occurrences: tables.occurrences },
    new DynamoDBItemRepository(documents, tables.items),
    new DynamoDBProjectRepository(documents, tables.projects),
  ),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const result = await processBatch(
      event.Records.map((record) => ({ messageId: record.messageId, body: record.body })),
    );
    // Partial batch failure: only these come back; the rest are deleted from the queue.
    return { batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  });
