// The test run's DynamoDB Local instances: one per test worker, started once (vitest globalSetup) and
// shared by the files that worker runs one after another. See test/support/dynamodb-slot.ts.
import type { TestProject } from 'vitest/node';
import {
  type DynamoDbLocal,
  QUICK_START_JAVA_OPTIONS,
  startDynamoDbLocal,
} from '#infra/local/dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoints of the run's DynamoDB Local instances, one per worker (VITEST_POOL_ID 1, 2, …). */
    dynamodbLocalPool: string[];
  }
}

let instances: DynamoDbLocal[] = [];

export async function setup(project: TestProject): Promise<void> {
  const workers = Math.max(1, Number(project.config.maxWorkers) || 1);
  const started = await Promise.allSettled(
    Array.from({ length: workers }, () =>
      startDynamoDbLocal({ javaOptions: QUICK_START_JAVA_OPTIONS, startTimeoutMs: 120_000 }),
    ),
  );
  instances = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await teardown();
    throw failure.reason;
  }
  project.provide(
    'dynamodbLocalPool',
    instances.map((instance) => instance.endpoint),
  );
}

export async function teardown(): Promise<void> {
  await Promise.all(instances.splice(0).map((instance) => instance.stop()));
}
