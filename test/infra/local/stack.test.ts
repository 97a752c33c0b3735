// The local stack plays the whole declared wiring: tables, queues, environment, routes, and a default project.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultProject } from '#infra/local/default-project';
import { type LocalStack, startLocalStack } from '#infra/local/stack';
import { tables } from '#shared/wiring/tables';
import { commonEnvironment, queues } from '#shared/wiring/topology';
import { credentials, region } from '../../support/emulators';

let stack: LocalStack;
let client: DynamoDBClient;
let scratch: string;
const before = process.env.INGEST_QUEUE_URL;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'faultline-stack-'));
  stack = await startLocalStack({ port: 0, quiet: true, visibilityTimeoutOverrides: { ingest: 1 } });
  client = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
});

afterAll(async () => {
  client?.destroy();
  await stack?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe('the local stack', () => {
  it('creates every declared table and queue and sets their variables for the handlers', async () => {
    const { TableNames: names = [] } = await client.send(new ListTablesCommand({}));
    for (const [name, table] of Object.entries(tables)) {
      expect(names).toContain(stack.tableNames[name as keyof typeof tables]);
      expect(process.env[table.envVar]).toBe(stack.tableNames[name as keyof typeof tables]);
    }
    for (const [name, queue] of Object.entries(queues)) {
      expect(process.env[queue.envVar]).toBe(stack.queueUrls[name as keyof typeof queues]);
      const attributes = stack.queues.server.inspectQueue(`faultline-${queue.logicalId}`)?.attributes;
      const overridden = name === 'ingest' ? 1 : queue.visibilityTimeoutSeconds;
      expect(attributes?.VisibilityTimeout).toBe(String(overridden));
      expect(JSON.parse(attributes?.RedrivePolicy ?? '{}')).toMatchObject({
        maxReceiveCount: queue.maxReceiveCount,
      });
    }
    expect(process.env).toMatchObject({
      ...commonEnvironment,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: stack.endpoints.dynamodb,
      AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
    });
  });

  it('serves the declared routes through the real handlers, and 404 elsewhere', async () => {
    const health = await fetch(`${stack.url}/health`);
    expect(health.status).toBe(200);
    const nowhere = await fetch(`${stack.url}/nowhere`);
    expect(nowhere.status).toBe(404);
    expect(await nowhere.json()).toEqual({ message: 'Not Found' });
  });

  it('creates the default project once and keeps its working tokens', async () => {
    const tokensFile = join(scratch, 'local-tokens.json');
    const first = await ensureDefaultProject(client, stack.tableNames.projects, tokensFile);
    expect(first.created).toBe(true);
    expect(Object.keys(first.tokens).sort()).toEqual([
      'post_client_item',
      'post_server_item',
      'read',
      'write',
    ]);
    expect(JSON.parse(await readFile(tokensFile, 'utf8'))).toEqual(first.tokens);

    const again = await ensureDefaultProject(client, stack.tableNames.projects, tokensFile);
    expect(again).toEqual({ ...first, created: false });

    const read = await fetch(`${stack.url}/api/1/items`, {
      headers: { 'X-Rollbar-Access-Token': first.tokens.read },
    });
    expect(read.status).toBe(200);
  });

  it('accepts an item with emoji in it and stores it, as AWS does', async () => {
    const { tokens } = await ensureDefaultProject(
      client,
      stack.tableNames.projects,
      join(scratch, 'emoji-tokens.json'),
    );
    const title = 'Payment failed 💳🔥 for 👩‍💻';
    const posted = await fetch(`${stack.url}/api/1/item/`, {
      method: 'POST',
      headers: { 'X-Rollbar-Access-Token': tokens.post_server_item, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { environment: 'local', body: { message: { body: title } } } }),
    });
    expect(posted.status).toBe(200);
    const { uuid } = ((await posted.json()) as { result: { uuid: string } }).result;
    await stack.idle();
    const stored = await fetch(`${stack.url}/api/1/instance/${uuid}`, {
      headers: { 'X-Rollbar-Access-Token': tokens.read },
    });
    expect(stored.status).toBe(200);
    expect(JSON.stringify(await stored.json())).toContain(title);
  });

  it('restores the environment when stopped', async () => {
    const other = await startLocalStack({ port: 0, quiet: true, prefix: 'second' });
    expect(process.env.PROJECTS_TABLE).toBe('second-ProjectsTable');
    await other.stop();
    expect(process.env.PROJECTS_TABLE).toBe(stack.tableNames.projects);
    expect(before).toBeUndefined();
  });
});
