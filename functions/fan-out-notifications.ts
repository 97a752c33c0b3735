// DynamoDB Streams (items table) → fan-out: evaluates each project's notification rules on the
// changes of its items and its deploys, and queues one delivery per event and rule.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { RuleCache } from '#shared/notifications/fan-out/rule-cache';
import { createFanOut, lastOccurrencesOf } from '#shared/notifications/fan-out/service';
import { loadSecretBox } from '#shared/notifications/secrets';
import { logger } from '#shared/observability';
import { SqsDeliveryQueue } from '#shared/queue/notification-queue';
import { createHomeReader, DynamoDBHomeStore, whileHome } from '#shared/regions/home';
import { regionSettings } from '#shared/regions/settings';
import { DynamoDBDailySummaries } from '#shared/store/daily-summaries';
import { DynamoDBNoiseStore } from '#shared/store/notification-noise';
import { DynamoDBRuleRepository } from '#shared/store/notification-rules';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';

const tables = tableNames(['notifications', 'occurrences']);
const queue = queueUrls(['notifications']);
const documents = createDocumentClient();

// The rules' credentials are sealed; their key is read once per container (a secret in AWS).
const fanOut = loadSecretBox().then((box) => {
  const rules = new DynamoDBRuleRepository(documents, tables.notifications, box);
  const noise = new DynamoDBNoiseStore(documents, tables.notifications);
  return createFanOut({
    rules: new RuleCache((projectId) => rules.list(projectId)),
    occurrences: lastOccurrencesOf(
      new DynamoDBOccurrenceRepository(
        documents,
        tables.occurrences,
        new DynamoDBPayloadCodec(documents, tables.occurrences),
      ),
    ),
    noise,
    rates: noise,
    summaries: new DynamoDBDailySummaries(documents, tables.notifications),
    queue: new SqsDeliveryQueue(createSqsClient(), queue.notifications),
  });
});

// Kept from being an unhandled rejection before the first invocation: each invocation awaits it and fails with it.
fanOut.catch(() => {});

const fanOutRecords = async (records: DynamoDBStreamEvent['Records']) => (await fanOut)(records);

// Several regions: only the home region notifies; elsewhere the batch is acknowledged untold.
const regions = regionSettings();
const processBatch = regions
  ? whileHome(
      createHomeReader({
        store: new DynamoDBHomeStore(documents, tableNames(['projects']).projects),
        initialHome: regions.initialHome,
      }),
      regions.self,
      fanOutRecords,
      (): DynamoDBBatchResponse => ({ batchItemFailures: [] }),
    )
  : fanOutRecords;

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler((event) => processBatch(event.Records));
