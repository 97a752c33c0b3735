// A cuttable link to a local server: what another region reaches it through, for the two-region simulation.
// Requests pass through unchanged until the link is cut; then every connection is reset and new ones
// are refused at once (a partition, without the timeouts that would slow the tests), until restored.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface NetworkLink {
  /** `http://<host>:<link port>`: where the other side connects. */
  readonly origin: string;
  readonly port: number;
  readonly cut: boolean;
  /** Points the link at the server behind it, once that server has a port. */
  connect(targetPort: number): void;
  /** Resets every open connection and refuses new ones. */
  sever(): void;
  restore(): void;
  stop(): Promise<void>;
}

export interface NetworkLinkOptions {
  /** Port of the server behind the link, on 127.0.0.1; `connect` sets it later when not known yet. */
  targetPort?: number;
  /** Host name the link's origin is spelled with (`sqs.us-east-1.localhost`); 127.0.0.1 unless told. */
  hostname?: string;
  /**
   * Written with the target's origin in request bodies: an SQS request names its queue by URL, and
   * fauxqs finds a queue by the URL it made, on its own port.
   */
  rewriteOrigin?: boolean;
}

export async function startNetworkLink(options: NetworkLinkOptions): Promise<NetworkLink> {
  const sockets = new Set<Socket>();
  let cut = false;
  let linkOrigin = '';
  let targetPort = options.targetPort;
  const hostname = options.hostname ?? '127.0.0.1';

  const forward = (incoming: IncomingMessage, answer: ServerResponse, body: Buffer): void => {
    if (targetPort === undefined) {
      answer.destroy();
      return;
    }
    const targetOrigin = `http://${hostname}:${targetPort}`;
    const text = options.rewriteOrigin
      ? body.toString('utf8').replaceAll(linkOrigin, targetOrigin)
      : undefined;
    const payload = text === undefined ? body : Buffer.from(text, 'utf8');
    const headers = { ...incoming.headers, 'content-length': String(payload.length), connection: 'close' };
    const outgoing = request(
      // A new connection per request: a kept-alive one that the server behind closes as it is reused
      // resets the request ("socket hang up"), which no client of the real thing would see.
      {
        host: '127.0.0.1',
        port: targetPort,
        method: incoming.method,
        path: incoming.url,
        headers,
        agent: false,
      },
      (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(answer);
      },
    );
    outgoing.on('error', (error) => {
      if (process.env.FAULTLINE_SIM_TRACE)
        console.error(`link ${linkOrigin} → ${targetPort}: ${error.message}`);
      answer.destroy();
    });
    outgoing.end(payload);
  };

  const server: Server = createServer((incoming, answer) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      if (cut) answer.destroy();
      else forward(incoming, answer, Buffer.concat(chunks));
    });
  });
  // Longer than clients keep an idle connection: the link never closes one as a client reuses it.
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket) => {
    if (cut) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the link has no port');
  linkOrigin = `http://${hostname}:${address.port}`;

  return {
    origin: linkOrigin,
    port: address.port,
    get cut() {
      return cut;
    },
    connect(port) {
      targetPort = port;
    },
    sever() {
      cut = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      cut = false;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
