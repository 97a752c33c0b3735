// Plays API Gateway HTTP API locally: turns requests into payload format 2.0 events for the declared routes.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { matchRoute, parseRouteKey } from '#shared/http/routes';
import { type RequestNote, withRequestNote } from '#shared/observability';
import { httpApi, type RouteKey } from '#shared/wiring/topology';
import { invoke, type LoadedFunction } from './lambda-runtime';

export interface HttpRoute {
  routeKey: RouteKey;
  function: LoadedFunction;
}

export interface HttpAdapterOptions {
  routes: HttpRoute[];
  /** 0 picks a free port. */
  port: number;
  /** Interface to listen on; 127.0.0.1 unless told. */
  host?: string;
  /** Where handler errors are reported; console.error unless told. */
  logError?: (message: string, error: unknown) => void;
  /** Receives one short line per request (`POST /api/1/item/ 200 12ms project=1`); none unless told. */
  logRequest?: (line: string) => void;
}

export interface HttpAdapter {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** API Gateway's payload quota: a larger request never reaches the integration. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

const ACCOUNT_ID = '123456789012';
const API_ID = 'local';

export async function startHttpAdapter(options: HttpAdapterOptions): Promise<HttpAdapter> {
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const routes = options.routes.map((route) => ({ ...route, pattern: parseRouteKey(route.routeKey) }));
  const server = createServer((request, response) => {
    const started = performance.now();
    const note: RequestNote = {};
    handle(request, response, note)
      .catch((error: unknown) => {
        logError('http adapter: request failed', error);
        if (!response.headersSent) send(response, 500, { message: 'Internal Server Error' });
        else response.destroy();
      })
      .finally(() => options.logRequest?.(requestLine(request, response.statusCode, started, note)));
  });

  async function handle(
    request: IncomingMessage,
    response: ServerResponse,
    note: RequestNote,
  ): Promise<void> {
    const requestId = randomUUID();
    response.setHeader('apigw-requestid', requestId);
    const method = request.method ?? 'GET';
    const target = new URL(request.url ?? '/', 'http://local');
    if (answerCors(request, response)) return;
    const match = matchRoute(routes, method, target.pathname);
    if (!match) {
      request.resume();
      send(response, 404, { message: 'Not Found' });
      return;
    }
    const body = await readBody(request);
    if (body === 'too large') {
      send(response, 413, { message: 'Request Entity Too Large' });
      return;
    }
    const event = toEvent(request, target, body, match.route.routeKey, match.pathParameters, requestId);
    let result: unknown;
    try {
      const invoked = await withRequestNote(() => invoke(match.route.function, event));
      result = invoked.result;
      Object.assign(note, invoked.note);
    } catch (error) {
      // API Gateway hides the function's error from the client; the function's logs show it.
      logError(`${match.route.function.name} (${match.route.routeKey}) failed`, error);
      send(response, 500, { message: 'Internal Server Error' });
      return;
    }
    const reply = toReply(result);
    if (!reply) {
      logError(`${match.route.function.name} returned a malformed response`, result);
      send(response, 500, { message: 'Internal Server Error' });
      return;
    }
    response.statusCode = reply.statusCode;
    for (const [name, value] of Object.entries(reply.headers)) response.setHeader(name, value);
    if (reply.cookies.length > 0) response.setHeader('set-cookie', reply.cookies);
    response.end(reply.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost =
    options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : 'localhost';
  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * `POST /api/1/item/ 422 3ms project=1 data.body: required`: the path without its query (which may
 * hold an access token), and the project and refusal reason the handler logged.
 */
function requestLine(request: IncomingMessage, status: number, started: number, note: RequestNote): string {
  const path = new URL(request.url ?? '/', 'http://local').pathname;
  const parts = [
    request.method ?? 'GET',
    path,
    String(status),
    `${Math.round(performance.now() - started)}ms`,
  ];
  if (note.projectId !== undefined) parts.push(`project=${note.projectId}`);
  if (note.reason) parts.push(`— ${note.reason}`);
  return parts.join(' ');
}

async function readBody(request: IncomingMessage): Promise<Buffer | 'too large'> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    request.resume();
    return 'too large';
  }
  // Events rather than `for await`: leaving that loop early destroys the socket before the 413 is sent.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      // Answer now and let the rest of the upload drain unread.
      request.off('data', onData);
      request.resume();
      resolve('too large');
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

/** Media types API Gateway passes as text; any other body (multipart, octet-stream, none) is base64. */
export function isTextContentType(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!type) return false;
  return (
    type.startsWith('text/') ||
    /^application\/(json|xml|javascript|x-www-form-urlencoded|graphql)$/.test(type) ||
    /\+(json|xml)$/.test(type)
  );
}

function toEvent(
  request: IncomingMessage,
  target: URL,
  body: Buffer,
  routeKey: RouteKey,
  pathParameters: Record<string, string> | undefined,
  requestId: string,
): APIGatewayProxyEventV2 {
  // Duplicate headers are joined with commas; cookies move to their own field, as in format 2.0.
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      cookies = values.flatMap((value) => value.split(';').map((cookie) => cookie.trim())).filter(Boolean);
      continue;
    }
    headers[name] = values.join(',');
  }
  const rawQueryString = target.search.startsWith('?') ? target.search.slice(1) : '';
  const query = new Map<string, string[]>();
  for (const [name, value] of target.searchParams) query.set(name, [...(query.get(name) ?? []), value]);
  const text = isTextContentType(headers['content-type']);
  const now = new Date();
  const method = request.method ?? 'GET';
  const host = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey,
    rawPath: target.pathname,
    rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(query.size > 0
      ? {
          queryStringParameters: Object.fromEntries(
            [...query].map(([name, values]) => [name, values.join(',')]),
          ),
        }
      : {}),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: API_ID,
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method,
        path: target.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(pathParameters ? { pathParameters } : {}),
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !text,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's request time format. */
function apiGatewayTime(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/**
 * Maps the function's result as format 2.0 does: an object with `statusCode` is a response; any other
 * value (object, string, null) is a 200 whose body is the value as JSON (a string as is).
 */
function toReply(result: unknown): Reply | undefined {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const response = result as {
      statusCode: unknown;
      headers?: Record<string, unknown>;
      cookies?: unknown;
      body?: unknown;
      isBase64Encoded?: unknown;
    };
    if (typeof response.statusCode !== 'number' || !Number.isInteger(response.statusCode)) return undefined;
    if (response.body !== undefined && typeof response.body !== 'string') return undefined;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers ?? {}))
      headers[name.toLowerCase()] = String(value);
    const cookies = Array.isArray(response.cookies) ? response.cookies.map(String) : [];
    const body = response.body ?? '';
    return {
      statusCode: response.statusCode,
      headers,
      cookies,
      body: response.isBase64Encoded === true ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
    };
  }
  const body = typeof result === 'string' ? result : (JSON.stringify(result ?? null) ?? 'null');
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(body, 'utf8'),
  };
}

/**
 * Plays API Gateway's CORS, as `httpApi.cors` declares it: it answers preflights itself (the
 * functions never see them) and adds the allow-origin and expose-headers headers to every answer to a
 * cross-origin call.
 * True when the request was a preflight and is answered.
 */
function answerCors(request: IncomingMessage, response: ServerResponse): boolean {
  const origin = request.headers.origin;
  if (!origin) return false;
  const { cors } = httpApi;
  const allowed =
    (cors.allowOrigins as readonly string[]).includes('*') ||
    (cors.allowOrigins as readonly string[]).includes(origin);
  if (!allowed) return false;
  response.setHeader(
    'access-control-allow-origin',
    (cors.allowOrigins as readonly string[]).includes('*') ? '*' : origin,
  );
  response.setHeader('access-control-expose-headers', cors.exposeHeaders.join(','));
  const requestedMethod = request.headers['access-control-request-method'];
  if (request.method !== 'OPTIONS' || !requestedMethod) return false;
  request.resume();
  response.statusCode = 204;
  response.setHeader('access-control-allow-methods', cors.allowMethods.join(','));
  response.setHeader('access-control-allow-headers', cors.allowHeaders.join(','));
  response.setHeader('access-control-max-age', String(cors.maxAgeSeconds));
  response.end();
  return true;
}

function send(response: ServerResponse, statusCode: number, body: unknown): void {
  response.statusCode = statusCode;
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(body));
}
