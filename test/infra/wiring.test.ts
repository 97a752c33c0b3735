// Each handler uses only the tables and queues its declaration grants, and is granted only the
// actions it sends. The local stack gives every handler every variable and every right, so only
// these checks catch a handler that would fail its cold start, or be refused, in AWS.
import { readFile } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSentActions, type SentActionRecorder } from '#infra/local/sent-actions';
import type { LocalStack } from '#infra/local/stack';
import { createDocumentClient } from '#shared/aws/clients';
import type { Scope } from '#shared/projects/access-tokens';
import { emptyFacets } from '#shared/search/document';
import { DynamoDBDailySummaries } from '#shared/store/daily-summaries';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import type { TableName } from '#shared/wiring/tables';
import {
  type FunctionDeclaration,
  type FunctionName,
  functions,
  type QueueName,
} from '#shared/wiring/topology';
import { credentials, region } from '../support/emulators';
import { startStackWithProject } from '../support/local-stack';
import { startWebhookReceiver, type WebhookReceiver } from '../support/vendors/webhook-receiver';

const repoRoot = new URL('../../', import.meta.url);

/** What `consume` grants on a queue (CDK's grantConsumeMessages, which Lambda's SQS event source adds). */
const CONSUME_ACTIONS = ['ReceiveMessage', 'DeleteMessage', 'ChangeMessageVisibility', 'GetQueueAttributes'];

function namesIn(source: string, call: 'tableNames' | 'queueUrls'): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(new RegExp(`${call}\\(\\[([^\\]]*)\\]`, 'g'))) {
    for (const name of match[1]!.matchAll(/'([^']+)'/g)) names.push(name[1]!);
  }
  return names;
}

/** Every table and queue a declaration grants, in one region or in any part of several. */
function everyGrant(declaration: FunctionDeclaration): { tables: string[]; queues: string[] } {
  const accesses = [declaration, ...Object.values(declaration.severalRegions ?? {})];
  return {
    tables: [...new Set(accesses.flatMap((access) => Object.keys(access.tables)))],
    queues: [...new Set(accesses.flatMap((access) => Object.keys(access.queues)))],
  };
}

async function sourceOf(name: FunctionName): Promise<string> {
  return readFile(new URL(functions[name].entry, repoRoot), 'utf8');
}

describe('the wiring declares what each handler uses', () => {
  it.each(Object.entries(functions))('%s', async (_name, declaration: FunctionDeclaration) => {
    const source = await readFile(new URL(declaration.entry, repoRoot), 'utf8');
    const tables = namesIn(source, 'tableNames');
    const queues = namesIn(source, 'queueUrls');
    const granted = everyGrant(declaration);
    // A function that declares tables or queues names some (the reading of its source works); one that
    // declares none (the dashboard's static files) names none.
    const declaresAny = granted.tables.length + granted.queues.length > 0;
    expect(tables.length + queues.length > 0).toBe(declaresAny);
    for (const table of tables) expect(granted.tables).toContain(table);
    for (const queue of queues) expect(granted.queues).toContain(queue);
  });

  // The other way round: a table declared but never named is a grant nobody needs.
  it.each(Object.entries(functions))(
    '%s is granted no table it does not name',
    async (_name, declaration: FunctionDeclaration) => {
      const source = await readFile(new URL(declaration.entry, repoRoot), 'utf8');
      expect(everyGrant(declaration).tables.sort()).toEqual(
        [...new Set(namesIn(source, 'tableNames'))].sort(),
      );
    },
  );

  it('the storing worker only stores occurrences; the fold counts them into projects and items', async () => {
    // In several regions it also reads the home row and records deploys posted to edges.
    expect(namesIn(await sourceOf('storeOccurrences'), 'tableNames').sort()).toEqual([
      'items',
      'occurrences',
      'projects',
    ]);
    expect(functions.storeOccurrences.tables).toEqual({ occurrences: ['GetItem', 'PutItem'] });
    expect(namesIn(await sourceOf('foldOccurrences'), 'tableNames').sort()).toEqual([
      'items',
      'occurrences',
      'projects',
    ]);
  });
});

// Every route and every path of the worker and the fold that sends something of its own: a new item,
// an existing item seen by a new person (whose marker is looked for), deploys, an item changed by hand.
describe('each function is granted exactly the actions it sends, as recorded on the emulators', () => {
  let recorder: SentActionRecorder;
  let stack: LocalStack;
  let tokens: Record<Scope, string>;
  let receiver: WebhookReceiver;
  const declarations: Record<FunctionName, FunctionDeclaration> = functions;

  async function call(method: string, path: string, token: string | undefined, body?: unknown) {
    const response = await fetch(`${stack.url}${path}`, {
      method,
      headers: { ...(token ? { 'X-Rollbar-Access-Token': token } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as { result?: Record<string, unknown> };
    expect(response.status, `${method} ${path}: ${JSON.stringify(answer)}`).toBe(200);
    return answer.result ?? {};
  }

  const report = (title: string, person: string) =>
    call('POST', '/api/1/item/', tokens.post_server_item, {
      data: {
        environment: 'production',
        body: { message: { body: title } },
        person: { id: person },
      },
    });

  beforeAll(async () => {
    recorder = recordSentActions();
    ({ stack, tokens } = await startStackWithProject('wiring'));

    await call('GET', '/health', undefined);
    // Rules that make the fan-out, the sender and the summaries send all they can: a webhook (which
    // reads the last occurrence), occurrences under an interval, a rate window, a summary due now.
    receiver = await startWebhookReceiver();
    const hook = { url: receiver.url };
    await call('POST', '/api/1/notifications/webhook/rules', tokens.write, [
      {
        trigger: 'new_item',
        filters: [{ type: 'path', path: 'body.message.body', operation: 'exists' }],
        config: hook,
      },
      { trigger: 'occurrence', config: { ...hook, action_interval: 60 } },
      { trigger: 'occurrence_rate', filters: [{ type: 'rate', period: 60, count: 2 }], config: hook },
    ]);
    const now = new Date();
    const quarterHour = now.getUTCHours() * 3600 + Math.floor(now.getUTCMinutes() / 15) * 900;
    await call('POST', '/api/1/notifications/email/rules', tokens.write, [
      {
        trigger: 'daily_summary',
        config: { to: ['team@example.com'], summary_time: quarterHour, send_only_if_data: false },
      },
    ]);

    const { uuid } = await report('the wiring test error', 'person-1');
    await stack.idle();
    await report('the wiring test error', 'person-2');
    await report('another wiring test error', 'person-1');
    await stack.idle();

    const deploy = await fetch(`${stack.url}/api/1/deploy/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: tokens.write, environment: 'production', revision: 'abc' }),
    });
    const deployId = ((await deploy.json()) as { data: { deploy_id: number } }).data.deploy_id;
    await call('PATCH', `/api/1/deploy/${deployId}`, tokens.write, { status: 'succeeded' });

    const item = await call('GET', '/api/1/item_by_counter/1', tokens.read);
    await call('PATCH', `/api/1/item/${item.id}`, tokens.write, { status: 'resolved' });
    // A host the item was seen on, so that a search by host reads the documents it selects.
    const searchClient = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
    await new DynamoDBSearchIndex(createDocumentClient(searchClient), stack.tableNames.search).putFacets(
      Number(item.project_id),
      [{ item_id: Number(item.id), facets: { ...emptyFacets(), hosts: ['web-1'] } }],
    );
    searchClient.destroy();
    for (const path of [
      '/api/1/items',
      // Searches: the index's documents (by partition, and those a host selects), then the items re-checked.
      '/api/1/items?query=wiring',
      '/api/1/items?query=wiring%20host:web',
      `/api/1/item/${item.id}`,
      `/api/1/item/${item.id}/instances`,
      `/api/1/instance/${uuid}`,
      `/api/1/item/${item.id}/counts`,
      '/api/1/counts?environment=production',
      '/api/1/person/person-1/instances',
      '/api/1/deploys',
      `/api/1/deploy/${deployId}`,
    ]) {
      await call('GET', path, tokens.read);
    }

    // Every route of the rules API. The rule is disabled, so its sample delivery is skipped, not posted.
    const rules = '/api/1/notifications/webhook';
    const created = (await call('POST', `${rules}/rules`, tokens.write, [
      { trigger: 'new_item', status: 'disabled', config: { url: 'https://93.184.215.14/hook' } },
    ])) as unknown as Array<{ id: number }>;
    const rule = `${rules}/rule/${created[0]!.id}`;
    await call('GET', `${rules}/rules`, tokens.read);
    await call('GET', rule, tokens.read);
    await call('PUT', rule, tokens.write, {
      trigger: 'deploy',
      config: { url: 'https://93.184.215.14/hook' },
    });
    await call('GET', `${rule}/log`, tokens.read);
    await call('POST', `${rule}/test`, tokens.write);
    await stack.idle();
    await call('DELETE', rule, tokens.write);
    // Yesterday had a new item, so the summary due now has items to read (today's tallies wait a day).
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region, credentials });
    await new DynamoDBDailySummaries(createDocumentClient(dynamodb), stack.tableNames.notifications).markItem(
      {
        projectId: Number(item.project_id),
        day: yesterday,
        itemId: Number(item.id),
        kind: 'NEW',
      },
    );
    dynamodb.destroy();
    await stack.runScheduled('sendDailySummaries');
    await stack.idle();
    expect(receiver.accepted().length).toBeGreaterThan(0);
  }, 120_000);

  afterAll(async () => {
    await receiver?.stop();
    recorder?.stop();
    await stack?.stop();
  });

  // The forwarder runs in edge regions only; the two-region simulation records it (test/e2e/regions.test.ts).
  it.each((Object.keys(functions) as FunctionName[]).filter((name) => name !== 'forwardOccurrences'))(
    '%s',
    (name) => {
      const declaration = declarations[name];
      const tableOf = new Map(Object.entries(stack.tableNames).map(([table, local]) => [local, table]));
      const queueOf = new Map(Object.entries(stack.queueUrls).map(([queue, url]) => [url, queue]));
      const sent = { tables: {} as Record<string, Set<string>>, queues: {} as Record<string, Set<string>> };
      for (const action of recorder.actions.filter((recorded) => recorded.functionName === name)) {
        const [kind, resource] =
          action.service === 'dynamodb'
            ? (['tables', tableOf.get(action.resource) ?? action.resource] as const)
            : (['queues', queueOf.get(action.resource) ?? action.resource] as const);
        sent[kind][resource] ??= new Set();
        sent[kind][resource].add(action.action);
      }
      const sorted = (record: Record<string, Set<string>>) =>
        Object.fromEntries(Object.entries(record).map(([key, actions]) => [key, [...actions].sort()]));
      // Fails on a grant the handler never uses as much as on an action it sends without a grant.
      expect(sorted(sent.tables)).toEqual(
        Object.fromEntries(
          (Object.entries(declaration.tables) as Array<[TableName, readonly string[]]>).map(
            ([table, actions]) => [table, [...actions].sort()],
          ),
        ),
      );
      const declaredQueues = Object.entries(declaration.queues) as Array<
        [QueueName, FunctionDeclaration['queues'][QueueName]]
      >;
      // Consuming a queue grants what Lambda's event source needs (grantConsumeMessages): a consumer's
      // code may also change a received message's visibility, which is no extra grant.
      for (const [queue, access] of declaredQueues) {
        if (access !== 'consume' || !sent.queues[queue]) continue;
        for (const action of sent.queues[queue]) {
          if (CONSUME_ACTIONS.includes(action)) sent.queues[queue].delete(action);
        }
        if (sent.queues[queue].size === 0) delete sent.queues[queue];
      }
      const sentQueues = Object.fromEntries(
        declaredQueues
          .filter(([, access]) => access !== 'consume')
          .map(([queue, actions]) => [queue, [...(actions as readonly string[])].sort()]),
      );
      expect(sorted(sent.queues)).toEqual(sentQueues);
    },
  );
});
