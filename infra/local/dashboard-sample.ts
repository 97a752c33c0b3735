// A local stack with a project that has something to show: items of each level sent through the
// official rollbar SDK, a deploy, a resolved item and a notification rule. For the dashboard's
// screenshots and bench, which must show real API data, never made-up numbers.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import Rollbar from 'rollbar';
import { createDocumentClient } from '#shared/aws/clients';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { LOCAL_REGION, type LocalStack, startLocalStack } from './stack';

export interface DashboardSample {
  stack: LocalStack;
  /** Reads and writes: every button of the dashboard shows. */
  token: string;
  readToken: string;
  /** The counter of an item with a stack trace, for its page. */
  errorCounter: number;
}

class CheckoutError extends Error {
  override name = 'CheckoutError';
}

function chargeCard(): never {
  throw new TypeError("Cannot read properties of undefined (reading 'card')");
}

function checkout(): Error {
  try {
    chargeCard();
  } catch (cause) {
    return new CheckoutError('payment failed for basket 42', { cause });
  }
}

export async function startDashboardSample(options: { items?: number } = {}): Promise<DashboardSample> {
  const stack = await startLocalStack({ port: 0, quiet: true, prefix: 'sample', logError: () => {} });
  try {
    const documents = createDocumentClient(
      new DynamoDBClient({
        endpoint: stack.endpoints.dynamodb,
        region: LOCAL_REGION,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    const projects = createProjectService({
      projects: new DynamoDBProjectRepository(documents, stack.tableNames.projects),
    });
    const { project, tokens } = await projects.createProject({ name: 'shop' });
    const token = await projects.createAccessToken(project.projectId, ['read', 'write'], 'dashboard');

    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'X-Rollbar-Access-Token': tokens.post_server_item },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    };
    await post('/api/1/deploy/', {
      environment: 'production',
      revision: '9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6',
      local_username: 'ann',
      comment: 'Checkout: new payment provider',
    });

    const rollbar = new Rollbar({
      accessToken: tokens.post_server_item,
      endpoint: `${stack.url}/api/1/`,
      environment: 'production',
      codeVersion: '2.4.0',
      captureUncaught: false,
      captureUnhandledRejections: false,
      reportLevel: 'debug',
    });
    const send = (call: (done: Rollbar.Callback) => void) =>
      new Promise((resolve, reject) => call((error) => (error ? reject(error) : resolve(undefined))));
    const person = { id: '7', username: 'bob', email: 'bob@example.com' };
    for (let i = 0; i < 3; i++) {
      await send((done) =>
        rollbar.error(checkout(), { method: 'POST', url: 'https://shop.example.com/checkout', person }, done),
      );
    }
    await send((done) => rollbar.critical(new RangeError('Maximum call stack size exceeded'), done));
    await send((done) => rollbar.warning('Payment provider answered slowly (2.8 s)', done));
    await send((done) => rollbar.info('Nightly export finished', { rows: 1204 }, done));
    for (let i = 0; i < (options.items ?? 0); i++) {
      await send((done) => rollbar.error(`Sample error number ${i}`, done));
    }
    const expected = 4 + (options.items ?? 0);

    const read = async <T>(path: string): Promise<T> => {
      const response = await fetch(`${stack.url}${path}`, { headers: { 'X-Rollbar-Access-Token': token } });
      return ((await response.json()) as { result: T }).result;
    };
    type Listed = { id: number; counter: number; level: string; title: string };
    let listed: Listed[] = [];
    for (let attempt = 0; attempt < 200 && listed.length < expected; attempt++) {
      listed = (await read<{ items: Listed[] }>('/api/1/items')).items;
      if (listed.length < expected) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const error = listed.find((item) => item.title.startsWith('CheckoutError'));
    const info = listed.find((item) => item.level === 'info');
    if (!error || !info) throw new Error('the sample items never appeared');
    await fetch(`${stack.url}/api/1/item/${info.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', 'X-Rollbar-Access-Token': token },
      body: JSON.stringify({ status: 'resolved', resolved_in_version: '2.4.1' }),
    });
    await fetch(`${stack.url}/api/1/notifications/webhook/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Rollbar-Access-Token': token },
      body: JSON.stringify([
        {
          trigger: 'new_item',
          filters: [{ type: 'environment', operation: 'eq', value: 'production' }],
          config: { url: 'http://127.0.0.1:9/hook' },
        },
      ]),
    });
    return { stack, token, readToken: tokens.read, errorCounter: error.counter };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
