// DynamoDB Local starts from the cached jar, keeps data in a directory when asked, and leaves no JVM behind.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNING_DYNAMODB_LOCAL, startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { credentials, region } from '../../support/emulators';

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'faultline-ddb-'));
  // This file tests starting a JVM, not the test run's shared one (test/support/dynamodb-slot.ts).
  delete process.env[RUNNING_DYNAMODB_LOCAL];
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `start` with PATH pointing only at `dir`, as on a machine without (or with another) Java. */
async function withPath<T>(dir: string, start: () => Promise<T>): Promise<T> {
  const path = process.env.PATH;
  process.env.PATH = dir;
  try {
    return await start();
  } finally {
    process.env.PATH = path;
  }
}

describe('startDynamoDbLocal', () => {
  it('keeps tables in the data directory across restarts, and stop() ends the JVM', {
    timeout: 120_000,
  }, async () => {
    const dataDir = join(scratch, 'data');
    const first = await startDynamoDbLocal({ dataDir });
    const client = new DynamoDBClient({ endpoint: first.endpoint, region, credentials });
    await client.send(
      new CreateTableCommand({
        TableName: 'kept',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }],
      }),
    );
    client.destroy();
    await first.stop();
    expect(isRunning(first.pid)).toBe(false);

    const second = await startDynamoDbLocal({ dataDir });
    const again = new DynamoDBClient({ endpoint: second.endpoint, region, credentials });
    try {
      expect((await again.send(new ListTablesCommand({}))).TableNames).toEqual(['kept']);
    } finally {
      again.destroy();
      await second.stop();
    }
  });

  it('says how to install Java when there is none', async () => {
    const empty = join(scratch, 'no-java');
    await expect(withPath(empty, () => startDynamoDbLocal({}))).rejects.toThrow(
      /DynamoDB Local needs Java 17\+: install a JDK, e\.g\. apt-get install openjdk-17-jre-headless/,
    );
  });

  it('refuses a Java older than 17', async () => {
    const oldJava = join(scratch, 'old-java');
    await mkdir(oldJava, { recursive: true });
    await writeFile(join(oldJava, 'java'), '#!/bin/sh\necho \'java version "1.8.0_392"\' >&2\n');
    await chmod(join(oldJava, 'java'), 0o755);
    await expect(withPath(oldJava, () => startDynamoDbLocal({}))).rejects.toThrow(/Java 17\+.*1\.8\.0_392/s);
  });

  it('uses a DynamoDB Local already running when one is named, and leaves it to whoever started it', {
    timeout: 120_000,
  }, async () => {
    process.env[RUNNING_DYNAMODB_LOCAL] = 'http://127.0.0.1:8123';
    try {
      const running = await startDynamoDbLocal({});
      expect(running).toMatchObject({ endpoint: 'http://127.0.0.1:8123', port: 8123, pid: undefined });
      await running.stop();
      // A data directory asks for an instance of its own.
      const own = await startDynamoDbLocal({ dataDir: join(scratch, 'own') });
      try {
        expect(own.endpoint).not.toBe('http://127.0.0.1:8123');
        expect(isRunning(own.pid)).toBe(true);
      } finally {
        await own.stop();
      }
    } finally {
      delete process.env[RUNNING_DYNAMODB_LOCAL];
    }
  });
});
