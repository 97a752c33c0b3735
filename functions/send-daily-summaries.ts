// EventBridge schedule (every quarter hour; a timer locally) → the daily summaries due now, queued
// for the sender.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { ScheduledEvent } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { createDailySummaries, type DailySummaryReport } from '#shared/notifications/daily-summary/service';
import { loadSecretBox } from '#shared/notifications/secrets';
import { logger } from '#shared/observability';
import { SqsDeliveryQueue } from '#shared/queue/notification-queue';
import { selfReports } from '#shared/self-report/middleware';
import { DynamoDBDailySummaries } from '#shared/store/daily-summaries';
import { DynamoDBItemRepository } from '#shared/store/items';
import { DynamoDBRuleRepository } from '#shared/store/notification-rules';

const tables = tableNames(['notifications', 'items']);
const queue = queueUrls(['notifications']);
const documents = createDocumentClient();

// The rules' credentials are sealed; their key is read once per container (a secret in AWS).
const queueDueSummaries = loadSecretBox().then((box) =>
  createDailySummaries({
    rules: new DynamoDBRuleRepository(documents, tables.notifications, box),
    records: new DynamoDBDailySummaries(documents, tables.notifications),
    items: new DynamoDBItemRepository(documents, tables.items),
    queue: new SqsDeliveryQueue(createSqsClient(), queue.notifications),
  }),
);
// Kept from being an unhandled rejection before the first invocation: each invocation awaits it and fails with it.
queueDueSummaries.catch(() => {});

export const handler = middy<ScheduledEvent, DailySummaryReport>()
  .use(selfReports())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => (await queueDueSummaries)());
