// Every HTTP function routes exactly the routes the wiring declares for it, and no other.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { invoke, type LoadedFunction, loadDeclaredFunction } from '#infra/local/lambda-runtime';
import { tables } from '#shared/wiring/tables';
import { type FunctionName, functions, queues, type RouteKey } from '#shared/wiring/topology';

const httpFunctions = (Object.keys(functions) as FunctionName[]).flatMap((name) => {
  const trigger = functions[name].trigger;
  return trigger.kind === 'http' ? [{ name, routes: trigger.routes as readonly RouteKey[] }] : [];
});
const declaredRoutes = httpFunctions.flatMap(({ name, routes }) =>
  routes.map((routeKey) => ({ name, routeKey })),
);

const loaded = new Map<FunctionName, LoadedFunction>();

beforeAll(async () => {
  // Nothing is reachable: a request that got as far as AWS fails fast instead of routing silently.
  for (const table of Object.values(tables)) process.env[table.envVar] = `faultline-${table.logicalId}`;
  for (const queue of Object.values(queues))
    process.env[queue.envVar] = 'http://127.0.0.1:9/000000000000/ingest';
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9',
    AWS_MAX_ATTEMPTS: '1',
    // The rules API opens channel credentials with it, read at its cold start.
    FAULTLINE_SECRETS_KEY: Buffer.alloc(32).toString('base64'),
    // The read API's Operations route: the regions whose metrics it reads, at its cold start.
    FAULTLINE_OPERATIONS_REGIONS: JSON.stringify([
      { region: 'us-east-1', role: 'single', stackName: 'Faultline-us-east-1' },
    ]),
  });
  for (const { name } of httpFunctions) {
    loaded.set(name, await loadDeclaredFunction(name));
  }
});

/** The event API Gateway sends for a request that matched `routeKey`, with no token. */
function eventFor(routeKey: string): APIGatewayProxyEventV2 {
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  const rawPath = path.replaceAll(/\{[^}]+\}/g, '1');
  const pathParameters = Object.fromEntries(
    [...path.matchAll(/\{([^}]+)\}/g)].map((match) => [match[1]!, '1']),
  );
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    pathParameters,
    body: '{}',
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'request',
      routeKey,
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

async function answer(name: FunctionName, routeKey: string) {
  const result = (await invoke(loaded.get(name)!, eventFor(routeKey))) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, body: JSON.parse(String(result.body)) as Record<string, unknown> };
}

describe('HTTP functions route from the wiring', () => {
  it('finds the HTTP functions and their routes in the declaration', () => {
    expect(httpFunctions.map(({ name }) => name)).toEqual(
      expect.arrayContaining(['ingestItem', 'ingestDeploy', 'readApi', 'updateItem']),
    );
    expect(declaredRoutes.length).toBeGreaterThanOrEqual(15);
  });

  // Reaching its service shows: the API's services refuse a request without a token (before any
  // read), and the health check reports what it could not reach.
  // The dashboard's function has no build to serve here (test/shared/dashboard/serving.test.ts serves one).
  it.each(declaredRoutes)('$routeKey reaches what $name does for it', async ({ name, routeKey }) => {
    expect(await answer(name, routeKey)).toEqual(
      name === 'health'
        ? { status: 503, body: { ok: false, checks: { table: 'failing', queue: 'failing' } } }
        : name === 'serveDashboard'
          ? routeKey === 'GET /assets/{file}'
            ? { status: 404, body: { err: 1, message: 'no such dashboard asset' } }
            : {
                status: 503,
                body: {
                  err: 1,
                  message: 'the dashboard is not built: run `npm run build:dashboard` or redeploy',
                },
              }
          : { status: 403, body: { err: 1, message: 'missing access token' } },
    );
  });

  it.each(httpFunctions)(
    '$name answers a route it does not declare with a 404 in Rollbar shape',
    async ({ name }) => {
      expect(await answer(name, 'GET /api/1/nothing/here')).toEqual({
        status: 404,
        body: { err: 1, message: 'no such route: GET /api/1/nothing/here' },
      });
    },
  );
});
