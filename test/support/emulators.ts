// Real emulators for integration tests: DynamoDB Local (with its stream API; the worker's own, emptied
// before each file) and fauxqs, started per test file.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { type LocalQueues, startQueues as startLocalQueues } from '#infra/local/queues';
import { createTables } from '#infra/local/tables';
import { createDocumentClient } from '#shared/aws/clients';
import { OPERATIONS_REGIONS_VAR } from '#shared/operations/service';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { type TableName, tables } from '#shared/wiring/tables';
import { type QueueName, queues } from '#shared/wiring/topology';

export const region = 'us-east-1';
export const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface Dynamo {
  endpoint: string;
  client: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  streamsClient: DynamoDBStreamsClient;
  stop(): Promise<void>;
}

/** DynamoDB Local in memory, with clients pointed at it. */
export async function startDynamo(): Promise<Dynamo> {
  const dynamo = await startDynamoDbLocal({});
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials });
  const streamsClient = new DynamoDBStreamsClient({ endpoint: dynamo.endpoint, region, credentials });
  return {
    endpoint: dynamo.endpoint,
    client,
    documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    streamsClient,
    async stop() {
      client.destroy();
      streamsClient.destroy();
      await dynamo.stop();
    },
  };
}

/** DynamoDB Local with every declared table created, named `${prefix}-${logicalId}`. */
export async function startDynamoWithTables(
  prefix = 'test',
): Promise<Dynamo & { tableNames: Record<TableName, string> }> {
  const dynamo = await startDynamo();
  try {
    return { ...dynamo, tableNames: await createTables(dynamo.client, prefix) };
  } catch (error) {
    await dynamo.stop();
    throw error;
  }
}

/**
 * The project service on the emulator's projects table, as a function's container builds it: how a
 * test makes its projects and their tokens (and what a container starting now makes of a token).
 */
export function projectServiceOn(dynamo: Dynamo & { tableNames: { projects: string } }) {
  return createProjectService({
    projects: new DynamoDBProjectRepository(createDocumentClient(dynamo.client), dynamo.tableNames.projects),
  });
}

export interface Queues extends LocalQueues {
  client: SQSClient;
}

/** fauxqs in process with every declared queue and its dead-letter queue. */
export async function startQueues(
  options: { prefix?: string; visibilityTimeoutOverrides?: Partial<Record<QueueName, number>> } = {},
): Promise<Queues> {
  const queues = await startLocalQueues({ ...options, prefix: options.prefix ?? 'test' });
  const client = new SQSClient({ endpoint: queues.endpoint, region, credentials });
  return {
    ...queues,
    client,
    async stop() {
      client.destroy();
      await queues.stop();
    },
  };
}

/**
 * Points the handlers a test (or bench) loads afterwards at these emulators, as the local stack does:
 * each declared table's and queue's variable, the endpoints, a region and placeholder credentials.
 */
export function pointHandlersAt(
  dynamo: Dynamo & { tableNames: Record<TableName, string> },
  sqs?: Queues,
  awsRegion: string = region,
): void {
  for (const [name, table] of Object.entries(tables))
    process.env[table.envVar] = dynamo.tableNames[name as TableName];
  if (sqs) {
    for (const [name, queue] of Object.entries(queues))
      process.env[queue.envVar] = sqs.queues[name as QueueName].url;
  }
  Object.assign(process.env, {
    AWS_REGION: awsRegion,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    ...(sqs ? { AWS_ENDPOINT_URL_SQS: sqs.endpoint } : {}),
    // The read API's Operations route reads it at its cold start.
    [OPERATIONS_REGIONS_VAR]: JSON.stringify([{ region: awsRegion, role: 'single', stackName: '' }]),
  });
}
