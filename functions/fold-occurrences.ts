// DynamoDB Streams (occurrence table) → fold: counts each stored occurrence once into its item,
// its counts for graphs, its people and its listings. In several regions, only while its region is home.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { FoldEngine } from '#shared/fold/engine';
import { createFoldHandler } from '#shared/fold/service';
import { logger, metricsPublishing } from '#shared/observability';
import { createHomeReader, DynamoDBHomeStore } from '#shared/regions/home';
import { regionSettings } from '#shared/regions/settings';
import { DynamoDBFoldStorage } from '#shared/store/fold-storage';
import { DynamoDBProjectRepository } from '#shared/store/projects';

const tables = tableNames(['projects', 'items', 'occurrences']);
const documents = createDocumentClient();
const regions = regionSettings();
const processStreamBatch = createFoldHandler({
  folder: new FoldEngine(
    new DynamoDBFoldStorage(
      documents,
      { items: tables.items, occurrences: tables.occurrences },
      new DynamoDBProjectRepository(documents, tables.projects),
    ),
  ),
  // Several regions: it counts its own worker's rows, and only while its region is home.
  ...(regions
    ? {
        regional: {
          region: regions.self,
          home: createHomeReader({
            store: new DynamoDBHomeStore(documents, tables.projects),
            initialHome: regions.initialHome,
          }),
        },
      }
    : {}),
});

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsPublishing())
  .handler((event, context) => processStreamBatch(event.Records, () => context.getRemainingTimeInMillis()));
