// The rules API's service against DynamoDB Local with the real rule repository: what each channel
// accepts and refuses, URLs the sender may not call, credentials masked and kept, sample deliveries.
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { type ChannelName, type DeliveryMessage, TRIGGERS } from '#shared/notifications/model';
import { type OutboundPolicy, outboundPolicyFromEnv } from '#shared/notifications/outbound-http';
import {
  createRulesService,
  MAX_RULES_PER_REQUEST,
  type RulesService,
} from '#shared/notifications/rules-service';
import { createSecretBox, generateSecretsKey, type SecretBox } from '#shared/notifications/secrets';
import type { Scope } from '#shared/projects/access-tokens';
import { createProjectService, type ProjectService } from '#shared/projects/service';
import type { DeliveryQueue, RefusedDelivery } from '#shared/queue/notification-queue';
import { DynamoDBDeliveryLog } from '#shared/store/delivery-log';
import { notificationKeys } from '#shared/store/keys';
import { DynamoDBRuleRepository } from '#shared/store/notification-rules';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

const NOW = Date.UTC(2026, 10, 30, 10, 0, 0);

/** The cloud build: https only, nothing private. */
const cloud = outboundPolicyFromEnv({});
/** The local stack: loopback allowed. */
const local = outboundPolicyFromEnv({ FAULTLINE_LOCAL: '1' });
/** `FAULTLINE_ALLOW_PRIVATE_TARGETS=0 npm start`: the local stack refusing loopback like the cloud. */
const localStrict = outboundPolicyFromEnv({ FAULTLINE_LOCAL: '1', FAULTLINE_ALLOW_PRIVATE_TARGETS: '0' });

// Public IP literals: checked without a DNS lookup (this machine resolves nothing).
const HOOK = 'https://93.184.215.14/hooks/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
const API = 'https://93.184.215.15';

/** A queue that keeps what it is sent: the sender is another function's concern. */
class KeptDeliveries implements DeliveryQueue {
  readonly messages: DeliveryMessage[] = [];
  async send(messages: readonly DeliveryMessage[]): Promise<RefusedDelivery[]> {
    this.messages.push(...messages);
    return [];
  }
}

let dynamo: Dynamo & { tableNames: Record<'projects' | 'notifications', string> };
let documents: DynamoDBDocumentClient;
let box: SecretBox;
let projects: ProjectService;
let repository: DynamoDBRuleRepository;
let deliveryLog: DynamoDBDeliveryLog;
let queue: KeptDeliveries;
let tokens: Record<Scope, string>;
let otherTokens: Record<Scope, string>;
let projectId: number;
let service: RulesService;

function serviceWith(outboundPolicy: OutboundPolicy): RulesService {
  return createRulesService({
    projects,
    rules: repository,
    log: deliveryLog,
    queue,
    outboundPolicy,
    now: () => NOW,
  });
}

beforeAll(async () => {
  dynamo = await startDynamoWithTables('rules');
  documents = createDocumentClient(dynamo.client);
  box = createSecretBox(Buffer.from(generateSecretsKey(), 'base64'));
  projects = createProjectService({
    projects: new DynamoDBProjectRepository(documents, dynamo.tableNames.projects),
  });
  const shop = await projects.createProject({ name: 'shop' });
  tokens = shop.tokens;
  projectId = shop.project.projectId;
  otherTokens = (await projects.createProject({ name: 'other' })).tokens;
  repository = new DynamoDBRuleRepository(documents, dynamo.tableNames.notifications, box);
  deliveryLog = new DynamoDBDeliveryLog(documents, dynamo.tableNames.notifications);
  queue = new KeptDeliveries();
  service = serviceWith(cloud);
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A config each channel accepts, with URLs that need no DNS lookup. */
const CONFIGS: Record<ChannelName, Record<string, unknown>> = {
  webhook: { url: HOOK },
  email: { to: ['oncall@example.com'] },
  slack: { url: HOOK, channel: '#errors' },
  teams: { url: HOOK },
  discord: { url: HOOK, username: 'Faultline' },
  pagerduty: { service_key: 'R0UT1NGKEY0000000000000000000000', api_url: API },
  github: { token: 'ghp_0123456789abcdefghijklmnopqrstuvwxyz', owner: 'acme', repo: 'shop', api_url: API },
  jira: {
    base_url: API,
    email: 'bot@example.com',
    api_token: 'ATATT3xFfGF0abcdefghijklmnop',
    project_key: 'OPS',
  },
  trello: {
    key: 'trellokey0123456789abcdef',
    token: 'trellotoken0123456789abcdef',
    list_id: 'abc123',
    api_url: API,
  },
  asana: {
    token: '2/1200000000000000/1200000000000000:abcdef',
    project_gid: '1200000000000000',
    api_url: API,
  },
  campfire: { url: `${API}/rooms/1/1-AbCdEfGh/messages` },
};

const RATE = { type: 'rate', period: 300, count: 10 };

async function create(channel: string, rule: unknown, token = tokens.write, on = service) {
  const [created] = await on.createRules(token, channel, [rule]);
  return created!;
}

/** The 4xx a call is refused with: its status and message. */
async function refusal(call: Promise<unknown>): Promise<{ statusCode: number; message: string }> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown as { statusCode?: number; message: string },
  );
  if (!error) throw new Error('the call was accepted');
  if (error.statusCode === undefined) throw error;
  return { statusCode: error.statusCode, message: error.message };
}

describe('which triggers each channel takes', () => {
  const cases = (Object.keys(CONFIGS) as ChannelName[]).flatMap((channel) =>
    TRIGGERS.map((trigger) => ({ channel, trigger })),
  );
  const takes: Record<ChannelName, readonly string[]> = {
    webhook: TRIGGERS.filter((trigger) => trigger !== 'daily_summary'),
    email: TRIGGERS,
    slack: TRIGGERS.filter((trigger) => trigger !== 'daily_summary'),
    teams: TRIGGERS.filter((trigger) => trigger !== 'daily_summary'),
    discord: TRIGGERS.filter((trigger) => trigger !== 'daily_summary'),
    campfire: TRIGGERS.filter((trigger) => trigger !== 'daily_summary'),
    pagerduty: [
      'new_item',
      'reactivated_item',
      'exp_repeat_item',
      'occurrence_rate',
      'resolved_item',
      'reopened_item',
    ],
    github: TRIGGERS.filter((trigger) => trigger !== 'daily_summary' && trigger !== 'deploy'),
    jira: TRIGGERS.filter((trigger) => trigger !== 'daily_summary' && trigger !== 'deploy'),
    trello: TRIGGERS.filter((trigger) => trigger !== 'daily_summary' && trigger !== 'deploy'),
    asana: TRIGGERS.filter((trigger) => trigger !== 'daily_summary' && trigger !== 'deploy'),
  };

  // A project of its own: these rules would crowd the others' project towards its limit.
  let writeToken: string;
  beforeAll(async () => {
    writeToken = (await projects.createProject({ name: 'triggers' })).tokens.write;
  });

  it.each(cases)('a $channel rule on $trigger', async ({ channel, trigger }) => {
    const rule = {
      trigger,
      filters: trigger === 'occurrence_rate' ? [RATE] : [],
      config: CONFIGS[channel],
    };
    if (takes[channel].includes(trigger)) {
      const created = await create(channel, rule, writeToken);
      expect(created).toMatchObject({ channel, trigger, status: 'enabled' });
    } else {
      expect(await refusal(service.createRules(writeToken, channel, [rule]))).toEqual({
        statusCode: 422,
        message: expect.stringMatching(new RegExp(`^0\\.trigger: ${channel} rules take .*; not ${trigger}$`)),
      });
    }
  });
});

describe('filters', () => {
  const accepted: Array<{ trigger: string; filter: Record<string, unknown> }> = [
    { trigger: 'new_item', filter: { type: 'environment', operation: 'eq', value: 'production' } },
    { trigger: 'new_item', filter: { type: 'environment', operation: 'neq', value: 'staging' } },
    { trigger: 'new_item', filter: { type: 'level', operation: 'eq', value: 'critical' } },
    { trigger: 'new_item', filter: { type: 'level', operation: 'gte', value: 'error' } },
    { trigger: 'new_item', filter: { type: 'title', operation: 'within', value: 'Timeout' } },
    { trigger: 'new_item', filter: { type: 'title', operation: 'nwithin', value: 'ECONNRESET' } },
    { trigger: 'new_item', filter: { type: 'title', operation: 'regex', value: '^(?i)timeout \\d+ms$' } },
    { trigger: 'new_item', filter: { type: 'filename', operation: 'nregex', value: 'node_modules/' } },
    { trigger: 'new_item', filter: { type: 'method', operation: 'within', value: 'checkout' } },
    { trigger: 'new_item', filter: { type: 'context', operation: 'startswith', value: 'admin#' } },
    { trigger: 'new_item', filter: { type: 'context', operation: 'eq', value: 'home#index' } },
    { trigger: 'new_item', filter: { type: 'context', operation: 'neq', value: 'health#check' } },
    { trigger: 'new_item', filter: { type: 'framework', operation: 'eq', value: 'express' } },
    {
      trigger: 'new_item',
      filter: { type: 'path', path: 'body.trace.exception.class', operation: 'eq', value: 'TypeError' },
    },
    { trigger: 'new_item', filter: { type: 'path', path: 'request.user_ip', operation: 'exists' } },
    {
      trigger: 'new_item',
      filter: { type: 'path', path: 'person.id', operation: 'regex', value: '^[0-9]+$' },
    },
    { trigger: 'exp_repeat_item', filter: { type: 'unique_occurrences', operation: 'gte', value: 5 } },
    { trigger: 'occurrence_rate', filter: { type: 'rate', period: 3600, count: 100 } },
    { trigger: 'deploy', filter: { type: 'environment', operation: 'eq', value: 'production' } },
    { trigger: 'deploy', filter: { type: 'comment', operation: 'within', value: 'hotfix' } },
  ];

  it.each(accepted)(
    'a $trigger rule filtering on $filter.type $filter.operation is saved as sent',
    async ({ trigger, filter }) => {
      const created = await create('webhook', { trigger, filters: [filter], config: CONFIGS.webhook });
      expect(created.filters).toEqual([filter]);
      expect((await service.getRule(tokens.read, 'webhook', String(created.id))).filters).toEqual([filter]);
    },
  );

  const refused: Array<{ why: string; trigger: string; filters: unknown; message: string }> = [
    {
      why: 'an unknown filter type',
      trigger: 'new_item',
      filters: [{ type: 'browser', operation: 'eq', value: 'x' }],
      message: '0.filters.0.type: ',
    },
    {
      why: 'an operation its type does not have',
      trigger: 'new_item',
      filters: [{ type: 'level', operation: 'lt', value: 'error' }],
      message: '0.filters.0.operation: ',
    },
    {
      why: 'a level Rollbar does not have',
      trigger: 'new_item',
      filters: [{ type: 'level', operation: 'gte', value: 'fatal' }],
      message: '0.filters.0.value: ',
    },
    {
      why: 'a pattern whose counted repetitions would make RE2 slow',
      trigger: 'new_item',
      filters: [{ type: 'title', operation: 'regex', value: '(?:a|aa|[\\s\\S]){1000}' }],
      message:
        '0.filters.0.value: a pattern the fan-out will not run: its counted repetitions add up to 1000, over 100',
    },
    {
      why: 'a pattern longer than 256 characters',
      trigger: 'new_item',
      filters: [{ type: 'title', operation: 'nregex', value: 'a'.repeat(257) }],
      message: '0.filters.0.value: a pattern the fan-out will not run: longer than 256 characters',
    },
    {
      why: 'more than 5 regex filters',
      trigger: 'new_item',
      filters: Array.from({ length: 6 }, () => ({ type: 'title', operation: 'regex', value: 'a' })),
      message: '0.filters: at most 5 regex and nregex filters in a rule',
    },
    {
      why: 'a backreference, which RE2 does not run',
      trigger: 'new_item',
      filters: [{ type: 'title', operation: 'regex', value: '(a)\\1' }],
      message: '0.filters.0.value: not an RE2 regular expression',
    },
    {
      why: 'a lookahead, which RE2 does not run',
      trigger: 'new_item',
      filters: [{ type: 'filename', operation: 'nregex', value: 'foo(?=bar)' }],
      message: '0.filters.0.value: not an RE2 regular expression',
    },
    {
      why: 'an unclosed class in a path regex',
      trigger: 'new_item',
      filters: [{ type: 'path', path: 'body.message.body', operation: 'regex', value: '[' }],
      message: '0.filters.0.value: not an RE2 regular expression',
    },
    {
      why: 'a path comparison without a value',
      trigger: 'new_item',
      filters: [{ type: 'path', path: 'custom.tenant', operation: 'eq' }],
      message: '0.filters.0.value: a path filter with operation eq needs a value',
    },
    {
      why: 'an occurrence_rate rule without a rate',
      trigger: 'occurrence_rate',
      filters: [],
      message: '0.filters: occurrence_rate rules need exactly one rate filter',
    },
    {
      why: 'an occurrence_rate rule with two rates',
      trigger: 'occurrence_rate',
      filters: [RATE, { ...RATE, period: 60 }],
      message: '0.filters: occurrence_rate rules need exactly one rate filter',
    },
    {
      why: 'a rate on another trigger',
      trigger: 'new_item',
      filters: [RATE],
      message: '0.filters.0: rate filters belong to occurrence_rate rules only',
    },
    {
      why: "a period that is not one of Rollbar's",
      trigger: 'occurrence_rate',
      filters: [{ type: 'rate', period: 120, count: 10 }],
      message: '0.filters.0.period: ',
    },
    {
      why: 'a comment filter on an item rule',
      trigger: 'new_item',
      filters: [{ type: 'comment', operation: 'within', value: 'hotfix' }],
      message: '0.filters.0: comment filters belong to deploy rules only',
    },
    {
      why: 'an item filter on a deploy rule',
      trigger: 'deploy',
      filters: [{ type: 'level', operation: 'gte', value: 'error' }],
      message: '0.filters.0: deploy rules filter on environment and comment only, not level',
    },
    {
      why: 'more than 20 filters',
      trigger: 'new_item',
      filters: Array.from({ length: 21 }, () => ({ type: 'environment', operation: 'eq', value: 'x' })),
      message: '0.filters: ',
    },
    {
      why: 'filters that are not a list',
      trigger: 'new_item',
      filters: { type: 'environment' },
      message: '0.filters: ',
    },
  ];

  it.each(refused)('refuses $why with a 422 naming the field', async ({ trigger, filters, message }) => {
    const before = (await repository.list(projectId)).length;
    const answer = await refusal(
      service.createRules(tokens.write, 'webhook', [{ trigger, filters, config: CONFIGS.webhook }]),
    );
    expect(answer.statusCode).toBe(422);
    expect(answer.message.startsWith(message)).toBe(true);
    expect((await repository.list(projectId)).length).toBe(before);
  });

  it('a daily summary takes no filters: its config chooses what it tells', async () => {
    expect(
      await refusal(
        service.createRules(tokens.write, 'email', [
          {
            trigger: 'daily_summary',
            filters: [{ type: 'environment', operation: 'eq', value: 'production' }],
            config: CONFIGS.email,
          },
        ]),
      ),
    ).toMatchObject({
      statusCode: 422,
      message: expect.stringContaining('0.filters: daily_summary rules take no filters'),
    });
    const created = await create('email', {
      trigger: 'daily_summary',
      config: {
        ...CONFIGS.email,
        summary_time: 9 * 3600,
        environments: ['production'],
        min_item_level: 'error',
      },
    });
    expect(created.config).toMatchObject({ summary_time: 32_400, environments: ['production'] });
  });
});

describe('channel configs', () => {
  const refused: Array<{
    why: string;
    channel: ChannelName;
    config: Record<string, unknown>;
    message: string;
  }> = [
    { why: 'a Slack rule without its webhook URL', channel: 'slack', config: {}, message: '0.config.url: ' },
    {
      why: 'a URL that is not one',
      channel: 'teams',
      config: { url: 'not a url' },
      message: '0.config.url: ',
    },
    {
      why: 'an ftp URL',
      channel: 'discord',
      config: { url: 'ftp://93.184.215.14/x' },
      message: '0.config.url: ',
    },
    { why: 'an email without recipients', channel: 'email', config: { to: [] }, message: '0.config.to: ' },
    {
      why: 'a recipient that is no address',
      channel: 'email',
      config: { to: ['oncall'] },
      message: '0.config.to.0: ',
    },
    {
      why: 'a yes where a boolean goes',
      channel: 'email',
      config: { to: ['a@example.com'], send_only_if_data: 'yes' },
      message: '0.config.send_only_if_data: ',
    },
    {
      why: 'a Jira project key in lowercase',
      channel: 'jira',
      config: { ...CONFIGS.jira, project_key: 'ops' },
      message: '0.config.project_key: ',
    },
    {
      why: 'a GitHub rule without its token',
      channel: 'github',
      config: { owner: 'a', repo: 'b' },
      message: '0.config.token: ',
    },
    {
      why: 'a webhook secret not in the Standard Webhooks form',
      channel: 'webhook',
      config: { url: HOOK, secret: 'hunter2' },
      message: '0.config.secret: ',
    },
    {
      why: 'a negative action interval',
      channel: 'webhook',
      config: { url: HOOK, action_interval: -5 },
      message: '0.config.action_interval: ',
    },
    {
      why: 'a zero hourly cap',
      channel: 'slack',
      config: { url: HOOK, max_per_hour: 0 },
      message: '0.config.max_per_hour: ',
    },
    {
      why: 'a masked credential on a new rule',
      channel: 'pagerduty',
      config: { ...CONFIGS.pagerduty, service_key: '••••0000' },
      message: '0.config.service_key: send the credential itself, not its mask',
    },
  ];

  it.each(refused)('refuses $why with a 422 naming the field', async ({ channel, config, message }) => {
    const answer = await refusal(
      service.createRules(tokens.write, channel, [{ trigger: 'new_item', config }]),
    );
    expect(answer.statusCode).toBe(422);
    expect(answer.message.startsWith(message)).toBe(true);
  });

  it('keeps config keys it does not know out of the stored rule', async () => {
    const created = await create('slack', {
      trigger: 'new_item',
      config: { ...CONFIGS.slack, webhook_url_typo: 'x', admin: true },
    });
    const stored = await repository.get(projectId, created.id);
    expect(Object.keys(stored!.config).sort()).toEqual(['channel', 'url']);
  });

  it("fills in the vendor's default base URL", async () => {
    const created = await create('github', {
      trigger: 'new_item',
      config: { token: 'ghp_abcdefghijklmnopqrstuvwxyz012345', owner: 'acme', repo: 'shop' },
    });
    expect(created.config.api_url).toBe('https://api.github.com');
  });
});

describe('URLs a rule may name', () => {
  const cases: Array<{ policy: string; url: string; refusal?: string }> = [
    { policy: 'cloud', url: 'http://93.184.215.14/hook', refusal: 'only https URLs are allowed' },
    { policy: 'cloud', url: 'https://127.0.0.1:8080/hook', refusal: '127.0.0.1 is a loopback address' },
    { policy: 'cloud', url: 'https://[::1]/hook', refusal: '::1 is a loopback address' },
    {
      policy: 'cloud',
      url: 'https://169.254.169.254/latest/meta-data',
      refusal: '169.254.169.254 is a linkLocal address',
    },
    { policy: 'cloud', url: 'https://10.0.0.5/hook', refusal: '10.0.0.5 is a private address' },
    { policy: 'cloud', url: 'https://100.64.0.1/hook', refusal: '100.64.0.1 is a carrierGradeNat address' },
    { policy: 'cloud', url: 'https://[fd00::1]/hook', refusal: 'fd00::1 is a uniqueLocal address' },
    { policy: 'cloud', url: 'https://[::ffff:127.0.0.1]/hook', refusal: 'is a ipv4Mapped address' },
    {
      policy: 'cloud',
      url: 'https://user:pw@93.184.215.14/hook',
      refusal: 'URLs with credentials before the host are not allowed',
    },
    { policy: 'cloud', url: HOOK },
    { policy: 'local', url: 'http://127.0.0.1:9/hook' },
    { policy: 'local', url: 'http://10.0.0.5/hook', refusal: '10.0.0.5 is a private address' },
    { policy: 'localStrict', url: 'http://127.0.0.1:9/hook', refusal: '127.0.0.1 is a loopback address' },
  ];
  const policies: Record<string, OutboundPolicy> = { cloud, local, localStrict };

  it.each(cases)('$policy: $url', async ({ policy, url, refusal: reason }) => {
    const rules = serviceWith(policies[policy]!);
    const call = rules.createRules(tokens.write, 'webhook', [{ trigger: 'new_item', config: { url } }]);
    if (!reason) {
      expect((await call)[0]!.config.url).toBe(url);
      return;
    }
    const answer = await refusal(call);
    expect(answer.statusCode).toBe(422);
    expect(answer.message).toMatch(/^0\.config\.url refused: /);
    expect(answer.message).toContain(reason);
  });

  it("checks a tracker's base URL too, and names no credential of a refused chat URL", async () => {
    expect(
      await refusal(
        service.createRules(tokens.write, 'pagerduty', [
          { trigger: 'new_item', config: { ...CONFIGS.pagerduty, api_url: 'https://169.254.169.254' } },
        ]),
      ),
    ).toEqual({
      statusCode: 422,
      message: '0.config.api_url refused: 169.254.169.254 is a linkLocal address',
    });
    const answer = await refusal(
      service.createRules(tokens.write, 'slack', [
        { trigger: 'new_item', config: { url: 'https://10.1.2.3/services/T0/B0/SECRETPART' } },
      ]),
    );
    expect(answer.message).not.toContain('SECRETPART');
  });
});

describe('channels', () => {
  it.each([
    { channel: 'hipchat', message: 'channel hipchat is not available: HipChat closed in February 2019' },
    { channel: 'pivotal', message: 'channel pivotal is not available: Pivotal Tracker closed in April 2025' },
  ])('a $channel rule is refused with a 410 saying the vendor closed', async ({ channel, message }) => {
    expect(await refusal(service.createRules(tokens.write, channel, [{ trigger: 'new_item' }]))).toEqual({
      statusCode: 410,
      message,
    });
    expect(await refusal(service.listRules(tokens.read, channel))).toEqual({ statusCode: 410, message });
  });

  it('an unknown channel is a 404 that lists the channels', async () => {
    expect(await refusal(service.listRules(tokens.read, 'myspace'))).toEqual({
      statusCode: 404,
      message: expect.stringMatching(/^no such notification channel: myspace \(channels: webhook, email, /),
    });
  });
});

describe('access', () => {
  it('reads take a read or write token; changes only a write token', async () => {
    const rule = await create('webhook', { trigger: 'new_item', config: CONFIGS.webhook });
    const id = String(rule.id);
    await expect(service.listRules(tokens.read, 'webhook')).resolves.toBeInstanceOf(Array);
    await expect(service.getRule(tokens.write, 'webhook', id)).resolves.toMatchObject({ id: rule.id });
    await expect(service.deliveryLog(tokens.read, 'webhook', id)).resolves.toEqual([]);
    const lacksWrite = { statusCode: 403, message: 'access token lacks the required scope (write)' };
    expect(await refusal(service.createRules(tokens.read, 'webhook', [{ trigger: 'new_item' }]))).toEqual(
      lacksWrite,
    );
    expect(await refusal(service.replaceRule(tokens.read, 'webhook', id, { trigger: 'new_item' }))).toEqual(
      lacksWrite,
    );
    expect(await refusal(service.deleteRule(tokens.read, 'webhook', id))).toEqual(lacksWrite);
    expect(await refusal(service.testRule(tokens.read, 'webhook', id))).toEqual(lacksWrite);
    expect(await refusal(service.listRules(tokens.post_server_item, 'webhook'))).toEqual({
      statusCode: 403,
      message: 'access token lacks the required scope (read or write)',
    });
    expect(await refusal(service.listRules(undefined, 'webhook'))).toEqual({
      statusCode: 403,
      message: 'missing access token',
    });
    expect(await repository.get(projectId, rule.id)).toMatchObject({ status: 'enabled' });
  });

  it("another project's rule, or one asked for on another channel, is not found", async () => {
    const rule = await create('webhook', { trigger: 'new_item', config: CONFIGS.webhook });
    const id = String(rule.id);
    const notFound = { statusCode: 404, message: `rule ${rule.id} not found` };
    expect(await refusal(service.getRule(otherTokens.read, 'webhook', id))).toEqual(notFound);
    expect(await refusal(service.deleteRule(otherTokens.write, 'webhook', id))).toEqual(notFound);
    expect(
      await refusal(service.replaceRule(otherTokens.write, 'webhook', id, { trigger: 'deploy' })),
    ).toEqual(notFound);
    expect(await refusal(service.getRule(tokens.read, 'slack', id))).toEqual(notFound);
    expect(await refusal(service.getRule(tokens.read, 'webhook', 'abc'))).toMatchObject({ statusCode: 422 });
    expect(await service.listRules(otherTokens.read, 'webhook')).toEqual([]);
    expect(await repository.get(projectId, rule.id)).toMatchObject({ trigger: 'new_item' });
  });
});

describe('credentials', () => {
  it('a webhook saved without a secret gets one, shown in full only in the answer that made it', async () => {
    const created = await create('webhook', { trigger: 'new_item', config: { url: HOOK } });
    const secret = created.config.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(24);
    const shown = await service.getRule(tokens.read, 'webhook', String(created.id));
    expect(shown.config.secret).toBe(`••••${secret.slice(-4)}`);
    const listed = (await service.listRules(tokens.read, 'webhook')).find((rule) => rule.id === created.id);
    expect(listed?.config.secret).toBe(shown.config.secret);
    // The stored rule signs with it.
    expect((await repository.get(projectId, created.id))?.config.secret).toBe(secret);
  });

  it('a secret the client chose is not echoed back, and credentials are sealed at rest', async () => {
    const secret = `whsec_${Buffer.from('a chosen secret of 24 by').toString('base64')}`;
    const created = await create('webhook', { trigger: 'new_item', config: { url: HOOK, secret } });
    expect(created.config.secret).toBe(`••••${secret.slice(-4)}`);
    const github = await create('github', { trigger: 'new_item', config: CONFIGS.github });
    expect(github.config.token).toBe('••••wxyz');
    expect(github.config).toMatchObject({ owner: 'acme', repo: 'shop' });
    const { Item } = await documents.send(
      new GetCommand({
        TableName: dynamo.tableNames.notifications,
        Key: notificationKeys.rule(projectId, github.id),
      }),
    );
    expect(JSON.stringify(Item)).not.toContain(CONFIGS.github.token as string);
    expect(Item?.sealed).toMatch(/^v1:/);
  });

  it('chat webhook URLs are credentials: masked in every answer', async () => {
    const created = await create('slack', { trigger: 'new_item', config: CONFIGS.slack });
    expect(created.config.url).toBe(`••••${HOOK.slice(-4)}`);
    expect(JSON.stringify(await service.listRules(tokens.read, 'slack'))).not.toContain(HOOK);
  });

  it('a rule read, changed and sent back keeps its masked credentials', async () => {
    const created = await create('trello', { trigger: 'new_item', config: CONFIGS.trello });
    const shown = await service.getRule(tokens.read, 'trello', String(created.id));
    const replaced = await service.replaceRule(tokens.write, 'trello', String(created.id), {
      ...shown,
      filters: [{ type: 'level', operation: 'gte', value: 'critical' }],
    });
    expect(replaced.config.key).toBe(shown.config.key);
    const stored = await repository.get(projectId, created.id);
    expect(stored?.config).toMatchObject({ key: CONFIGS.trello.key, token: CONFIGS.trello.token });
    expect(stored?.filters).toEqual([{ type: 'level', operation: 'gte', value: 'critical' }]);

    // A new credential replaces the stored one.
    await service.replaceRule(tokens.write, 'trello', String(created.id), {
      ...shown,
      config: { ...shown.config, token: 'a-new-trello-token-0123456789' },
    });
    expect((await repository.get(projectId, created.id))?.config).toMatchObject({
      key: CONFIGS.trello.key,
      token: 'a-new-trello-token-0123456789',
    });
  });

  it('a masked credential is not kept when its base URL moves elsewhere: it must be sent again', async () => {
    const created = await create('github', { trigger: 'new_item', config: CONFIGS.github });
    const shown = await service.getRule(tokens.read, 'github', String(created.id));
    await expect(
      service.replaceRule(tokens.write, 'github', String(created.id), {
        ...shown,
        config: { ...shown.config, api_url: 'https://93.184.215.99/collect' },
      }),
    ).rejects.toThrow('config.token: send the credential again when config.api_url points elsewhere');
    expect((await repository.get(projectId, created.id))?.config).toMatchObject(CONFIGS.github);
    // Sent again, in full, it may go there.
    const moved = await service.replaceRule(tokens.write, 'github', String(created.id), {
      ...shown,
      config: {
        ...shown.config,
        token: 'ghp_anotherTokenForTheNewHost0123',
        api_url: 'https://93.184.215.99/api/v3',
      },
    });
    expect(moved.config.api_url).toBe('https://93.184.215.99/api/v3');
  });

  it("a PUT without the webhook's secret keeps it (rotating it would break receivers), and without a status keeps that", async () => {
    const created = await create('webhook', {
      trigger: 'new_item',
      status: 'disabled',
      config: { url: HOOK },
    });
    const replaced = await service.replaceRule(tokens.write, 'webhook', String(created.id), {
      trigger: 'reactivated_item',
      config: { url: HOOK },
    });
    expect(replaced).toMatchObject({ trigger: 'reactivated_item', status: 'disabled' });
    expect(replaced.config.secret).toBe(`••••${(created.config.secret as string).slice(-4)}`);
    expect((await repository.get(projectId, created.id))?.config.secret).toBe(created.config.secret);
    const enabled = await service.replaceRule(tokens.write, 'webhook', String(created.id), {
      ...replaced,
      status: 'enabled',
    });
    expect(enabled.status).toBe('enabled');
    expect(enabled.updated_at).toBe(NOW / 1000);
  });
});

describe('creating, replacing and deleting', () => {
  it('a POST of several rules creates all of them, or none when one is refused', async () => {
    const before = (await service.listRules(tokens.read, 'discord')).length;
    const refused = await refusal(
      service.createRules(tokens.write, 'discord', [
        { trigger: 'new_item', config: CONFIGS.discord },
        { trigger: 'deploy', config: { url: 'https://127.0.0.1/x' } },
      ]),
    );
    expect(refused).toEqual({
      statusCode: 422,
      message: '1.config.url refused: 127.0.0.1 is a loopback address',
    });
    expect((await service.listRules(tokens.read, 'discord')).length).toBe(before);

    const created = await service.createRules(tokens.write, 'discord', [
      { trigger: 'new_item', config: CONFIGS.discord },
      { trigger: 'deploy', config: CONFIGS.discord },
    ]);
    expect(created.map((rule) => rule.trigger)).toEqual(['new_item', 'deploy']);
    expect((await service.listRules(tokens.read, 'discord')).length).toBe(before + 2);
  });

  it('takes one rule as an object for convenience, and refuses an empty or oversized list', async () => {
    const [one] = await service.createRules(tokens.write, 'campfire', {
      trigger: 'new_item',
      config: CONFIGS.campfire,
    });
    expect(one).toMatchObject({ channel: 'campfire', trigger: 'new_item', created_at: NOW / 1000 });
    expect(await refusal(service.createRules(tokens.write, 'campfire', []))).toEqual({
      statusCode: 422,
      message: 'rules: send at least one rule',
    });
    const many = Array.from({ length: MAX_RULES_PER_REQUEST + 1 }, () => ({ trigger: 'new_item' }));
    expect(await refusal(service.createRules(tokens.write, 'campfire', many))).toMatchObject({
      statusCode: 422,
    });
    expect(await refusal(service.createRules(tokens.write, 'campfire', 'new_item'))).toMatchObject({
      statusCode: 422,
      message: 'rule: a rule is a JSON object',
    });
  });

  it("a project's rules are bounded: past the limit a POST is refused whole", async () => {
    const small = await projects.createProject({ name: 'small' });
    const bounded = createRulesService({
      projects,
      rules: repository,
      log: deliveryLog,
      queue,
      outboundPolicy: cloud,
      maxRulesPerProject: 3,
    });
    const rule = { trigger: 'new_item', config: CONFIGS.email };
    await bounded.createRules(small.tokens.write, 'email', [rule, rule]);
    expect(await refusal(bounded.createRules(small.tokens.write, 'email', [rule, rule]))).toEqual({
      statusCode: 422,
      message: 'rules: a project has at most 3 rules (it has 2)',
    });
    expect(await repository.list(small.project.projectId)).toHaveLength(2);
    await bounded.createRules(small.tokens.write, 'email', [rule]);
  });

  it('a deleted rule is gone, and deleting it again is a 404', async () => {
    const rule = await create('teams', { trigger: 'new_item', config: CONFIGS.teams });
    expect(await service.deleteRule(tokens.write, 'teams', String(rule.id))).toEqual({ id: rule.id });
    expect(await refusal(service.getRule(tokens.read, 'teams', String(rule.id)))).toMatchObject({
      statusCode: 404,
    });
    expect(await refusal(service.deleteRule(tokens.write, 'teams', String(rule.id)))).toMatchObject({
      statusCode: 404,
    });
  });

  it('a refused replacement changes nothing', async () => {
    const rule = await create('teams', { trigger: 'new_item', config: CONFIGS.teams });
    expect(
      await refusal(
        service.replaceRule(tokens.write, 'teams', String(rule.id), {
          trigger: 'daily_summary',
          config: CONFIGS.teams,
        }),
      ),
    ).toMatchObject({ statusCode: 422 });
    expect(
      await refusal(service.replaceRule(tokens.write, 'teams', String(rule.id), [{ trigger: 'new_item' }])),
    ).toMatchObject({ statusCode: 422, message: 'rule: send one rule as a JSON object' });
    expect(await repository.get(projectId, rule.id)).toMatchObject({
      trigger: 'new_item',
      config: { url: HOOK },
    });
  });
});

describe('delivery log and sample deliveries', () => {
  it('shows the last 50 attempts, newest first', async () => {
    const rule = await create('webhook', { trigger: 'new_item', config: CONFIGS.webhook });
    for (let attempt = 1; attempt <= 55; attempt++) {
      await deliveryLog.append(rule.id, {
        time: NOW + attempt * 1000,
        key: `item:1#${rule.id}`,
        event_id: 'item:1',
        trigger: 'new_item',
        item_id: 1,
        attempt,
        status: attempt === 55 ? 'sent' : 'retrying',
        http_status: attempt === 55 ? 200 : 503,
        response: attempt === 55 ? 'ok' : 'Service Unavailable',
      });
    }
    const log = await service.deliveryLog(tokens.read, 'webhook', String(rule.id));
    expect(log).toHaveLength(50);
    expect(log[0]).toMatchObject({ attempt: 55, status: 'sent', http_status: 200 });
    expect(log.at(-1)).toMatchObject({ attempt: 6 });
  });

  it('queues one sample delivery of the rule’s trigger, keyed so the log finds it', async () => {
    const rule = await create('slack', {
      trigger: 'occurrence_rate',
      filters: [{ type: 'rate', period: 60, count: 25 }],
      config: CONFIGS.slack,
    });
    const before = queue.messages.length;
    const sample = await service.testRule(tokens.write, 'slack', String(rule.id));
    expect(queue.messages.length).toBe(before + 1);
    const message = queue.messages.at(-1)!;
    expect(sample).toEqual({
      rule_id: rule.id,
      channel: 'slack',
      trigger: 'occurrence_rate',
      status: 'enabled',
      key: message.key,
      event_id: message.event.id,
    });
    expect(message.event.id).toMatch(/^test:[0-9a-f-]{36}$/);
    expect(message).toMatchObject({
      key: `${message.event.id}#${rule.id}`,
      project_id: projectId,
      rule_id: rule.id,
      channel: 'slack',
      attempt: 1,
      queued_at: NOW,
      event: {
        trigger: 'occurrence_rate',
        sample: true,
        project_id: projectId,
        rate: { period: 60, count: 25 },
        occurrences: 25,
        item: { id: 0, counter: 0, level: 'error' },
      },
    });
    // Another test is another event: it never collides with the first one's delivery record.
    const again = await service.testRule(tokens.write, 'slack', String(rule.id));
    expect(again.key).not.toBe(sample.key);
  });

  it.each(['deploy', 'daily_summary'] as const)(
    'a %s sample carries what that trigger tells',
    async (trigger) => {
      const rule = await create('email', { trigger, config: CONFIGS.email });
      await service.testRule(tokens.write, 'email', String(rule.id));
      const { event } = queue.messages.at(-1)!;
      if (trigger === 'deploy') {
        expect(event.deploy).toMatchObject({ environment: 'production', revision: expect.any(String) });
        expect(event.item).toBeUndefined();
      } else {
        expect(event.summary).toMatchObject({ day: '2026-11-29', new_items: [{ id: 0 }] });
      }
    },
  );
});
