// The words every channel uses for an event: a headline, the item's link and a few detail lines,
// so Slack, email and a GitHub issue tell the same thing the same way.
import type { NotificationEvent, NotifiedItem } from '../model';

const PERIOD_WORDS: Record<number, string> = {
  60: '1 minute',
  300: '5 minutes',
  1800: '30 minutes',
  3600: '1 hour',
  86400: '24 hours',
};

export const periodWords = (seconds: number): string => PERIOD_WORDS[seconds] ?? `${seconds} seconds`;

/** `https://faultline.example.com/items/12`, or undefined when no public URL is configured. */
export function itemUrlOf(item: NotifiedItem | undefined, publicUrl: string): string | undefined {
  if (!item || !publicUrl) return undefined;
  return `${publicUrl.replace(/\/+$/, '')}/items/${item.counter}`;
}

/** `#12 TypeError: x is undefined`, cut to `max` characters. */
export function itemLabel(item: NotifiedItem, max = 200): string {
  const label = `#${item.counter} ${item.title}`;
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

/** One line saying what happened, without the item's title (channels put the title beside it). */
export function eventWords(event: NotificationEvent): string {
  const environment = event.item?.environment ?? event.deploy?.environment ?? '';
  const where = environment ? ` in ${environment}` : '';
  switch (event.trigger) {
    case 'new_item':
      return `New ${event.item?.level ?? 'error'}${where}`;
    case 'reactivated_item':
      return `Reactivated ${event.item?.level ?? 'error'}${where}`;
    case 'reopened_item':
      return `Reopened${where}`;
    case 'resolved_item':
      return `Resolved${where}`;
    case 'exp_repeat_item':
      return `${ordinal(event.occurrences ?? 0)} occurrence${where}`;
    case 'occurrence':
      return event.occurrences && event.occurrences > 1
        ? `${event.occurrences} new occurrences${where}`
        : `New occurrence${where}`;
    case 'occurrence_rate':
      return `${event.rate?.count ?? event.occurrences ?? 0}+ occurrences in ${periodWords(event.rate?.period ?? 0)}${where}`;
    case 'deploy': {
      const by = event.deploy?.local_username ?? event.deploy?.rollbar_username;
      return `Deploy of ${event.deploy?.revision ?? '?'}${where}${by ? ` by ${by}` : ''}`;
    }
    case 'daily_summary':
      return `Daily summary for ${event.summary?.day ?? 'today'}`;
  }
}

/** The headline: what happened and to which item, marked when it is a `rules test` sample. */
export function headlineOf(event: NotificationEvent, maxTitle = 200): string {
  const words = eventWords(event);
  const headline = event.item ? `${words}: ${itemLabel(event.item, maxTitle)}` : words;
  return event.sample ? `[test] ${headline}` : headline;
}

/** Detail lines (`Label: value`) for channels with room for them. */
export function detailsOf(event: NotificationEvent): Array<[label: string, value: string]> {
  const details: Array<[string, string]> = [];
  const item = event.item;
  if (item) {
    details.push(
      ['Level', item.level],
      ['Environment', item.environment],
      ['Occurrences', String(item.total_occurrences)],
    );
    if (item.unique_people > 0) details.push(['People affected', String(item.unique_people)]);
    if (item.last_code_version) details.push(['Code version', item.last_code_version]);
    if (item.framework) details.push(['Framework', item.framework]);
  }
  const deploy = event.deploy;
  if (deploy) {
    details.push(
      ['Revision', deploy.revision],
      ['Environment', deploy.environment],
      ['Status', deploy.status],
    );
    if (deploy.comment) details.push(['Comment', deploy.comment]);
  }
  return details;
}

export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n.toLocaleString('en-US')}${suffix}`;
}

/** HTML-escapes text for email bodies and Teams/Slack mrkdwn-safe output. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Slack mrkdwn: only &, < and > are control characters. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text cut to `max` characters (code points, so no emoji is split), ending with `…` when cut. */
export function cut(text: string, max: number): string {
  const characters = [...text];
  return characters.length > max ? `${characters.slice(0, max - 1).join('')}…` : text;
}

/**
 * Markdown (Discord, Adaptive Cards) with its control characters backslash-escaped, so an item title
 * like `**urgent** [click](https://evil.example)` reads as typed rather than as formatting or a link.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\*_~`|>#[\]()-]/g, '\\$&');
}

/** One line: headers and one-line fields never carry a title's newlines (or a header injection). */
export const oneLine = (text: string): string => text.replace(/[\r\n\t\u2028\u2029]+/g, ' ');
