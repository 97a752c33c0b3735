// The router calls the route API Gateway matched (or, for a function URL's `$default` event, the route its
// method and path match), and answers anything else with Rollbar's 404 or 405.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '#shared/config';
import { ok } from '#shared/http/response';
import { type RouteTable, routedHandler } from '#shared/http/router';

const context = { getRemainingTimeInMillis: () => 5000, functionName: 'test' } as Context;

function eventFor(routeKey: string) {
  return {
    routeKey,
    rawPath: '/',
    headers: {},
    requestContext: { http: { method: 'GET', path: '/' }, routeKey },
  } as unknown as APIGatewayProxyEventV2;
}

const handler = routedHandler('ingestDeploy', {
  'POST /api/1/deploy': async () => ok('recorded'),
  'PATCH /api/1/deploy/{deployId}': async (event) => ok(`updated ${event.routeKey}`),
});

async function answer(routeKey: string) {
  const result = (await handler(eventFor(routeKey), context)) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, body: JSON.parse(String(result.body)) as unknown };
}

describe('routing by route key', () => {
  it('calls the route API Gateway matched', async () => {
    expect(await answer('POST /api/1/deploy')).toEqual({ status: 200, body: { err: 0, result: 'recorded' } });
    expect(await answer('PATCH /api/1/deploy/{deployId}')).toEqual({
      status: 200,
      body: { err: 0, result: 'updated PATCH /api/1/deploy/{deployId}' },
    });
  });

  it.each([
    'GET /api/1/deploy',
    'POST /api/1/deploy/', // API Gateway's keys never end in `/`
    '',
  ])('answers the undeclared route key %j with a 404 in Rollbar shape', async (routeKey) => {
    expect(await answer(routeKey)).toEqual({
      status: 404,
      body: { err: 1, message: `no such route: ${routeKey}` },
    });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'answers a route key named like an object property (%s) with a 404, not a 500',
    async (routeKey) => {
      expect((await answer(routeKey)).status).toBe(404);
    },
  );

  it('refuses at cold start a table that differs from the declaration, should a cast slip it past the compiler', () => {
    const missingOne = { 'POST /api/1/deploy': async () => ok(1) } as unknown as RouteTable<'ingestDeploy'>;
    expect(() => routedHandler('ingestDeploy', missingOne)).toThrow(ConfigurationError);
    expect(() => routedHandler('ingestDeploy', missingOne)).toThrow(
      /missing PATCH \/api\/1\/deploy\/\{deployId\}/,
    );
    const oneTooMany = {
      'PATCH /api/1/item/{itemId}': async () => ok(1),
      'GET /api/1/items': async () => ok(1),
    } as unknown as RouteTable<'updateItem'>;
    expect(() => routedHandler('updateItem', oneTooMany)).toThrow(/undeclared GET \/api\/1\/items/);
  });
});

/** A function URL's event: no route key of its own, the method and the raw path as sent. */
function urlEvent(method: string, rawPath: string) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: {},
    requestContext: { http: { method, path: rawPath }, routeKey: '$default', stage: '$default' },
  } as unknown as APIGatewayProxyEventV2;
}

const echo = routedHandler('ingestDeploy', {
  'POST /api/1/deploy': async (event) =>
    ok({ route: event.routeKey, context: event.requestContext.routeKey }),
  'PATCH /api/1/deploy/{deployId}': async (event) =>
    ok({ route: event.routeKey, deployId: event.pathParameters?.deployId }),
});

async function answerUrl(method: string, rawPath: string) {
  const result = (await echo(urlEvent(method, rawPath), context)) as APIGatewayProxyStructuredResultV2;
  return {
    status: result.statusCode,
    allow: result.headers?.allow,
    body: JSON.parse(String(result.body)) as unknown,
  };
}

describe('routing a function URL by method and path', () => {
  it.each(['/api/1/deploy', '/api/1/deploy/'])(
    'calls the declared route %s matches, with the route key API Gateway would have sent',
    async (path) => {
      expect(await answerUrl('POST', path)).toEqual({
        status: 200,
        allow: undefined,
        body: { err: 0, result: { route: 'POST /api/1/deploy', context: 'POST /api/1/deploy' } },
      });
    },
  );

  it('gives the call its path parameters', async () => {
    expect((await answerUrl('PATCH', '/api/1/deploy/42')).body).toEqual({
      err: 0,
      result: { route: 'PATCH /api/1/deploy/{deployId}', deployId: '42' },
    });
  });

  it.each([
    ['GET', '/'],
    ['POST', '/'],
    ['POST', '/api/1/deploys'],
    ['POST', '/api/2/deploy'],
    ['POST', '/api/1/deploy/42/more'],
    ['POST', '/constructor'],
  ])('answers %s %s, which is no route, with a 404 in Rollbar shape', async (method, path) => {
    expect(await answerUrl(method, path)).toEqual({
      status: 404,
      allow: undefined,
      body: { err: 1, message: `no such route: ${method} ${path}` },
    });
  });

  it.each(['GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'])(
    'answers %s on a route of another method with a 405 that names the allowed one',
    async (method) => {
      expect(await answerUrl(method, '/api/1/deploy/')).toEqual({
        status: 405,
        allow: 'POST',
        body: { err: 1, message: `${method} is not allowed on /api/1/deploy/: use POST` },
      });
    },
  );

  it('echoes at most the first 100 characters of a long path', async () => {
    const { status, body } = await answerUrl('GET', `/${'x'.repeat(5000)}`);
    expect(status).toBe(404);
    expect(body).toEqual({ err: 1, message: `no such route: GET /${'x'.repeat(99)}…` });
  });
});
