// The router calls the route API Gateway matched, and answers any other route key with Rollbar's 404.
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
    '$default',
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
