// GitHub issues: an item's first notification files an issue (remembered at once, so a retry finds
// it); a reactivation reopens it with a comment, a resolve closes it, other events comment on it.
// Works with GitHub Enterprise Server through `api_url` (`https://host/api/v3`).
import type {
  Channel,
  DeliveryContext,
  DeliveryOutcome,
  OutboundRequest,
  OutboundResponse,
} from '../channel';
import type { ChannelConfig } from '../channel-configs';
import { outcomeOfResponse, retryAfterMs } from './outcome';
import {
  baseOf,
  commentLineOf,
  exchange,
  fencedMarkdown,
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

type GitHubConfig = ChannelConfig<'github'>;

/** GitHub cuts issue titles at 256 characters. */
const TITLE_MAX = 256;

export const github: Channel<'github'> = {
  name: 'github',

  async deliver(context) {
    return withoutSecrets(await deliverToGitHub(context), [context.rule.config.token]);
  },

  // GitHub's secondary rate limits ask for about one content-creating request a second per repository.
  rateLimit(config) {
    return { key: `github:${repoUrlOf(config).toLowerCase()}`, perSecond: 1 };
  },
};

async function deliverToGitHub(context: DeliveryContext<GitHubConfig>): Promise<DeliveryOutcome> {
  const { event, rule, http } = context;
  const plan = await trackerPlanOf(context);
  const { item } = plan;
  if (!item || plan.step === 'skip' || plan.step === 'filed')
    return skippedStep(plan.step === 'filed' ? 'filed' : 'skip', event);
  const config = rule.config;
  const url = itemLinkOf(context);
  const classify = (response: OutboundResponse) => outcomeOfGitHub(response, context.now);

  if (plan.step === 'create' || !plan.link?.issue) {
    const marker = `<!-- faultline: project ${item.project_id}, item ${item.id}, rule ${rule.id} -->`;
    const created = await exchange(
      http,
      request(config, 'POST', '/issues', {
        title: issueTitleOf(event, item, TITLE_MAX),
        body: `${fencedMarkdown(reportLinesOf(event), url, event.sample)}\n\n${marker}`,
        ...(config.labels?.length ? { labels: config.labels } : {}),
        ...(config.assignees?.length ? { assignees: config.assignees } : {}),
      }),
      classify,
    );
    if (created.outcome) return created.outcome;
    const number = (jsonOf(created.response.body) as { number?: unknown } | undefined)?.number;
    if (typeof number !== 'number') return unreadableCreate(created.response.status, 'issue');
    if (!event.sample) await context.links.put(rule.id, item.id, { issue: String(number) });
    return sent(created.response.status, `issue #${number} created`);
  }

  const issue = plan.link.issue;
  // The state change comes first: it is safe to repeat, so a retry after a failed comment
  // reopens (or closes) again harmlessly and the comment is posted once.
  if (plan.step === 'reopen' || plan.step === 'resolve') {
    const state = plan.step === 'reopen' ? { state: 'open' } : { state: 'closed', state_reason: 'completed' };
    const changed = await exchange(http, request(config, 'PATCH', `/issues/${issue}`, state), classify);
    if (changed.outcome) return changed.outcome;
  }
  const commented = await exchange(
    http,
    request(config, 'POST', `/issues/${issue}/comments`, {
      body: fencedMarkdown([commentLineOf(event)], url),
    }),
    classify,
  );
  if (commented.outcome) return commented.outcome;
  const done =
    plan.step === 'reopen'
      ? 'reopened, commented'
      : plan.step === 'resolve'
        ? 'closed, commented'
        : 'commented';
  return sent(commented.response.status, `issue #${issue} ${done}`);
}

function repoUrlOf(config: GitHubConfig): string {
  return `${baseOf(config.api_url)}/repos/${encodeURIComponent(config.owner)}/${encodeURIComponent(config.repo)}`;
}

function request(
  config: GitHubConfig,
  method: OutboundRequest['method'],
  path: string,
  body: unknown,
): OutboundRequest {
  return {
    method,
    url: `${repoUrlOf(config)}${path}`,
    headers: {
      authorization: `Bearer ${config.token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  };
}

/**
 * GitHub's rate limits answer 403 as well as 429: with `retry-after` (secondary limits) or with
 * `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (epoch seconds). Those are retried at the hinted
 * time; any other 403 is a permission problem and final, as are 404 and 410 (issues disabled).
 */
export function outcomeOfGitHub(response: OutboundResponse, now: number): DeliveryOutcome {
  const outcome = outcomeOfResponse(response);
  if (response.status !== 403 && response.status !== 429) return outcome;
  const reset = Number(response.headers['x-ratelimit-reset']);
  const untilReset = Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : undefined;
  const hint =
    retryAfterMs(response, now) ??
    (response.headers['x-ratelimit-remaining'] === '0' ? untilReset : undefined);
  if (response.status === 403 && hint === undefined) return outcome;
  return {
    status: 'retry',
    httpStatus: response.status,
    response: outcome.response,
    ...(hint === undefined ? {} : { retryAfterMs: hint }),
  };
}
