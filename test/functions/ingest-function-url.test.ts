// SDKs post items to ingest's Lambda function URL: events with no route key of their own (`$default`), the
// method and the raw path as sent. Through the real handler on DynamoDB Local and fauxqs: accepted and
// queued exactly as through the API, and anything else on the URL refused in Rollbar's shape.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoke, type LoadedFunction, loadDeclaredFunction } from '#infra/local/lambda-runtime';
import type { TableName } from '#shared/wiring/tables';
import {
  type Dynamo,
  pointHandlersAt,
  projectServiceOn,
  type Queues,
  startDynamoWithTables,
  startQueues,
} from '../support/emulators';
import { errorData } from '../support/occurrences';

const host = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws';

let dynamo: Dynamo & { tableNames: Record<TableName, string> };
let sqs: Queues;
let ingest: LoadedFunction;
let token: string;

beforeAll(async () => {
  [dynamo, sqs] = await Promise.all([startDynamoWithTables('url'), startQueues({ prefix: 'url' })]);
  pointHandlersAt(dynamo, sqs, 'eu-west-1');
  const projects = projectServiceOn(dynamo);
  token = (await projects.createProject({ name: 'url' })).tokens.post_client_item;
  ingest = await loadDeclaredFunction('ingestItem');
}, 60_000);

afterAll(async () => {
  await Promise.all([dynamo?.stop(), sqs?.stop()]);
});

/** The event a function URL sends, as AWS documents it: `$default` keys, the raw path, no path parameters. */
function urlEvent(method: string, rawPath: string, body?: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host,
      origin: 'https://shop.example.com',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-rollbar-access-token': token,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: host.split('.')[0]!,
      domainName: host,
      domainPrefix: host.split('.')[0]!,
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'rollbar-browser-js',
      },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: '30/Nov/2026:12:00:00 +0000',
      timeEpoch: Date.now(),
    },
  };
}

async function send(method: string, rawPath: string, body?: string) {
  const result = (await invoke(ingest, urlEvent(method, rawPath, body))) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, headers: result.headers ?? {}, body: JSON.parse(String(result.body)) };
}

/** Everything waiting in the ingest queue, taken off it. */
async function drainIngestQueue(): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.queues.ingest.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((message) => message.Body ?? ''));
  }
}

describe('posting items to the function URL', () => {
  it('accepts and queues each item at every path SDKs post to, with or without the trailing slash', async () => {
    // rollbar.js posts to the endpoint itself, the other SDKs to its `item/`.
    const paths = ['/api/1/', '/api/1', '/api/1/item/', '/api/1/item'];
    const uuids: string[] = [];
    for (const [index, path] of paths.entries()) {
      const uuid = crypto.randomUUID();
      uuids.push(uuid);
      const answer = await send(
        'POST',
        path,
        JSON.stringify({ data: { ...errorData({ message: `via ${path}` }), uuid } }),
      );
      expect(answer).toMatchObject({ status: 200, body: { err: 0, result: { id: null, uuid } } });
      // The rate limit's headers, which the URL's CORS exposes to browser SDKs.
      expect(answer.headers['x-rate-limit-remaining']).toBe(String(5000 - index - 1));
    }
    const queued = await drainIngestQueue();
    expect(queued).toHaveLength(paths.length);
    for (const uuid of uuids) expect(queued.filter((body) => body.includes(uuid))).toHaveLength(1);
  });

  it('refuses a bad item there as on the API, in Rollbar shape', async () => {
    expect(await send('POST', '/api/1/item/', '{not json')).toMatchObject({ status: 400, body: { err: 1 } });
    expect(await send('POST', '/api/1/', JSON.stringify({ data: {} }))).toMatchObject({
      status: 422,
      body: { err: 1 },
    });
    expect(await drainIngestQueue()).toEqual([]);
  });

  it.each([
    ['POST', '/'],
    ['GET', '/'],
    ['POST', '/api/1/deploy/'],
    ['GET', '/api/1/items/'],
    ['POST', '/api/1/item/extra'],
    ['POST', '/health'],
  ])('answers %s %s, which ingest does not serve, with a 404 and queues nothing', async (method, path) => {
    expect(await send(method, path, JSON.stringify({ data: errorData() }))).toMatchObject({
      status: 404,
      body: { err: 1, message: `no such route: ${method} ${path}` },
    });
    expect(await drainIngestQueue()).toEqual([]);
  });

  it.each(['GET', 'PUT', 'DELETE'])(
    'answers %s on the item path with a 405 naming POST, and queues nothing',
    async (method) => {
      expect(await send(method, '/api/1/item/', JSON.stringify({ data: errorData() }))).toMatchObject({
        status: 405,
        headers: { allow: 'POST' },
        body: { err: 1, message: `${method} is not allowed on /api/1/item/: use POST` },
      });
      expect(await drainIngestQueue()).toEqual([]);
    },
  );
});
