// A local HTTP server for the tracker vendors' tests: records every request, answers from a
// programmable script first ("429 with Retry-After 2, then normal", "500 then normal") and
// otherwise as the vendor does, through the vendor's own handler and state.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
  /** Whether a scripted answer (not the vendor's handler) answered it. */
  scripted: boolean;
}

export interface VendorAnswer {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as text/plain, anything else as JSON. */
  body?: unknown;
}

/** `'vendor'` lets the vendor answer that request as usual. */
export type ScriptedAnswer = VendorAnswer | 'vendor' | ((request: RecordedRequest) => VendorAnswer);

export interface TrackerServer {
  /** `http://127.0.0.1:{port}` */
  url: string;
  requests: RecordedRequest[];
  /** The next requests get these answers, in order, before the vendor answers again. */
  script(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

/** Scripted answers the tests use most. */
export const answers = {
  serverError: (): VendorAnswer => ({ status: 500, body: { message: 'Internal Server Error' } }),
  throttled: (retryAfterSeconds?: number, body: unknown = { message: 'rate limited' }): VendorAnswer => ({
    status: 429,
    headers: retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    body,
  }),
};

export async function startTrackerServer(
  vendor: (request: RecordedRequest) => VendorAnswer,
): Promise<TrackerServer> {
  const requests: RecordedRequest[] = [];
  const script: ScriptedAnswer[] = [];
  const server = createServer(async (incoming, outgoing) => {
    const recorded = await recordOf(incoming);
    const next = script.shift();
    const scripted = next === 'vendor' ? undefined : next;
    recorded.scripted = scripted !== undefined;
    requests.push(recorded);
    let answer: VendorAnswer;
    try {
      answer =
        scripted === undefined
          ? vendor(recorded)
          : typeof scripted === 'function'
            ? scripted(recorded)
            : scripted;
    } catch (error) {
      answer = { status: 500, body: `test vendor failed: ${(error as Error).message}` };
    }
    const text =
      typeof answer.body === 'string'
        ? answer.body
        : answer.body === undefined
          ? ''
          : JSON.stringify(answer.body);
    outgoing.writeHead(answer.status, {
      'content-type':
        typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      ...answer.headers,
    });
    outgoing.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...more) => script.push(...more),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function recordOf(incoming: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const url = new URL(incoming.url ?? '/', 'http://vendor.test');
  let json: unknown;
  try {
    json = body ? JSON.parse(body) : undefined;
  } catch {
    json = undefined;
  }
  return {
    method: incoming.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: Object.fromEntries(
      Object.entries(incoming.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    ),
    body,
    json,
    scripted: false,
  };
}

/** Whether a value is a plain JSON object. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Matches a path against a pattern with `:name` segments; the decoded segments, or undefined. */
export function route(path: string, pattern: string): Record<string, string> | undefined {
  const parts = path.split('/');
  const wanted = pattern.split('/');
  if (parts.length !== wanted.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, segment] of wanted.entries()) {
    const part = parts[index] ?? '';
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(part);
    else if (segment !== part) return undefined;
  }
  return params;
}
