// A webhook receiver as a customer writes one: it takes Rollbar-shaped JSON POSTs and, given the rule's
// secret, verifies the Standard Webhooks signature with the `standardwebhooks` library (refusing a bad or
// stale one with 401), and drops a delivery whose `webhook-id` it has already taken, as the scheme advises.
import { Webhook } from 'standardwebhooks';
import {
  isObject,
  jsonOf,
  type ReceivedRequest,
  startVendorServer,
  type VendorServer,
} from './vendor-server';

export interface WebhookReceiver extends VendorServer {
  /** Where the rule points: `{origin}/hooks/faultline`. */
  url: string;
  /** The payloads taken, each `webhook-id` once. */
  payloads(): unknown[];
}

export async function startWebhookReceiver(options: { secret?: string } = {}): Promise<WebhookReceiver> {
  const verifier = options.secret ? new Webhook(options.secret) : undefined;
  const taken = new Map<string, unknown>();
  const server = await startVendorServer({
    check(request) {
      if (request.path !== '/hooks/faultline') return { status: 404, body: 'not found' };
      if (request.method !== 'POST') return { status: 405, body: 'method not allowed' };
      if (!request.headers['content-type']?.startsWith('application/json')) {
        return { status: 415, body: 'expected application/json' };
      }
      if (verifier) {
        try {
          verifier.verify(request.body, request.headers);
        } catch (error) {
          return { status: 401, body: `bad signature: ${(error as Error).message}` };
        }
      }
      const payload = jsonOf(request.body);
      if (!isObject(payload) || typeof payload.event_name !== 'string' || !isObject(payload.data)) {
        return { status: 400, body: 'expected {"event_name":…,"data":{…}}' };
      }
      return undefined;
    },
    success(request) {
      const id = request.headers['webhook-id'];
      if (id && taken.has(id)) return { status: 200, body: 'duplicate, ignored' };
      taken.set(id ?? `anonymous-${taken.size}`, JSON.parse(request.body));
      return { status: 204 };
    },
  });
  return { ...server, url: `${server.origin}/hooks/faultline`, payloads: () => [...taken.values()] };
}

export type { ReceivedRequest };
