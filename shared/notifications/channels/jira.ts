// Jira (Cloud REST v3, or a Data Center base URL): an item's first notification creates an issue
// with its description in Atlassian Document Format, remembered at once; later events comment on it.
// Resolving comments too but makes no transition: transitions are specific to each workflow.
import type { Channel, DeliveryContext, DeliveryOutcome, OutboundRequest } from '../channel';
import type { ChannelConfig } from '../channel-configs';
import type { NotificationEvent } from '../model';
import {
  baseOf,
  commentLineOf,
  exchange,
  issueTitleOf,
  itemLinkOf,
  jsonOf,
  reportLinesOf,
  sent,
  skippedStep,
  trackerPlanOf,
  unreadableCreate,
  withoutSecrets,
} from './tracker';

type JiraConfig = ChannelConfig<'jira'>;

/** Jira refuses summaries of 255 characters or more, and any with a newline. */
const SUMMARY_MAX = 254;

export const jira: Channel<'jira'> = {
  name: 'jira',

  async deliver(context) {
    const { email, api_token } = context.rule.config;
    return withoutSecrets(await deliverToJira(context), [api_token, `${email}:${api_token}`]);
  },

  // Jira Cloud's limits are per site and cost-based; a couple of writes a second stays well inside.
  rateLimit(config) {
    return { key: `jira:${baseOf(config.base_url).toLowerCase()}`, perSecond: 2 };
  },
};

async function deliverToJira(context: DeliveryContext<JiraConfig>): Promise<DeliveryOutcome> {
  const { event, rule, http } = context;
  const plan = await trackerPlanOf(context);
  const { item } = plan;
  if (!item || plan.step === 'skip' || plan.step === 'filed')
    return skippedStep(plan.step === 'filed' ? 'filed' : 'skip', event);
  const config = rule.config;
  const url = itemLinkOf(context);

  if (plan.step === 'create' || !plan.link?.issue) {
    const created = await exchange(
      http,
      request(config, '/rest/api/3/issue', {
        fields: {
          project: { key: config.project_key },
          issuetype: { name: config.issue_type },
          summary: issueTitleOf(event, item, SUMMARY_MAX),
          description: documentOf(
            [
              ...(event.sample ? ['A test notification sent by faultline rules test.'] : []),
              ...reportLinesOf(event),
            ],
            url,
          ),
        },
      }),
    );
    if (created.outcome) return created.outcome;
    const key = (jsonOf(created.response.body) as { key?: unknown } | undefined)?.key;
    if (typeof key !== 'string' || !key) return unreadableCreate(created.response.status, 'issue');
    if (!event.sample) await context.links.put(rule.id, item.id, { issue: key });
    return sent(created.response.status, `issue ${key} created`);
  }

  const key = plan.link.issue;
  const commented = await exchange(
    http,
    request(config, `/rest/api/3/issue/${encodeURIComponent(key)}/comment`, {
      body: documentOf(commentLinesOf(event, plan.step), url),
    }),
  );
  if (commented.outcome) return commented.outcome;
  return sent(commented.response.status, `issue ${key} commented`);
}

function commentLinesOf(event: NotificationEvent, step: string): string[] {
  if (step !== 'resolve') return [commentLineOf(event)];
  return [commentLineOf(event), 'The item was resolved in Faultline; this issue keeps its status in Jira.'];
}

function request(config: JiraConfig, path: string, body: unknown): OutboundRequest {
  const credentials = Buffer.from(`${config.email}:${config.api_token}`).toString('base64');
  return {
    method: 'POST',
    url: `${baseOf(config.base_url)}${path}`,
    headers: {
      authorization: `Basic ${credentials}`,
      accept: 'application/json',
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  };
}

/**
 * An Atlassian Document: one paragraph per line and a link to the item. ADF text is never parsed
 * as markup, so client-sent titles cannot mention anyone; empty text nodes are invalid ADF.
 */
export function documentOf(lines: string[], url: string | undefined) {
  const paragraph = (content: unknown[]) => ({ type: 'paragraph', content });
  return {
    type: 'doc',
    version: 1,
    content: [
      ...lines.filter((line) => line.trim()).map((line) => paragraph([{ type: 'text', text: line }])),
      ...(url
        ? [
            paragraph([
              { type: 'text', text: 'Open in Faultline', marks: [{ type: 'link', attrs: { href: url } }] },
            ]),
          ]
        : []),
    ],
  };
}
