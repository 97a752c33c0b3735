// A local HTTP server that plays a vendor: it checks each request as the vendor documents it, records
// it, and answers from a script (e.g. "429 with Retry-After 2, then 200") or else with the vendor's
// success. Each vendor module (slack.ts, discord.ts, …) is this with the vendor's checks and answers.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** The path with its query, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
  /** The status the server answered with. */
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface VendorAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface VendorServer {
  /** `http://127.0.0.1:port` */
  origin: string;
  /** Every request, in the order received, with what was answered. */
  received: ReceivedRequest[];
  /** The requests that passed the vendor's checks and got a 2xx. */
  accepted(): ReceivedRequest[];
  /** Queue answers for the next requests that pass the checks; then the vendor's success again. */
  script(...answers: VendorAnswer[]): void;
  /** Resolves when `count` requests were accepted. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  stop(): Promise<void>;
}

export interface VendorServerOptions {
  /** The vendor's refusal of a request it would not take (wrong path, bad body…), or undefined when it is fine. */
  check(request: Omit<ReceivedRequest, 'status' | 'at'>): VendorAnswer | undefined;
  /** What the vendor answers an accepted request with. */
  success(request: Omit<ReceivedRequest, 'status' | 'at'>): VendorAnswer;
}

export async function startVendorServer(options: VendorServerOptions): Promise<VendorServer> {
  const received: ReceivedRequest[] = [];
  const scripted: VendorAnswer[] = [];
  const waiters = new Set<() => void>();
  const accepted = () => received.filter((request) => request.status >= 200 && request.status < 300);

  const server = createServer(async (incoming, outgoing) => {
    const request = await readRequest(incoming);
    const answer = options.check(request) ?? scripted.shift() ?? options.success(request);
    received.push({ ...request, status: answer.status, at: Date.now() });
    outgoing.writeHead(answer.status, answer.headers ?? {});
    outgoing.end(answer.body ?? '');
    for (const waiter of waiters) waiter();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    accepted,
    script: (...answers) => scripted.push(...answers),
    waitForAccepted(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (accepted().length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(accepted());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${accepted().length} of ${count} requests accepted within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readRequest(incoming: IncomingMessage): Promise<Omit<ReceivedRequest, 'status' | 'at'>> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  const url = new URL(incoming.url ?? '/', 'http://vendor.invalid');
  return {
    method: incoming.method ?? '',
    url: incoming.url ?? '/',
    path: url.pathname,
    query: url.searchParams,
    headers: Object.fromEntries(
      Object.entries(incoming.headers).map(([name, value]) => [
        name.toLowerCase(),
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    ),
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

/** The JSON body, or undefined when it is not JSON. */
export function jsonOf(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Answers vendors commonly script: a rate limit with its hint, a server error. */
export const answers = {
  rateLimited: (retryAfterSeconds: number, body = ''): VendorAnswer => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
    body,
  }),
  serverError: (status = 500, body = 'internal error'): VendorAnswer => ({ status, body }),
};
