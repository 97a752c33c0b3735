// SQS (an edge region's ingest queue) → the home region's ingest queue: the edge's forwarder.
// Deploys posted to the edge travel the same way; the home's storing worker records them.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { logger } from '#shared/observability';
import { createForwarder, receivedMessageOf } from '#shared/regions/forwarder';
import { createHomeReader, DynamoDBHomeStore } from '#shared/regions/home';
import { requiredRegionSettings } from '#shared/regions/settings';

const tables = tableNames(['projects']);
const queues = queueUrls(['ingest']);
const settings = requiredRegionSettings();
const home = createHomeReader({
  store: new DynamoDBHomeStore(createDocumentClient(), tables.projects),
  initialHome: settings.initialHome,
});
const forwarder = createForwarder({
  queueUrl: queues.ingest,
  pipelineQueues: settings.pipelineQueues,
  sqs: createSqsClient(),
  // The deployed back-off, or the local simulation's shorter one.
  ...(settings.retrySchedule ? { retrySchedule: settings.retrySchedule } : {}),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    // Promoting or active, the region the row names is where edges send.
    const { region } = await home.current();
    const report = await forwarder.forward(event.Records.map(receivedMessageOf), region);
    // Partial batch failure: the messages not forwarded stay, pushed back by their back-off.
    return { batchItemFailures: report.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  });
