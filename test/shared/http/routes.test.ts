// Route selection as API Gateway's HTTP API makes it, which the local adapter plays and the router uses
// for a function URL's events.
import { describe, expect, it } from 'vitest';
import { matchRoute, methodsMatching, parseRouteKey } from '#shared/http/routes';
import type { RouteKey } from '#shared/wiring/topology';

const routes = (
  [
    'GET /api/1/item/{itemId}',
    'GET /api/1/item/special',
    'GET /api/1/item/{itemId}/instances',
    'POST /api/1/item',
    'GET /files/{proxy+}',
  ] as RouteKey[]
).map((routeKey) => ({ routeKey, pattern: parseRouteKey(routeKey) }));

const match = (method: string, path: string) => {
  const found = matchRoute(routes, method, path);
  return found && { routeKey: found.route.routeKey, pathParameters: found.pathParameters };
};

describe('a request', () => {
  it('takes the most specific route: a literal segment before a {param}', () => {
    expect(match('GET', '/api/1/item/special')).toEqual({
      routeKey: 'GET /api/1/item/special',
      pathParameters: undefined,
    });
    expect(match('GET', '/api/1/item/42')).toEqual({
      routeKey: 'GET /api/1/item/{itemId}',
      pathParameters: { itemId: '42' },
    });
  });

  it('matches with or without a trailing slash, as route paths never end in one', () => {
    expect(match('POST', '/api/1/item/')?.routeKey).toBe('POST /api/1/item');
    expect(match('POST', '/api/1/item')?.routeKey).toBe('POST /api/1/item');
  });

  it('has its path parameters decoded, and keeps a segment that does not decode as sent', () => {
    expect(match('GET', '/api/1/item/a%20b/instances')?.pathParameters).toEqual({ itemId: 'a b' });
    expect(match('GET', '/api/1/item/100%/instances')?.pathParameters).toEqual({ itemId: '100%' });
  });

  it('gives a {proxy+} route the rest of the path, at least one segment', () => {
    expect(match('GET', '/files/a/b%2Fc/d')?.pathParameters).toEqual({ proxy: 'a/b/c/d' });
    expect(match('GET', '/files/')).toBeUndefined();
  });

  it('matches no route of another method, or with more or fewer segments', () => {
    expect(match('DELETE', '/api/1/item/42')).toBeUndefined();
    expect(match('GET', '/api/1/item/42/instances/7')).toBeUndefined();
    expect(match('GET', '/api/1')).toBeUndefined();
  });
});

describe('the methods a path allows', () => {
  it('are those of the routes its path matches, each once', () => {
    expect(methodsMatching(routes, '/api/1/item/')).toEqual(['POST']);
    expect(methodsMatching(routes, '/api/1/item/42')).toEqual(['GET']);
    expect(methodsMatching(routes, '/api/1/nothing')).toEqual([]);
  });
});
