// SQS → storing: prepares a batch of occurrences (fingerprint, item id, title) and stores each once; the fold counts them.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient } from '#shared/aws/clients';
import { tableNames } from '#shared/config';
import { logger, metricsPublishing } from '#shared/observability';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { createStoringWorker } from '#shared/storing/worker';

const tables = tableNames(['occurrences']);
const documents = createDocumentClient();
const processBatch = createStoringWorker({
  writer: new DynamoDBOccurrenceWriter(
    documents,
    tables.occurrences,
    new DynamoDBPayloadCodec(documents, tables.occurrences),
  ),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsPublishing())
  .handler(async (event) => {
    const result = await processBatch(
      event.Records.map((record) => ({ messageId: record.messageId, body: record.body })),
    );
    // Partial batch failure: only these come back; the rest are deleted from the queue.
    return { batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  });
