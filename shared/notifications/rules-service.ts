// Rollbar's notifications API (`/api/1/notifications/{channel}/rules`): checks a token, validates
// rules against their channel (triggers, filters, config, the safety of the URLs they will call),
// keeps credentials masked in every answer but the one that generated a webhook's secret, and
// queues sample deliveries for `faultline rules test`.
import { randomBytes, randomUUID } from 'node:crypto';
import { RE2JS } from 're2js';
import { z } from 'zod';
import { ClientError, NotFoundError, ValidationError } from '#shared/errors';
import type { ProjectService } from '#shared/projects/service';
import type { DeliveryQueue } from '#shared/queue/notification-queue';
import type { DeliveryLog } from '#shared/store/delivery-log';
import { type RuleDraft, RuleNotFoundError, type RuleRepository } from '#shared/store/notification-rules';
import { parseInput } from '#shared/validation';
import { type ChannelConfigDeclaration, channelConfigs } from './channel-configs';
import {
  CHANNELS,
  type ChannelName,
  CLOSED_CHANNELS,
  type DeliveryLogEntry,
  type DeliveryMessage,
  deliveryKey,
  type Rule,
  type RuleFilter,
  ruleInputSchema,
} from './model';
import { type OutboundPolicy, refusalOfUrl } from './outbound-http';
import { PATTERN_FILTERS_PER_RULE, patternProblem } from './patterns';
import { sampleEvent } from './sample-event';
import { isMasked, keepMaskedSecrets, maskConfig } from './secrets';

/** One POST creates at most this many rules. */
export const MAX_RULES_PER_REQUEST = 50;
/** A project's rules are read by the fan-out on every change of an item: their number is bounded. */
export const MAX_RULES_PER_PROJECT = 200;

/** 410: a channel whose vendor closed (HipChat, Pivotal Tracker); there is nothing to deliver to. */
export class ClosedChannelError extends ClientError {
  override readonly name = 'ClosedChannelError';
  readonly statusCode = 410;
}

/** A rule as the API shows it: Rollbar's fields, with the channel, project and times. */
export interface RuleResource {
  id: number;
  project_id: number;
  channel: ChannelName;
  trigger: Rule['trigger'];
  status: Rule['status'];
  filters: RuleFilter[];
  config: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

export interface SampleDelivery {
  rule_id: number;
  channel: ChannelName;
  trigger: Rule['trigger'];
  status: Rule['status'];
  /** The delivery key, as the rule's delivery log shows it. */
  key: string;
  event_id: string;
}

export interface RulesServiceDeps {
  projects: ProjectService;
  rules: RuleRepository;
  log: DeliveryLog;
  queue: DeliveryQueue;
  /** Which URLs a rule may name: `outboundPolicyFromEnv()`, the policy the sender delivers with. */
  outboundPolicy: OutboundPolicy;
  now?: () => number;
  /** MAX_RULES_PER_PROJECT unless told (tests). */
  maxRulesPerProject?: number;
}

export type RulesService = ReturnType<typeof createRulesService>;

const ruleIdSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** A Standard Webhooks signing key: `whsec_` and the base64 of 24 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The channel named in the path: one built, or a 410 for a closed vendor, or a 404. */
export function channelOf(name: string | undefined): ChannelName {
  const wanted = (name ?? '').toLowerCase();
  if ((CHANNELS as readonly string[]).includes(wanted)) return wanted as ChannelName;
  const closed = Object.hasOwn(CLOSED_CHANNELS, wanted) ? CLOSED_CHANNELS[wanted] : undefined;
  if (closed) throw new ClosedChannelError(`channel ${wanted} is not available: ${closed}`);
  throw new NotFoundError(`no such notification channel: ${name ?? ''} (channels: ${CHANNELS.join(', ')})`);
}

const REGEX_OPERATIONS = new Set(['regex', 'nregex']);
/** Deploys have no item: their rules filter on the deploy's environment and comment only. */
const DEPLOY_FILTERS = new Set(['environment', 'comment']);

function originOf(url: unknown): string | undefined {
  try {
    return typeof url === 'string' ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
}

/** Why a rule's filters do not fit its trigger, as `[field, problem]`, or undefined when they do. */
function filtersProblem(draft: Pick<RuleDraft, 'trigger' | 'filters'>): [string, string] | undefined {
  const { trigger, filters } = draft;
  if (trigger === 'daily_summary' && filters.length > 0) {
    return [
      'filters',
      'daily_summary rules take no filters (config.environments and config.min_item_level choose what is summarized)',
    ];
  }
  const rates = filters.filter((filter) => filter.type === 'rate');
  if (trigger === 'occurrence_rate' && rates.length !== 1) {
    return [
      'filters',
      'occurrence_rate rules need exactly one rate filter ({"type":"rate","period":…,"count":…})',
    ];
  }
  const patterns = filters.filter(
    (filter) => 'operation' in filter && REGEX_OPERATIONS.has(filter.operation),
  );
  if (patterns.length > PATTERN_FILTERS_PER_RULE) {
    return ['filters', `at most ${PATTERN_FILTERS_PER_RULE} regex and nregex filters in a rule`];
  }
  for (const [index, filter] of filters.entries()) {
    const where = `filters.${index}`;
    if (filter.type === 'rate' && trigger !== 'occurrence_rate') {
      return [where, 'rate filters belong to occurrence_rate rules only'];
    }
    if (filter.type === 'comment' && trigger !== 'deploy') {
      return [where, 'comment filters belong to deploy rules only'];
    }
    if (trigger === 'deploy' && !DEPLOY_FILTERS.has(filter.type)) {
      return [where, `deploy rules filter on environment and comment only, not ${filter.type}`];
    }
    if (filter.type === 'path') {
      const needsValue = filter.operation !== 'exists' && filter.operation !== 'nexists';
      if (needsValue && filter.value === undefined) {
        return [`${where}.value`, `a path filter with operation ${filter.operation} needs a value`];
      }
    }
    if ('operation' in filter && REGEX_OPERATIONS.has(filter.operation) && typeof filter.value === 'string') {
      const problem = patternProblem(filter.value);
      if (problem) return [`${where}.value`, `a pattern the fan-out will not run: ${problem}`];
      // Rules run in RE2 (linear time): a pattern RE2 refuses (backreferences, lookaround) is refused now.
      try {
        RE2JS.compile(filter.value);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return [`${where}.value`, `not an RE2 regular expression (${reason})`];
      }
    }
  }
  return undefined;
}

export function createRulesService(deps: RulesServiceDeps) {
  const now = deps.now ?? Date.now;
  const maxRulesPerProject = deps.maxRulesPerProject ?? MAX_RULES_PER_PROJECT;

  /** A rule in the answer: credentials masked, except a secret generated by this very request. */
  function resource(rule: Rule, revealed: Record<string, unknown> = {}): RuleResource {
    return {
      id: rule.id,
      project_id: rule.project_id,
      channel: rule.channel,
      trigger: rule.trigger,
      status: rule.status,
      filters: rule.filters,
      config: { ...maskConfig(rule.channel, rule.config), ...revealed },
      created_at: rule.created_at,
      updated_at: rule.updated_at,
    };
  }

  /**
   * A rule as sent, checked against its channel; `stored` is the rule a PUT replaces (its masked
   * credentials, its status and its webhook secret are kept when the request leaves them out).
   */
  async function draftOf(
    channel: ChannelName,
    input: unknown,
    prefix: string,
    stored?: Rule,
  ): Promise<{ draft: RuleDraft; revealed: Record<string, unknown> }> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ValidationError(`${prefix ? prefix.slice(0, -1) : 'rule'}: a rule is a JSON object`);
    }
    const parsed = parseInput(ruleInputSchema, input, 'rule', prefix);
    const declaration: ChannelConfigDeclaration = channelConfigs[channel];
    if (!(declaration.triggers as readonly string[]).includes(parsed.trigger)) {
      throw new ValidationError(
        `${prefix}trigger: ${channel} rules take ${declaration.triggers.join(', ')}; not ${parsed.trigger}`,
      );
    }
    const problem = filtersProblem(parsed);
    if (problem) throw new ValidationError(`${prefix}${problem[0]}: ${problem[1]}`);

    const sent = stored ? keepMaskedSecrets(channel, parsed.config, stored.config) : parsed.config;
    for (const field of declaration.secretFields) {
      // A mask stands for a stored credential; with none to stand for it would be saved as one.
      if (isMasked(sent[field])) {
        throw new ValidationError(`${prefix}config.${field}: send the credential itself, not its mask`);
      }
    }
    // Parsed under its own name, so a problem reads `config.url: …`; unknown keys are left out.
    const { config } = parseInput(
      z.object({ config: declaration.schema }),
      { config: sent },
      'rule',
      prefix,
    ) as {
      config: Record<string, unknown>;
    };
    if (stored && channel !== 'webhook') {
      // A kept credential goes only where it went before: a write token must not be able to point a
      // stored GitHub token (or Jira, Trello, Asana, PagerDuty key) at another host by PUTting its mask
      // with a new base URL. (A webhook's secret never leaves: it only signs.)
      const kept = declaration.secretFields.filter((field) => isMasked(parsed.config[field]));
      const moved = declaration.urlFields.find(
        (field) =>
          !declaration.secretFields.includes(field) &&
          originOf(config[field]) !== originOf(stored.config[field]),
      );
      if (kept.length > 0 && moved) {
        throw new ValidationError(
          `${prefix}config.${kept[0]}: send the credential again when config.${moved} points elsewhere`,
        );
      }
    }
    const revealed: Record<string, unknown> = {};
    if (channel === 'webhook' && config.secret === undefined) {
      // A PUT without the secret keeps it: rotating it silently would break every receiver.
      if (typeof stored?.config.secret === 'string') config.secret = stored.config.secret;
      else revealed.secret = config.secret = generateWebhookSecret();
    }
    const refusals = await Promise.all(
      declaration.urlFields.map(async (field) => {
        const url = config[field];
        if (typeof url !== 'string') return undefined;
        const refusal = await refusalOfUrl(url, deps.outboundPolicy);
        // The reason names the host at most, never the whole URL: a chat webhook's URL is its credential.
        return refusal ? `${prefix}config.${field} refused: ${refusal}` : undefined;
      }),
    );
    const refused = refusals.find((message) => message !== undefined);
    if (refused) throw new ValidationError(refused);

    const status = stored && !('status' in input) ? stored.status : parsed.status;
    return {
      draft: { channel, trigger: parsed.trigger, status, filters: parsed.filters, config },
      revealed,
    };
  }

  /** The project's rule on this channel; another project's or another channel's is absent. */
  async function ruleOf(
    projectId: number,
    channel: ChannelName,
    ruleIdText: string | undefined,
  ): Promise<Rule> {
    const ruleId = parseInput(ruleIdSchema, ruleIdText, 'rule id');
    const rule = await deps.rules.get(projectId, ruleId);
    if (!rule || rule.channel !== channel) throw new NotFoundError(`rule ${ruleId} not found`);
    return rule;
  }

  async function reading(token: string | undefined, channelName: string | undefined) {
    const { project } = await deps.projects.authorize(token, ['read', 'write']);
    return { projectId: project.projectId, channel: channelOf(channelName) };
  }

  async function writing(token: string | undefined, channelName: string | undefined) {
    const { project } = await deps.projects.authorize(token, ['write']);
    return { projectId: project.projectId, channel: channelOf(channelName) };
  }

  return {
    async listRules(token: string | undefined, channelName: string | undefined): Promise<RuleResource[]> {
      const { projectId, channel } = await reading(token, channelName);
      const rules = await deps.rules.list(projectId);
      return rules.filter((rule) => rule.channel === channel).map((rule) => resource(rule));
    },

    /** A JSON array of rules (or one rule): all are checked before any is created. */
    async createRules(
      token: string | undefined,
      channelName: string | undefined,
      body: unknown,
    ): Promise<RuleResource[]> {
      const { projectId, channel } = await writing(token, channelName);
      const inputs = Array.isArray(body) ? body : [body];
      if (inputs.length === 0) throw new ValidationError('rules: send at least one rule');
      if (inputs.length > MAX_RULES_PER_REQUEST) {
        throw new ValidationError(`rules: at most ${MAX_RULES_PER_REQUEST} rules per request`);
      }
      const drafts = [];
      for (const [index, input] of inputs.entries()) {
        drafts.push(await draftOf(channel, input, Array.isArray(body) ? `${index}.` : ''));
      }
      const existing = (await deps.rules.list(projectId)).length;
      if (existing + drafts.length > maxRulesPerProject) {
        throw new ValidationError(
          `rules: a project has at most ${maxRulesPerProject} rules (it has ${existing})`,
        );
      }
      const created: RuleResource[] = [];
      for (const { draft, revealed } of drafts) {
        created.push(resource(await deps.rules.create(projectId, draft, Math.floor(now() / 1000)), revealed));
      }
      return created;
    },

    async getRule(
      token: string | undefined,
      channelName: string | undefined,
      ruleId: string | undefined,
    ): Promise<RuleResource> {
      const { projectId, channel } = await reading(token, channelName);
      return resource(await ruleOf(projectId, channel, ruleId));
    },

    /** Replaces the rule's trigger, filters and config (and status, when sent). */
    async replaceRule(
      token: string | undefined,
      channelName: string | undefined,
      ruleId: string | undefined,
      body: unknown,
    ): Promise<RuleResource> {
      const { projectId, channel } = await writing(token, channelName);
      const stored = await ruleOf(projectId, channel, ruleId);
      if (Array.isArray(body)) throw new ValidationError('rule: send one rule as a JSON object');
      const { draft, revealed } = await draftOf(channel, body, '', stored);
      try {
        return resource(
          await deps.rules.replace(projectId, stored.id, draft, Math.floor(now() / 1000)),
          revealed,
        );
      } catch (error) {
        if (error instanceof RuleNotFoundError) throw new NotFoundError(`rule ${stored.id} not found`);
        throw error;
      }
    },

    async deleteRule(
      token: string | undefined,
      channelName: string | undefined,
      ruleId: string | undefined,
    ): Promise<{ id: number }> {
      const { projectId, channel } = await writing(token, channelName);
      const stored = await ruleOf(projectId, channel, ruleId);
      try {
        await deps.rules.delete(projectId, stored.id);
      } catch (error) {
        if (error instanceof RuleNotFoundError) throw new NotFoundError(`rule ${stored.id} not found`);
        throw error;
      }
      return { id: stored.id };
    },

    /** The rule's last delivery attempts, newest first. */
    async deliveryLog(
      token: string | undefined,
      channelName: string | undefined,
      ruleId: string | undefined,
    ): Promise<DeliveryLogEntry[]> {
      const { projectId, channel } = await reading(token, channelName);
      const rule = await ruleOf(projectId, channel, ruleId);
      return deps.log.recent(rule.id);
    },

    /**
     * Queues a sample of the rule's trigger through the rule's channel, whatever its filters; the
     * answer's key finds the attempt in the rule's delivery log.
     */
    async testRule(
      token: string | undefined,
      channelName: string | undefined,
      ruleId: string | undefined,
    ): Promise<SampleDelivery> {
      const { projectId, channel } = await writing(token, channelName);
      const rule = await ruleOf(projectId, channel, ruleId);
      const nowMs = now();
      const event = sampleEvent(rule, { id: `test:${randomUUID()}`, nowMs });
      const message: DeliveryMessage = {
        key: deliveryKey(event.id, rule.id),
        project_id: projectId,
        rule_id: rule.id,
        channel,
        event,
        attempt: 1,
        queued_at: nowMs,
      };
      const [refused] = await deps.queue.send([message]);
      // A sample is small and made here: SQS refusing it for good would be a bug, not the caller's.
      if (refused) throw new Error(`the notification queue refused the sample: ${refused.reason}`);
      return {
        rule_id: rule.id,
        channel,
        trigger: rule.trigger,
        status: rule.status,
        key: message.key,
        event_id: event.id,
      };
    },
  };
}
