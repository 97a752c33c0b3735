// The HTTP adapter hands handlers the API Gateway HTTP API 2.0 event a real API would.
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpAdapter, startHttpAdapter } from '#infra/local/http-adapter';
import { loadFunction } from '#infra/local/lambda-runtime';
import type { RouteKey } from '#shared/wiring/topology';

let adapter: HttpAdapter;
const errors: unknown[] = [];

beforeAll(async () => {
  const echo = await loadFunction({
    name: 'echo',
    entry: fileURLToPath(new URL('../../support/echo-handler.ts', import.meta.url)),
    timeoutSeconds: 5,
    memoryMb: 128,
  });
  const routeKeys: RouteKey[] = [
    'POST /api/1/item',
    'GET /api/1/item/{itemId}',
    'GET /api/1/item/{itemId}/instances',
    'GET /api/1/item/special',
    'GET /files/{proxy+}',
    'GET /throws',
    'GET /plain-object',
    'GET /plain-string',
    'GET /binary',
  ];
  adapter = await startHttpAdapter({
    port: 0,
    routes: routeKeys.map((routeKey) => ({ routeKey, function: echo })),
    logError: (_message, error) => errors.push(error),
  });
});

afterAll(async () => {
  await adapter?.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** node:http rather than fetch: fetch merges repeated headers itself, and we test that the adapter does. */
function send(method: string, path: string, headers: OutgoingHttpHeaders = {}, body?: Buffer | string) {
  return new Promise<Answer>((resolve, reject) => {
    const request = httpRequest(`${adapter.url}${path}`, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function eventOf(
  method: string,
  path: string,
  headers: OutgoingHttpHeaders = {},
  body?: Buffer | string,
) {
  const answer = await send(method, path, headers, body);
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body.toString('utf8')) as {
    event: APIGatewayProxyEventV2;
    context: { functionName: string; awsRequestId: string; remainingMs: number };
  };
}

describe('the HTTP adapter', () => {
  it('builds a 2.0 event with the route key, path parameters, query and lower-cased headers', async () => {
    const { event, context } = await eventOf(
      'GET',
      '/api/1/item/it%20em-42?access_token=abc&tag=a&tag=b&empty=',
      {
        'X-Rollbar-Access-Token': 'secret',
        'X-Multi': ['one', 'two'],
        Cookie: 'session=s1; theme=dark',
        'User-Agent': 'test-agent/1.0',
      },
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /api/1/item/{itemId}',
      rawPath: '/api/1/item/it%20em-42',
      rawQueryString: 'access_token=abc&tag=a&tag=b&empty=',
      pathParameters: { itemId: 'it em-42' },
      queryStringParameters: { access_token: 'abc', tag: 'a,b', empty: '' },
      cookies: ['session=s1', 'theme=dark'],
      isBase64Encoded: false,
      requestContext: {
        accountId: expect.any(String),
        apiId: expect.any(String),
        routeKey: 'GET /api/1/item/{itemId}',
        stage: '$default',
        requestId: expect.any(String),
        timeEpoch: expect.any(Number),
        time: expect.stringMatching(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/),
        http: {
          method: 'GET',
          path: '/api/1/item/it%20em-42',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'test-agent/1.0',
        },
      },
    });
    expect(event.headers).toMatchObject({ 'x-rollbar-access-token': 'secret', 'x-multi': 'one,two' });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.body).toBeUndefined();
    expect(event.requestContext.domainName).toBe(event.headers.host);
    expect(context.functionName).toBe('echo');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.remainingMs).toBeGreaterThan(4000);
  });

  it('passes a JSON body as text and omits what the request does not carry', async () => {
    const { event } = await eventOf(
      'POST',
      '/api/1/item',
      { 'Content-Type': 'application/json' },
      '{"a":"é"}',
    );
    expect(event.body).toBe('{"a":"é"}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event).not.toHaveProperty('pathParameters');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('cookies');
    expect(event.rawQueryString).toBe('');
  });

  it('base64-encodes a multipart body, as API Gateway does for non-text media types', async () => {
    const multipart = '--xyz\r\nContent-Disposition: form-data; name="f"\r\n\r\n\u0000\u00ff\r\n--xyz--\r\n';
    const bytes = Buffer.from(multipart, 'latin1');
    const { event } = await eventOf(
      'POST',
      '/api/1/item',
      { 'Content-Type': 'multipart/form-data; boundary=xyz' },
      bytes,
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(bytes)).toBe(true);
  });

  it('matches a request path with a trailing slash to the route without it', async () => {
    const { event } = await eventOf('POST', '/api/1/item/', { 'Content-Type': 'application/json' }, '{}');
    expect(event.routeKey).toBe('POST /api/1/item');
    expect(event.rawPath).toBe('/api/1/item/');
  });

  it('prefers a literal segment to a parameter, and a parameter route to a longer one', async () => {
    expect((await eventOf('GET', '/api/1/item/special')).event.routeKey).toBe('GET /api/1/item/special');
    const { event } = await eventOf('GET', '/api/1/item/7/instances');
    expect(event.routeKey).toBe('GET /api/1/item/{itemId}/instances');
    expect(event.pathParameters).toEqual({ itemId: '7' });
  });

  it('gives a greedy {proxy+} parameter the rest of the path', async () => {
    const { event } = await eventOf('GET', '/files/a/b/c.txt');
    expect(event.pathParameters).toEqual({ proxy: 'a/b/c.txt' });
  });

  it('answers 404 Not Found for an undeclared route or method', async () => {
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['DELETE', '/api/1/item'],
      ['GET', '/files'],
    ] as const) {
      const answer = await send(method, path);
      expect(answer.status).toBe(404);
      expect(JSON.parse(answer.body.toString())).toEqual({ message: 'Not Found' });
    }
  });

  it('answers CORS preflights itself and marks cross-origin answers, as declared in httpApi.cors', async () => {
    const preflight = await send('OPTIONS', '/api/1/item', {
      origin: 'https://shop.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-rollbar-access-token',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('x-rollbar-access-token');

    const call = await send(
      'POST',
      '/api/1/item',
      { origin: 'https://shop.example', 'content-type': 'application/json' },
      '{}',
    );
    expect(call.status).toBe(200);
    expect(call.headers['access-control-allow-origin']).toBe('*');
    // Browser SDKs may read the rate limit's headers.
    expect(call.headers['access-control-expose-headers']).toContain('x-rate-limit-remaining');
    const sameOrigin = await send('POST', '/api/1/item', { 'content-type': 'application/json' }, '{}');
    expect(sameOrigin.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers 413 to a body over 10 MB without calling the handler', async () => {
    const answer = await send(
      'POST',
      '/api/1/item',
      { 'Content-Type': 'application/json' },
      Buffer.alloc(10 * 1024 * 1024 + 1, 'a'),
    );
    expect(answer.status).toBe(413);
  });

  it('answers 500 Internal Server Error when the handler throws, and reports the error', async () => {
    const answer = await send('GET', '/throws');
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body.toString())).toEqual({ message: 'Internal Server Error' });
    expect(errors.some((error) => error instanceof Error && /on purpose/.test(error.message))).toBe(true);
  });

  it('turns a plain object or string result into a 200 JSON response', async () => {
    const object = await send('GET', '/plain-object');
    expect(object.status).toBe(200);
    expect(object.headers['content-type']).toBe('application/json');
    expect(JSON.parse(object.body.toString())).toEqual({ hello: 'world' });
    const text = await send('GET', '/plain-string');
    expect(text.status).toBe(200);
    expect(text.body.toString()).toBe('just a string');
  });

  it('maps a structured response: status, headers, cookies and a base64 body', async () => {
    const answer = await send('GET', '/binary');
    expect(answer.status).toBe(201);
    expect(answer.headers['x-custom']).toBe('yes');
    expect(answer.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect([...answer.body]).toEqual([0, 1, 2, 255]);
  });
});
