// The email channel: one message to the rule's addresses through the EmailSender (Amazon SES v2), with
// a plain-text and an HTML body (item titles are user data: escaped) and a link to the item; the daily
// summary lists the day's new, reactivated and most frequent items. SES refusals that are the rule's
// fault are final; throttling, SES's own failures and the network are retried.
import type { Channel, DeliveryOutcome, EmailMessage } from '../channel';
import type { DailySummary, NotificationEvent, NotifiedItem } from '../model';
import { cut, detailsOf, escapeHtml, headlineOf, itemLabel, itemUrlOf, oneLine } from './message';
import { excerpt } from './outcome';

/** Subjects stay one readable line. */
const SUBJECT = 200;

function summarySections(
  summary: DailySummary,
): Array<{ heading: string; items: Array<[NotifiedItem, string]> }> {
  return [
    {
      heading: 'New items',
      items: summary.new_items.map((item) => [item, `${item.total_occurrences} occurrences`]),
    },
    {
      heading: 'Reactivated items',
      items: summary.reactivated_items.map((item) => [item, `${item.total_occurrences} occurrences`]),
    },
    {
      heading: 'Most frequent items',
      items: summary.top_items.map(({ item, occurrences }) => [item, `${occurrences} occurrences that day`]),
    },
  ].filter((section) => section.items.length > 0) as Array<{
    heading: string;
    items: Array<[NotifiedItem, string]>;
  }>;
}

const link = (url: string | undefined, text: string) =>
  url ? `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>` : escapeHtml(text);

export function emailOf(event: NotificationEvent, to: string[], publicUrl: string): EmailMessage {
  const subject = cut(oneLine(headlineOf(event)), SUBJECT);
  const text: string[] = [headlineOf(event, 2000), ''];
  const html: string[] = [`<h2 style="font-family:sans-serif">${escapeHtml(headlineOf(event, 2000))}</h2>`];

  if (event.summary) {
    const sections = summarySections(event.summary);
    if (sections.length === 0) {
      text.push('Nothing new, reactivated or frequent that day.');
      html.push('<p>Nothing new, reactivated or frequent that day.</p>');
    }
    for (const section of sections) {
      text.push(`${section.heading} (${section.items.length})`);
      html.push(
        `<h3 style="font-family:sans-serif">${escapeHtml(section.heading)} (${section.items.length})</h3><ul>`,
      );
      for (const [item, count] of section.items) {
        const url = itemUrlOf(item, publicUrl);
        text.push(
          `- ${itemLabel(item)} [${item.environment}, ${item.level}] ${count}${url ? `\n  ${url}` : ''}`,
        );
        html.push(
          `<li>${link(url, itemLabel(item))} <small>${escapeHtml(`${item.environment}, ${item.level}: ${count}`)}</small></li>`,
        );
      }
      text.push('');
      html.push('</ul>');
    }
  } else {
    const details = detailsOf(event);
    for (const [label, value] of details) text.push(`${label}: ${value}`);
    if (details.length > 0) {
      html.push(
        `<table>${details.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>`,
      );
    }
    const url = itemUrlOf(event.item, publicUrl);
    if (url) {
      text.push('', `View the item: ${url}`);
      html.push(`<p>${link(url, 'View the item')}</p>`);
    }
  }
  text.push('', '-- ', `Sent by Faultline for project ${event.project_id}.`);
  html.push(`<p style="color:#888">Sent by Faultline for project ${event.project_id}.</p>`);
  return { to, subject, text: text.join('\n'), html: html.join('\n') };
}

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** SES's refusals that sending again cannot fix: the addresses, the sender identity, the account. */
const FINAL_SES_ERRORS = new Set([
  'MessageRejected',
  'BadRequestException',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'NotFoundException',
]);

/** How an SES failure goes: final when the rule or the account must change, else worth retrying. */
export function outcomeOfEmailError(error: unknown): DeliveryOutcome {
  const failure = (error ?? {}) as SdkError;
  const status = failure.$metadata?.httpStatusCode ?? null;
  const response = excerpt(`${failure.name ?? 'Error'}: ${failure.message ?? ''}`.trim());
  if (status !== null) {
    // SES answered: its named refusals and any other 4xx but 408/429 (TooManyRequests, LimitExceeded) are final.
    const refused =
      (failure.name !== undefined && FINAL_SES_ERRORS.has(failure.name)) ||
      (status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429);
    return { status: refused ? 'failed' : 'retry', httpStatus: status, response };
  }
  // No answer from SES (the SDK sets `$metadata` without a status): a refused or reset connection, DNS, a timeout.
  if (typeof failure.code === 'string' || failure.name === 'TimeoutError' || failure.name === 'AbortError') {
    return { status: 'retry', httpStatus: null, response: excerpt(`network: ${response}`) };
  }
  throw error;
}

export const emailChannel: Channel<'email'> = {
  name: 'email',
  async deliver({ rule, event, email, publicUrl }) {
    if (!event.item && !event.deploy && !event.summary) {
      return { status: 'skipped', httpStatus: null, response: `nothing to tell of ${event.trigger}` };
    }
    try {
      const { messageId } = await email.send(emailOf(event, rule.config.to, publicUrl));
      return { status: 'sent', httpStatus: 200, response: `message ${messageId}` };
    } catch (error) {
      return outcomeOfEmailError(error);
    }
  },
  // SES paces per account (its sending rate) and answers TooManyRequests past it, which is retried.
  rateLimit: () => undefined,
};
