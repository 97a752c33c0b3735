// DynamoDB Streams (items table) → the search index: each numbered item's document and the facets its
// new occurrences carry, written to the engine SEARCH_ENGINE names.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { logger } from '#shared/observability';
import { searchEngineFromEnv } from '#shared/search/engines';
import { createSearchIndexer } from '#shared/search/indexer';
import { selfReports } from '#shared/self-report/middleware';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';

// The search table is the default engine's: named here so a missing variable fails the cold start.
const tables = tableNames(['occurrences', 'search']);
const documents = createDocumentClient();

const indexer = createSearchIndexer({
  engine: searchEngineFromEnv(documents),
  occurrences: new DynamoDBOccurrenceRepository(
    documents,
    tables.occurrences,
    new DynamoDBPayloadCodec(documents, tables.occurrences),
  ),
});

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(selfReports())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => indexer(event.Records));
