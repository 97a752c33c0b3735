// The local stack for end-to-end tests, with a project and its tokens ready.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type LocalStack, startLocalStack } from '#infra/local/stack';
import { createDocumentClient } from '#shared/aws/clients';
import type { Scope } from '#shared/projects/access-tokens';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { credentials, region } from './emulators';

export interface StackWithProject {
  stack: LocalStack;
  tokens: Record<Scope, string>;
}

/**
 * Retried messages come back after 2 s instead of the declared 180 s, so failure paths test quickly;
 * no trigger waits to fill a batch.
 */
export async function startStackWithProject(
  name: string,
  options: { batching?: 'none' | 'declared' } = {},
): Promise<StackWithProject> {
  const stack = await startLocalStack({
    port: 0,
    quiet: true,
    prefix: name,
    visibilityTimeoutOverrides: { ingest: 2 },
    // One occurrence at a time: waiting for fuller batches would only slow most tests down; a file
    // that sends bursts keeps the declared windows, which fold a burst in fewer, bigger batches.
    ...(options.batching === 'declared' ? {} : { maxBatchingWindowSeconds: 0 }),
  });
  try {
    const dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
    const projects = createProjectService({
      projects: new DynamoDBProjectRepository(createDocumentClient(dynamodb), stack.tableNames.projects),
    });
    const { tokens } = await projects.createProject({ name });
    return { stack, tokens };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/** How many messages (up to 10) wait in the stack's ingest dead-letter queue: what could never be stored. */
export async function deadLetterCount(stack: LocalStack): Promise<number> {
  const sqs = new SQSClient({ endpoint: stack.endpoints.sqs, region, credentials });
  try {
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.deadLetterQueueUrls.ingest, MaxNumberOfMessages: 10 }),
    );
    return received.Messages?.length ?? 0;
  } finally {
    sqs.destroy();
  }
}
