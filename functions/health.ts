// GET /health: 200 when this region reaches its table and its queue, for the DNS health checks.
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '#shared/aws/clients';
import { queueUrls, tableNames } from '#shared/config';
import { checkHealth } from '#shared/health';
import { json } from '#shared/http/response';
import { routedHandler } from '#shared/http/router';

const tables = tableNames(['projects']);
const queue = queueUrls(['ingest']);
const dynamodb = new DynamoDBClient({});
const sqs = createSqsClient();

export const handler = routedHandler('health', {
  'GET /health': async () => {
    const report = await checkHealth({
      table: () => dynamodb.send(new DescribeTableCommand({ TableName: tables.projects })),
      queue: () =>
        sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.ingest, AttributeNames: ['QueueArn'] })),
    });
    return json(report.ok ? 200 : 503, report);
  },
});
