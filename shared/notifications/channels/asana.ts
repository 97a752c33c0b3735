// Asana: an item's first notification adds a task to a project, remembered at once; a reactivation
// marks it incomplete again with a story (comment), a resolve completes it, other events add a story.
import type { Channel, DeliveryContext, DeliveryOutcome, OutboundRequest } from '../channel';
import type { ChannelConfig } from '../channel-configs';
import {
  baseOf,
  commentLineOf,
  exchange,
  fingerprintOf,
  issueTitleOf,
  itemLinkOf,
  jsonOf,
  plainText,
  reportLinesOf,
  sent,
  skippedStep,
  trackerPlanOf,
  unreadableCreate,
  withoutSecrets,
} from './tracker';

type AsanaConfig = ChannelConfig<'asana'>;

const NAME_MAX = 512;

export const asana: Channel<'asana'> = {
  name: 'asana',

  async deliver(context) {
    return withoutSecrets(await deliverToAsana(context), [context.rule.config.token]);
  },

  // Asana allows 150 requests a minute per token on free workspaces (1,500 on paid ones).
  rateLimit(config) {
    return { key: `asana:${fingerprintOf(baseOf(config.api_url), config.token)}`, perSecond: 2 };
  },
};

async function deliverToAsana(context: DeliveryContext<AsanaConfig>): Promise<DeliveryOutcome> {
  const { event, rule, http } = context;
  const plan = await trackerPlanOf(context);
  const { item } = plan;
  if (!item || plan.step === 'skip' || plan.step === 'filed')
    return skippedStep(plan.step === 'filed' ? 'filed' : 'skip', event);
  const config = rule.config;
  const url = itemLinkOf(context);

  if (plan.step === 'create' || !plan.link?.task) {
    const created = await exchange(
      http,
      request(config, 'POST', '/api/1.0/tasks', {
        data: {
          projects: [config.project_gid],
          name: issueTitleOf(event, item, NAME_MAX),
          notes: plainText(
            [
              ...(event.sample ? ['A test notification sent by faultline rules test.', ''] : []),
              ...reportLinesOf(event),
            ],
            url,
          ),
        },
      }),
    );
    if (created.outcome) return created.outcome;
    const gid = (jsonOf(created.response.body) as { data?: { gid?: unknown } } | undefined)?.data?.gid;
    if (typeof gid !== 'string' || !gid) return unreadableCreate(created.response.status, 'task');
    if (!event.sample) await context.links.put(rule.id, item.id, { task: gid });
    return sent(created.response.status, `task ${gid} created`);
  }

  const task = encodeURIComponent(plan.link.task);
  // Completing (or un-completing) is safe to repeat, so it comes first: a retry after a failed story
  // sets it again harmlessly and the story is added once.
  if (plan.step === 'reopen' || plan.step === 'resolve') {
    const completed = plan.step === 'resolve';
    const changed = await exchange(
      http,
      request(config, 'PUT', `/api/1.0/tasks/${task}`, { data: { completed } }),
    );
    if (changed.outcome) return changed.outcome;
  }
  const story = await exchange(
    http,
    request(config, 'POST', `/api/1.0/tasks/${task}/stories`, {
      data: { text: plainText([commentLineOf(event)], url) },
    }),
  );
  if (story.outcome) return story.outcome;
  const done =
    plan.step === 'reopen'
      ? 'reopened, story added'
      : plan.step === 'resolve'
        ? 'completed, story added'
        : 'story added';
  return sent(story.response.status, `task ${plan.link.task} ${done}`);
}

function request(
  config: AsanaConfig,
  method: OutboundRequest['method'],
  path: string,
  body: unknown,
): OutboundRequest {
  return {
    method,
    url: `${baseOf(config.api_url)}${path}`,
    headers: {
      authorization: `Bearer ${config.token}`,
      accept: 'application/json',
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  };
}
