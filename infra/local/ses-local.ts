// Runs the aws-ses-v2-local emulator (the SES v2 API and an inbox page) in process on a free port of
// 127.0.0.1, so the email channel sends real SendEmail requests locally and anyone can read what it sent.

import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/** A mail the emulator received, as its store API (`GET /store`) lists it. */
export interface LocalEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
  /** Seconds since the epoch. */
  at: number;
}

export interface LocalSes {
  /** The SES endpoint (`AWS_ENDPOINT_URL_SESV2`). */
  endpoint: string;
  /** The inbox page to print at start. */
  inboxUrl: string;
  /** Every mail received since start (or since `clear`). */
  emails(): Promise<LocalEmail[]>;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

type StartEmulator = (config: { host: string; port: number }) => Promise<Server>;

// The package is CommonJS with `exports.default`; an ESM default import yields its `module.exports`
// under Node and the function under Vite, so it is required the one way that is the same everywhere.
const startEmulator = (createRequire(import.meta.url)('aws-ses-v2-local') as { default: StartEmulator })
  .default;

/**
 * The emulator keeps its mail in module state, so every emulator started in one process shares one
 * inbox: start one per process (the local stack does) or `clear` between uses.
 */
export async function startLocalSes(options: { port?: number } = {}): Promise<LocalSes> {
  const server = await startEmulator({ host: '127.0.0.1', port: options.port ?? 0 });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    inboxUrl: `${endpoint}/`,
    async emails() {
      const response = await fetch(`${endpoint}/store`);
      if (!response.ok) throw new Error(`the local SES store answered ${response.status}`);
      const store = (await response.json()) as { emails: LocalEmail[] };
      return store.emails;
    },
    async clear() {
      const response = await fetch(`${endpoint}/clear-store`, { method: 'POST' });
      if (!response.ok) throw new Error(`the local SES store answered ${response.status}`);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
