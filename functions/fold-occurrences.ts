// DynamoDB Streams (occurrence table) → fold: counts each stored occurrence once into its item,
// its counts for graphs, its people and its listings.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { FoldEngine } from '#shared/fold/engine';
import { createFoldHandler } from '#shared/fold/service';
import { logger, metricsPublishing } from '#shared/observability';
import { DynamoDBFoldStorage } from '#shared/store/fold-storage';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { regionEnvironment } from '#shared/wiring/regions';

const tables = tableNames(['projects', 'items', 'occurrences']);
const documents = createDocumentClient();
const processStreamBatch = createFoldHandler({
  folder: new FoldEngine(
    new DynamoDBFoldStorage(
      documents,
      { items: tables.items, occurrences: tables.occurrences },
      new DynamoDBProjectRepository(documents, tables.projects),
    ),
  ),
  // Several regions: rows another region's worker stored are that region's to count.
  region: process.env[regionEnvironment.self] || undefined,
});

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsPublishing())
  .handler((event, context) => processStreamBatch(event.Records, () => context.getRemainingTimeInMillis()));
