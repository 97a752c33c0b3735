// What a channel is to the sender: it turns one event into the vendor's request(s) through the one
// outbound HTTP client, and says how it went. Channels never retry or sleep themselves: they answer
// `retry` (with the vendor's hint) and the sender re-queues the delivery with a delay.
import type { ChannelConfig } from './channel-configs';
import type { ChannelName, NotificationEvent, Rule } from './model';

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface OutboundResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The body as text, cut at the client's size cap. */
  body: string;
}

/**
 * The only way a sender reaches the network: refuses private, loopback, link-local, CGNAT,
 * unique-local and IPv4-mapped addresses on the address actually connected to, follows no
 * redirects, times out quickly and caps the response size (`./outbound-http`).
 * Throws `OutboundRefusedError` for a refused target and `OutboundNetworkError` for a failure to
 * connect, a reset or a timeout.
 */
export interface OutboundHttp {
  send(request: OutboundRequest): Promise<OutboundResponse>;
}

export interface EmailMessage {
  to: string[];
  subject: string;
  text: string;
  html: string;
}

/** Sends email (Amazon SES v2 in AWS, the aws-ses-v2-local emulator locally); throws on failure. */
export interface EmailSender {
  send(message: EmailMessage): Promise<{ messageId: string }>;
}

/**
 * What a tracker channel remembers per rule and item: the GitHub issue number, the Jira issue key,
 * so a reactivation comments on it and a resolve closes it.
 */
export interface ChannelLinks {
  get(ruleId: number, itemId: number): Promise<Record<string, string> | undefined>;
  put(ruleId: number, itemId: number, link: Record<string, string>): Promise<void>;
}

export interface DeliveryContext<C> {
  rule: Rule<C>;
  event: NotificationEvent;
  /** `{event.id}#{rule.id}`: also the webhook's `webhook-id`, so receivers can drop duplicates. */
  deliveryKey: string;
  attempt: number;
  http: OutboundHttp;
  email: EmailSender;
  links: ChannelLinks;
  /** Links in messages point here: `{publicUrl}/items/{counter}` (the dashboard's page of the item). */
  publicUrl: string;
  /** Milliseconds since the epoch. */
  now: number;
}

export type DeliveryOutcome =
  | { status: 'sent'; httpStatus: number | null; response: string }
  /** Worth trying again: 408, 429, 5xx, a network failure; `retryAfterMs` is the vendor's hint. */
  | { status: 'retry'; httpStatus: number | null; response: string; retryAfterMs?: number }
  /** Final: a 4xx other than 408/429, a config the vendor refuses. */
  | { status: 'failed'; httpStatus: number | null; response: string; refused?: boolean }
  /** Nothing to send for this event on this channel (e.g. a tracker told of a deploy). */
  | { status: 'skipped'; httpStatus: null; response: string };

export interface Channel<N extends ChannelName = ChannelName> {
  name: N;
  /** Sends the event; throws only on a bug (refused and network failures are outcomes). */
  deliver(context: DeliveryContext<ChannelConfig<N>>): Promise<DeliveryOutcome>;
  /**
   * The key deliveries to one destination share, for the per-destination rate limit (e.g. the
   * webhook URL), and that destination's documented pace.
   */
  rateLimit(config: ChannelConfig<N>): { key: string; perSecond: number } | undefined;
}
