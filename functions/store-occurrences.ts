// SQS → storing: prepares a batch of occurrences (fingerprint, item id, title) and stores each once; the fold counts them.
// In several regions (FAULTLINE_REGION set) it stores only while its region is home, forwarding to the
// home's queue otherwise, and records the deploys that edge regions send through the queue.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { createQueuedDeployRecorder } from '#shared/ingest/deploy-ingest';
import { logger, metricsPublishing } from '#shared/observability';
import { createForwarder, receivedMessageOf } from '#shared/regions/forwarder';
import { createHomeReader, DynamoDBHomeStore } from '#shared/regions/home';
import { regionSettings } from '#shared/regions/settings';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { createRegionalStoringWorker, createStoringWorker } from '#shared/storing/worker';

const tables = tableNames(['occurrences']);
const documents = createDocumentClient();
const regions = regionSettings();

/** In several regions: the home row, the way to the home's queue, and the deploys edges send. */
function severalRegions(self: string) {
  const more = tableNames(['projects', 'items']);
  const projects = new DynamoDBProjectRepository(documents, more.projects);
  return {
    home: createHomeReader({
      store: new DynamoDBHomeStore(documents, more.projects),
      initialHome: regions!.initialHome,
    }),
    forwarder: createForwarder({
      queueUrl: queueUrls(['ingest']).ingest,
      pipelineQueues: regions!.pipelineQueues,
      sqs: createSqsClient(),
      // This queue has a dead-letter queue after 5 receives: what waits for home is re-sent, delayed.
      waiting: 'requeue',
      // The deployed back-off, or the local simulation's shorter one.
      ...(regions!.retrySchedule ? { retrySchedule: regions!.retrySchedule } : {}),
    }),
    deploys: createQueuedDeployRecorder({
      projectRepository: projects,
      deploys: new DynamoDBDeployRepository(documents, more.items),
      warn: (message, details) => logger.warn(message, details),
    }),
    self,
  };
}

const regional = regions ? severalRegions(regions.self) : undefined;
const store = createStoringWorker({
  writer: new DynamoDBOccurrenceWriter(
    documents,
    tables.occurrences,
    new DynamoDBPayloadCodec(documents, tables.occurrences),
    regional?.self,
  ),
  ...(regional ? { deploys: regional.deploys } : {}),
});
const processBatch = regional ? createRegionalStoringWorker(store, regional) : store;

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsPublishing())
  .handler(async (event) => {
    const result = await processBatch(event.Records.map(receivedMessageOf));
    // Partial batch failure: only these come back; the rest are deleted from the queue.
    return { batchItemFailures: result.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  });
