// What the tracker channels (GitHub, Jira, Trello, Asana) share: which step an event takes on the
// issue filed for its item, the words of that issue and of its comments, and keeping credentials out
// of what a delivery outcome says (the delivery log stores it and the API shows it).
import { createHash } from 'node:crypto';
import type {
  DeliveryContext,
  DeliveryOutcome,
  OutboundHttp,
  OutboundRequest,
  OutboundResponse,
} from '../channel';
import type { NotificationEvent, NotifiedItem } from '../model';
import { detailsOf, headlineOf, itemLabel, itemUrlOf } from './message';
import { excerpt, outcomeOfError, outcomeOfResponse } from './outcome';

/**
 * - `create`: file a new issue and remember it at once;
 * - `filed`: the issue exists already (a retried `new_item` delivery): nothing to send;
 * - `reopen`: comment and reopen (reactivated or reopened in Faultline);
 * - `resolve`: comment and close (resolved in Faultline);
 * - `comment`: tell the issue (10^n-th occurrence, occurrences, rate);
 * - `skip`: nothing to tell (no item; a resolve with nothing filed).
 */
export type TrackerStep = 'create' | 'filed' | 'reopen' | 'resolve' | 'comment' | 'skip';

export function trackerStepOf(event: NotificationEvent, linked: boolean): TrackerStep {
  if (!event.item) return 'skip';
  // A `rules test` sample files a marked issue every time and is never remembered, so real events
  // never comment on a test issue.
  if (event.sample) return 'create';
  if (!linked) return event.trigger === 'resolved_item' ? 'skip' : 'create';
  switch (event.trigger) {
    case 'new_item':
      return 'filed';
    case 'reactivated_item':
    case 'reopened_item':
      return 'reopen';
    case 'resolved_item':
      return 'resolve';
    default:
      return 'comment';
  }
}

/** What a tracker does for a delivery: reads the link (never for a sample) and names the step. */
export async function trackerPlanOf<C>(
  context: DeliveryContext<C>,
): Promise<{ step: TrackerStep; item?: NotifiedItem; link?: Record<string, string> }> {
  const { event, rule } = context;
  if (!event.item) return { step: 'skip' };
  const link = event.sample ? undefined : await context.links.get(rule.id, event.item.id);
  return { step: trackerStepOf(event, link !== undefined), item: event.item, ...(link ? { link } : {}) };
}

export const skipped = (reason: string): DeliveryOutcome => ({
  status: 'skipped',
  httpStatus: null,
  response: reason,
});

export function skippedStep(step: 'skip' | 'filed', event: NotificationEvent): DeliveryOutcome {
  if (step === 'filed') return skipped('already filed for this item: nothing more to send');
  return skipped(
    event.item ? 'nothing filed for this item to resolve' : `no item to file for ${event.trigger}`,
  );
}

/** The issue's title: the item's label on one line (Jira refuses newlines), marked for a sample. */
export function issueTitleOf(event: NotificationEvent, item: NotifiedItem, max: number): string {
  const label = `${event.sample ? '[test] ' : ''}${itemLabel(item, 100_000)}`
    .replace(/[\r\n\t]+/g, ' ')
    .trim();
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

/** The lines an issue's description tells: what happened, then `Label: value` details. */
export function reportLinesOf(event: NotificationEvent): string[] {
  return [
    oneLine(headlineOf(event, 1000)),
    ...detailsOf(event).map(([label, value]) => `${label}: ${oneLine(value)}`),
  ];
}

/** What a comment on a filed issue says. */
export function commentLineOf(event: NotificationEvent): string {
  return oneLine(headlineOf(event, 1000));
}

export const itemLinkOf = (context: DeliveryContext<unknown>): string | undefined =>
  itemUrlOf(context.event.item, context.publicUrl);

/**
 * Markdown where client-sent text (titles, environments) cannot mention people or teams, link or
 * format: it sits in a fenced code block, with a fence longer than any backtick run inside it.
 * GitHub and Trello render their bodies and comments, and an `@team` in an error message must not
 * page a team.
 */
export function fencedMarkdown(lines: string[], url: string | undefined, sample = false): string {
  const text = lines.join('\n');
  const longestRun = Math.max(0, ...[...text.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return [
    ...(sample ? ['_A test notification sent by `faultline rules test`._', ''] : []),
    `${fence}text`,
    text,
    fence,
    ...(url ? ['', `[Open in Faultline](${url})`] : []),
  ].join('\n');
}

/** Plain text for vendors that show text as written (Asana notes and stories). */
export function plainText(lines: string[], url: string | undefined): string {
  return [...lines, ...(url ? ['', `Open in Faultline: ${url}`] : [])].join('\n');
}

const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ');

/** A short answer for the log: the vendor's status and what it made, not its whole JSON. */
export const sent = (httpStatus: number, what: string): DeliveryOutcome => ({
  status: 'sent',
  httpStatus,
  response: excerpt(`${httpStatus} ${what}`),
});

/**
 * Removes credentials from what an outcome says: a vendor (or a proxy, or a hostile server a rule
 * points at) may echo a request's URL or headers, and outcomes are logged and shown by the API.
 */
export function withoutSecrets(
  outcome: DeliveryOutcome,
  secrets: Array<string | undefined>,
): DeliveryOutcome {
  let response = outcome.response;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([
      secret,
      encodeURIComponent(secret),
      Buffer.from(secret).toString('base64'),
    ])) {
      response = response.split(form).join('***');
    }
  }
  return response === outcome.response ? outcome : { ...outcome, response };
}

/** The JSON of a vendor's answer, or undefined when it is not JSON. */
export function jsonOf(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The vendor filed the issue but its answer names none: final, since retrying would file another.
 */
export const unreadableCreate = (httpStatus: number, what: string): DeliveryOutcome => ({
  status: 'failed',
  httpStatus,
  response: excerpt(
    `${httpStatus} the ${what} was created but the answer names no id; not retried, so no second one is filed`,
  ),
});

/**
 * One request of a multi-request delivery: the answer when it is a 2xx, otherwise the outcome that
 * ends the delivery (`classify` lets a vendor read its own retry hints).
 */
export async function exchange(
  http: OutboundHttp,
  request: OutboundRequest,
  classify: (response: OutboundResponse) => DeliveryOutcome = outcomeOfResponse,
): Promise<
  { response: OutboundResponse; outcome?: undefined } | { response?: undefined; outcome: DeliveryOutcome }
> {
  let response: OutboundResponse;
  try {
    response = await http.send(request);
  } catch (error) {
    return { outcome: outcomeOfError(error) };
  }
  if (response.status >= 200 && response.status < 300) return { response };
  return { outcome: classify(response) };
}

/** A base URL from a config, without its trailing slashes, so paths join with one. */
export const baseOf = (url: string) => url.replace(/\/+$/, '');

/** A short, stable name for a credential in rate-limit keys, which are stored: never the credential. */
export const fingerprintOf = (...parts: string[]) =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24);
