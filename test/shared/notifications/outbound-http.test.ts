// The one outbound HTTP client, against local servers: what it refuses (on literals and on the address
// a name resolves to when connecting), that it follows no redirect, caps what it reads and gives up in time.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOutboundHttp,
  OutboundNetworkError,
  type OutboundPolicy,
  OutboundRefusedError,
  refusalOfAddress,
  refusalOfUrl,
} from '#shared/notifications/outbound-http';

let server: Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    hits.push(request.url ?? '');
    if (request.url === '/redirect') {
      response.writeHead(302, { location: `http://127.0.0.1:${port}/landed` });
      response.end();
    } else if (request.url === '/big') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('x'.repeat(200_000));
    } else if (request.url === '/never') {
      // Never answers: the client must give up.
    } else {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const local: OutboundPolicy = {
  allowLoopback: true,
  httpsOnly: false,
  timeoutMs: 500,
  maxResponseBytes: 1_000,
};
const cloudLike: OutboundPolicy = { ...local, allowLoopback: false };

describe('the outbound client, where loopback is allowed (the local stack)', () => {
  const http = createOutboundHttp(local);

  it('posts and reads the answer', async () => {
    const answer = await http.send({
      method: 'POST',
      url: `http://127.0.0.1:${port}/hook`,
      headers: {},
      body: '{}',
    });
    expect(answer).toMatchObject({ status: 200, body: 'ok' });
  });

  it('does not follow a redirect: the 302 is the answer, and its target is never asked', async () => {
    const answer = await http.send({ method: 'GET', url: `http://127.0.0.1:${port}/redirect`, headers: {} });
    expect(answer.status).toBe(302);
    expect(hits).not.toContain('/landed');
  });

  it('reads at most its cap of a long answer', async () => {
    const answer = await http.send({ method: 'GET', url: `http://127.0.0.1:${port}/big`, headers: {} });
    expect(answer.body.length).toBeLessThanOrEqual(1_000);
    expect(answer.body.length).toBeGreaterThan(0);
  });

  it('gives up on a server that never answers, as a network failure (worth retrying)', async () => {
    const started = Date.now();
    await expect(
      http.send({ method: 'GET', url: `http://127.0.0.1:${port}/never`, headers: {} }),
    ).rejects.toBeInstanceOf(OutboundNetworkError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('still refuses every private address that is not loopback', async () => {
    await expect(
      http.send({ method: 'GET', url: 'http://169.254.169.254/latest/meta-data/', headers: {} }),
    ).rejects.toBeInstanceOf(OutboundRefusedError);
  });
});

describe('the outbound client, where loopback is refused (the cloud build)', () => {
  const http = createOutboundHttp(cloudLike);

  it.each([
    ['loopback', `http://127.0.0.1:PORT/`],
    ['a name that resolves to loopback, refused on the address connected to', 'http://localhost:PORT/'],
    ['the metadata address', 'http://169.254.169.254/'],
    ['an IPv4-mapped IPv6 address', 'http://[::ffff:127.0.0.1]:PORT/'],
    ['an IPv4-compatible IPv6 address', 'http://[::7f00:1]:PORT/'],
    ['carrier-grade NAT', 'http://100.64.0.1/'],
    ['unique-local IPv6', 'http://[fd00::1]/'],
    ['RFC 1918', 'http://10.0.0.1/'],
    ['the unspecified address', 'http://0.0.0.0:PORT/'],
  ])('refuses %s', async (_what, template) => {
    const before = hits.length;
    await expect(
      http.send({ method: 'GET', url: template.replace('PORT', String(port)), headers: {} }),
    ).rejects.toBeInstanceOf(OutboundRefusedError);
    expect(hits.length).toBe(before);
  });

  it('speaks only https when told to', async () => {
    const httpsOnly = createOutboundHttp({ ...cloudLike, httpsOnly: true });
    await expect(
      httpsOnly.send({ method: 'GET', url: 'http://93.184.215.14/', headers: {} }),
    ).rejects.toBeInstanceOf(OutboundRefusedError);
  });
});

describe('checking a URL when a rule is saved', () => {
  it.each([
    ['ftp://example.com/x', local, 'only http and https URLs are allowed'],
    ['http://example.com/x', { ...local, httpsOnly: true }, 'only https URLs are allowed'],
    ['https://user:pass@example.com/x', local, 'URLs with credentials before the host are not allowed'],
    ['http://localhost:1/x', cloudLike, 'localhost resolves to'],
    ['http://[::ffff:a9fe:a9fe]/x', local, 'ipv4Mapped'],
    ['http://[::a9fe:a9fe]/x', local, 'IPv4-compatible'],
    ['not a url', local, 'not a URL'],
  ] as const)('%s is refused', async (url, policy, reason) => {
    expect(await refusalOfUrl(url, policy)).toContain(reason);
  });

  it('accepts a public address, and loopback where it is allowed', async () => {
    expect(await refusalOfUrl('https://93.184.215.14/hook', cloudLike)).toBeUndefined();
    expect(await refusalOfUrl(`http://127.0.0.1:${port}/hook`, local)).toBeUndefined();
    expect(refusalOfAddress('::1', { allowLoopback: true })).toBeUndefined();
    expect(refusalOfAddress('::1', { allowLoopback: false })).toContain('loopback');
  });
});
