// SQS (notification queue) → sender: delivers each queued (event, rule) through its channel once,
// with retries at the vendor's pace; what must come back is reported as a partial batch failure.

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { channels } from '#shared/notifications/channels/index';
import { createSender } from '#shared/notifications/delivery/sender';
import { createDeliveryService } from '#shared/notifications/delivery/service';
import { createSesEmailSender, EMAIL_FROM_VAR } from '#shared/notifications/email/ses';
import { publicUrlFromEnv } from '#shared/notifications/links';
import { createOutboundHttp, outboundPolicyFromEnv } from '#shared/notifications/outbound-http';
import { loadSecretBox } from '#shared/notifications/secrets';
import { logger, metricsPublishing } from '#shared/observability';
import { SqsDeliveryReturns } from '#shared/queue/notification-queue';
import { selfReports } from '#shared/self-report/middleware';
import { DynamoDBChannelLinks } from '#shared/store/channel-links';
import { DynamoDBDeliveryLog } from '#shared/store/delivery-log';
import { DynamoDBDeliveryRecords } from '#shared/store/delivery-records';
import { DynamoDBDestinationPace } from '#shared/store/destination-pace';
import { DynamoDBRuleRepository } from '#shared/store/notification-rules';
import { functions, queues } from '#shared/wiring/topology';

const tables = tableNames(['notifications']);
const queue = queueUrls(['notifications']);
const documents = createDocumentClient();
const box = await loadSecretBox();

const deliverBatch = createDeliveryService({
  sender: createSender({
    rules: new DynamoDBRuleRepository(documents, tables.notifications, box),
    records: new DynamoDBDeliveryRecords(documents, tables.notifications),
    log: new DynamoDBDeliveryLog(documents, tables.notifications),
    pace: new DynamoDBDestinationPace(documents, tables.notifications),
    channels,
    http: createOutboundHttp(outboundPolicyFromEnv()),
    email: createSesEmailSender(process.env[EMAIL_FROM_VAR] ?? 'faultline@localhost'),
    links: new DynamoDBChannelLinks(documents, tables.notifications),
    publicUrl: () => publicUrlFromEnv(),
    // A claim outlives the invocation that made it: after the timeout Lambda has stopped it.
    leaseMs: functions.sendNotifications.timeoutSeconds * 1000,
    maxReceives: queues.notifications.maxReceiveCount,
  }),
  queue: new SqsDeliveryReturns(createSqsClient(), queue.notifications),
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(selfReports())
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(metricsPublishing())
  .handler(async (event, context) => {
    const kept = await deliverBatch(
      event.Records.map((record) => ({
        messageId: record.messageId,
        receiptHandle: record.receiptHandle,
        body: record.body,
        receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
      })),
      () => context.getRemainingTimeInMillis(),
    );
    // Partial batch failure: only these come back; the rest are deleted from the queue.
    return { batchItemFailures: kept.map((itemIdentifier) => ({ itemIdentifier })) };
  });
