// The one HTTP client senders reach the network with. A rule's URL is chosen by whoever holds a
// write token and the sender runs inside the account, so requests refuse loopback, private,
// link-local (169.254.169.254), carrier-grade NAT, unique-local and IPv4-mapped addresses on the
// address actually connected to (request-filtering-agent checks each resolved address at connect,
// which defeats DNS rebinding, and IP literals), follow no redirects, time out quickly and read at
// most a capped answer. The local stack allows loopback so a developer can point a webhook at a
// service on the laptop; nothing else private is ever allowed.
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import type { OutboundHttp, OutboundRequest, OutboundResponse } from './channel';

export interface OutboundPolicy {
  /** Loopback (127.0.0.0/8, ::1) may be reached: the local stack unless told otherwise. */
  allowLoopback: boolean;
  /** Only https URLs: the cloud build. */
  httpsOnly: boolean;
  timeoutMs: number;
  maxResponseBytes: number;
}

/** Local: `FAULTLINE_LOCAL=1`; `FAULTLINE_ALLOW_PRIVATE_TARGETS=0` refuses loopback there too. */
export function outboundPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): OutboundPolicy {
  const local = env.FAULTLINE_LOCAL === '1';
  return {
    allowLoopback: local && env.FAULTLINE_ALLOW_PRIVATE_TARGETS !== '0',
    httpsOnly: !local,
    timeoutMs: 5_000,
    maxResponseBytes: 64 * 1024,
  };
}

/** The target is not one a sender may call; the reason says why. Final: retrying cannot help. */
export class OutboundRefusedError extends Error {
  override readonly name = 'OutboundRefusedError';
}

/** The request did not get an answer: connection refused or reset, DNS failure, timeout. Worth retrying. */
export class OutboundNetworkError extends Error {
  override readonly name = 'OutboundNetworkError';
}

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
/**
 * IPv4-compatible IPv6 (`::a.b.c.d`, deprecated) that ipaddr.js calls unicast: `::7f00:1` is
 * 127.0.0.1 and `::a9fe:a9fe` the metadata address on stacks that still map them. `::1` and `::`
 * are in it too, and refused as loopback and unspecified anyway.
 */
const IPV4_COMPATIBLE = '::/96';
/** A host that does not resolve within this is accepted at save time; delivery checks it again. */
const SAVE_LOOKUP_MS = 2_000;

/** Why an address may not be called, or undefined when it may. */
export function refusalOfAddress(
  address: string,
  policy: Pick<OutboundPolicy, 'allowLoopback'>,
): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return `${address} is not an IP address`;
  }
  const range = parsed.range();
  if (parsed.kind() === 'ipv6' && range === 'unicast' && parsed.match(ipaddr.parseCIDR(IPV4_COMPATIBLE))) {
    return `${address} is an IPv4-compatible address`;
  }
  if (range === 'unicast') return undefined;
  if (range === 'loopback' && policy.allowLoopback) return undefined;
  return `${address} is a ${range} address`;
}

/**
 * Checks a URL when a rule is saved: its scheme, an IP literal, and every address its host resolves
 * to now. A host that does not resolve here is accepted (the vendor may be reachable only from the
 * deployment); the connected address is checked again at every delivery.
 */
export async function refusalOfUrl(url: string, policy: OutboundPolicy): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol !== 'https:' && (policy.httpsOnly || parsed.protocol !== 'http:')) {
    return policy.httpsOnly ? 'only https URLs are allowed' : 'only http and https URLs are allowed';
  }
  if (parsed.username || parsed.password) return 'URLs with credentials before the host are not allowed';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) return refusalOfAddress(host, policy);
  let addresses: Array<{ address: string }>;
  let timer: NodeJS.Timeout | undefined;
  try {
    addresses = await Promise.race([
      lookup(host, { all: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('slow DNS')), SAVE_LOOKUP_MS);
      }),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
  for (const { address } of addresses) {
    const refusal = refusalOfAddress(address, policy);
    if (refusal) return `${parsed.hostname} resolves to ${address}, which is not allowed (${refusal})`;
  }
  return undefined;
}

export function createOutboundHttp(policy: OutboundPolicy = outboundPolicyFromEnv()): OutboundHttp {
  const filter = {
    allowIPAddressList: policy.allowLoopback ? LOOPBACK : [],
    denyIPAddressList: [IPV4_COMPATIBLE],
  };
  // Keep-alive agents: one per container, reused across deliveries to the same vendor.
  const httpAgent = new RequestFilteringHttpAgent({ ...filter, keepAlive: true });
  const httpsAgent = new RequestFilteringHttpsAgent({ ...filter, keepAlive: true });

  return {
    async send(request: OutboundRequest): Promise<OutboundResponse> {
      const url = new URL(request.url);
      if (url.protocol !== 'https:' && (policy.httpsOnly || url.protocol !== 'http:')) {
        throw new OutboundRefusedError(`${url.protocol} URLs are not allowed`);
      }
      // request-filtering-agent checks literals too; checking here first gives the clearer reason.
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      if (isIP(host)) {
        const refusal = refusalOfAddress(host, policy);
        if (refusal) throw new OutboundRefusedError(refusal);
      }
      const transport = url.protocol === 'https:' ? https : http;
      return new Promise<OutboundResponse>((resolve, reject) => {
        const outgoing = transport.request(
          url,
          {
            method: request.method,
            headers: {
              'user-agent': 'Faultline-Notifications/1',
              ...request.headers,
              ...(request.body === undefined ? {} : { 'content-length': Buffer.byteLength(request.body) }),
            },
            agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
            timeout: policy.timeoutMs,
          },
          (incoming) => {
            const chunks: Buffer[] = [];
            let size = 0;
            incoming.on('data', (chunk: Buffer) => {
              if (size >= policy.maxResponseBytes) return;
              chunks.push(chunk.subarray(0, policy.maxResponseBytes - size));
              size += chunk.length;
              // Redirects are not followed (each hop would need its own check); the body is not needed.
              if (size >= policy.maxResponseBytes) incoming.destroy();
            });
            const finish = () =>
              resolve({
                status: incoming.statusCode ?? 0,
                headers: Object.fromEntries(
                  Object.entries(incoming.headers).map(([name, value]) => [
                    name.toLowerCase(),
                    Array.isArray(value) ? value.join(', ') : (value ?? ''),
                  ]),
                ),
                body: Buffer.concat(chunks).toString('utf8'),
              });
            incoming.on('end', finish);
            incoming.on('close', finish);
            incoming.on('error', finish);
          },
        );
        // The whole exchange, not only each socket read, gets the timeout.
        const deadline = setTimeout(
          () => outgoing.destroy(new OutboundNetworkError(`no answer within ${policy.timeoutMs} ms`)),
          policy.timeoutMs,
        );
        outgoing.on('timeout', () =>
          outgoing.destroy(new OutboundNetworkError(`no answer within ${policy.timeoutMs} ms`)),
        );
        outgoing.on('close', () => clearTimeout(deadline));
        outgoing.on('error', (error: Error) => {
          clearTimeout(deadline);
          if (error instanceof OutboundNetworkError) reject(error);
          else if (/is not allowed/.test(error.message))
            reject(new OutboundRefusedError(error.message, { cause: error }));
          else reject(new OutboundNetworkError(error.message, { cause: error }));
        });
        if (request.body !== undefined) outgoing.write(request.body);
        outgoing.end();
      });
    },
  };
}
