// Keeps a rule's credentials out of what the sender writes down (the delivery log, the function's
// logs): Slack, Teams, Discord and Campfire URLs are credentials, Trello puts its key and token in the
// query, and a vendor's answer or an error's message may echo any of them back.
import { channelConfigs } from '../channel-configs';
import type { Rule } from '../model';

const MASK = '••••';

/** Every spelling of a rule's credentials that may appear in text: as given, and as a URL normalizes it. */
function credentialsOf(rule: Rule): string[] {
  const found = new Set<string>();
  for (const field of channelConfigs[rule.channel].secretFields) {
    const value = rule.config[field];
    if (typeof value !== 'string' || value.length < 4) continue;
    found.add(value);
    found.add(encodeURIComponent(value));
    try {
      found.add(new URL(value).href);
    } catch {
      // Not a URL: the value itself is enough.
    }
  }
  // The longest first, so a credential inside another is not left half masked.
  return [...found].sort((a, b) => b.length - a.length);
}

/** The text with each of the rule's credentials replaced by a mask. */
export function redactCredentials(text: string, rule: Rule | undefined): string {
  if (!rule) return text;
  let redacted = text;
  for (const credential of credentialsOf(rule)) redacted = redacted.split(credential).join(MASK);
  return redacted;
}
