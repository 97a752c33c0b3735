// `faultline rules …`: a client of the rules API (credentials are sealed and masked by the API, never
// handled here), from short command-line forms of Rollbar's rules to one line per rule or attempt.
import { readFile } from 'node:fs/promises';
import { channelConfigs } from '#shared/notifications/channel-configs';
import {
  CHANNELS,
  type ChannelName,
  CLOSED_CHANNELS,
  type DeliveryLogEntry,
  TRIGGERS,
} from '#shared/notifications/model';
import type { RuleResource, SampleDelivery } from '#shared/notifications/rules-service';
import { UsageError } from './errors';
import { LOCAL_STACK_FILE, LOCAL_TOKENS_FILE, type LocalStackDescription } from './local-stack-file';

/** The API refused the request (a 4xx): its message, exit code 2, as a refused project command. */
export class RulesApiRefusal extends Error {
  override readonly name = 'RulesApiRefusal';
}

/** The API failed or could not be reached: exit code 1. */
export class RulesApiError extends Error {
  override readonly name = 'RulesApiError';
}

export interface RulesOptions {
  url?: string;
  token?: string;
  channel?: string;
  trigger?: string;
  filter?: string[];
  'path-filter'?: string[];
  rate?: string;
  config?: string[];
  'config-json'?: string;
  disabled?: boolean;
}

export const RULES_USAGE = `  faultline rules list [--channel <channel>]
  faultline rules add <channel> --trigger <trigger> [--filter <type>:<operation>:<value> …]
      [--path-filter <path>:<operation>[:<value>] …] [--rate <period>:<count>]
      [--config <key>=<value> …] [--config-json '{…}'] [--disabled]
  faultline rules remove|enable|disable|test|log <rule id> [--channel <channel>]`;

export const RULES_HELP = `Notification rules (through the rules API; a write token changes them, a read token lists them):
  --url <url>               the API (default: the running local stack's, from ${LOCAL_STACK_FILE})
  --token <token>           an access token (default: FAULTLINE_TOKEN, else the local stack's write token)
Channels: ${CHANNELS.join(', ')}
Triggers: ${TRIGGERS.join(', ')}
Examples:
  faultline rules add slack --trigger new_item --filter environment:eq:production --filter level:gte:error \\
    --config url=https://hooks.slack.com/services/…
  faultline rules add webhook --trigger occurrence_rate --rate 300:10 --config url=https://ops.example.com/hook
  faultline rules add email --trigger daily_summary --config to=dev@example.com,ops@example.com`;

/** `environment:eq:production`: the value is the rest, colons and all (`title:regex:^a:b$`). */
function filterOf(text: string): Record<string, unknown> {
  const [type, operation, ...rest] = text.split(':');
  if (!type || !operation || rest.length === 0) {
    throw new UsageError(`--filter takes <type>:<operation>:<value> (e.g. level:gte:error), not ${text}`);
  }
  return { type, operation, value: rest.join(':') };
}

/** `body.trace.exception.class:eq:TypeError` or `request.user_ip:exists`. */
function pathFilterOf(text: string): Record<string, unknown> {
  const [path, operation, ...rest] = text.split(':');
  if (!path || !operation) {
    throw new UsageError(
      `--path-filter takes <path>:<operation>[:<value>] (e.g. custom.tenant:eq:acme), not ${text}`,
    );
  }
  return rest.length > 0
    ? { type: 'path', path, operation, value: rest.join(':') }
    : { type: 'path', path, operation };
}

function rateOf(text: string): Record<string, unknown> {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (!match) throw new UsageError(`--rate takes <period seconds>:<count> (e.g. 300:10), not ${text}`);
  return { type: 'rate', period: Number(match[1]), count: Number(match[2]) };
}

/** The type a channel's config key holds, from its schema: arrays and booleans are typed here. */
function configKind(channel: ChannelName, key: string): string | undefined {
  const shape = (channelConfigs[channel].schema as unknown as { shape: Record<string, unknown> }).shape;
  if (!Object.hasOwn(shape, key)) return undefined;
  let field = shape[key] as { def: { type: string; innerType?: unknown } };
  while ((field.def.type === 'optional' || field.def.type === 'default') && field.def.innerType) {
    field = field.def.innerType as typeof field;
  }
  return field.def.type;
}

/** `--config-json` first, then each `--config key=value`; lists take commas or repeats. */
function configOf(channel: ChannelName, options: RulesOptions): Record<string, unknown> {
  let config: Record<string, unknown> = {};
  if (options['config-json'] !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options['config-json']);
    } catch {
      throw new UsageError('--config-json is not JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new UsageError('--config-json takes a JSON object');
    }
    config = { ...(parsed as Record<string, unknown>) };
  }
  for (const pair of options.config ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--config takes <key>=<value>, not ${pair}`);
    const key = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    const kind = configKind(channel, key);
    if (!kind) {
      const keys = Object.keys((channelConfigs[channel].schema as unknown as { shape: object }).shape);
      throw new UsageError(`${channel} configs have no ${key} (keys: ${keys.join(', ')})`);
    }
    if (kind === 'array') {
      const previous = Array.isArray(config[key]) ? (config[key] as unknown[]) : [];
      config[key] = [
        ...previous,
        ...value
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean),
      ];
    } else if (kind === 'boolean' && (value === 'true' || value === 'false')) {
      config[key] = value === 'true';
    } else {
      config[key] = value;
    }
  }
  return config;
}

export function channelNamed(name: string | undefined): ChannelName {
  if (name && (CHANNELS as readonly string[]).includes(name)) return name as ChannelName;
  const closed =
    name && Object.hasOwn(CLOSED_CHANNELS, name.toLowerCase())
      ? CLOSED_CHANNELS[name.toLowerCase()]
      : undefined;
  if (closed) throw new UsageError(`channel ${name} is not available: ${closed}`);
  throw new UsageError(`unknown channel ${name ?? ''} (channels: ${CHANNELS.join(', ')})`);
}

/** The rule `rules add` sends, in Rollbar's shape. */
export function ruleOfArguments(
  channelName: string | undefined,
  options: RulesOptions,
): Record<string, unknown> {
  const channel = channelNamed(channelName);
  if (!options.trigger) throw new UsageError(`--trigger is required (${TRIGGERS.join(', ')})`);
  const filters = [
    ...(options.filter ?? []).map(filterOf),
    ...(options['path-filter'] ?? []).map(pathFilterOf),
    ...(options.rate !== undefined ? [rateOf(options.rate)] : []),
  ];
  return {
    trigger: options.trigger,
    status: options.disabled ? 'disabled' : 'enabled',
    filters,
    config: configOf(channel, options),
  };
}

function filterWords(filter: Record<string, unknown>): string {
  if (filter.type === 'rate') return `rate ${filter.count} per ${filter.period}s`;
  const subject = filter.type === 'path' ? `path ${filter.path}` : String(filter.type);
  return [subject, filter.operation, filter.value].filter((part) => part !== undefined).join(' ');
}

function configWords(config: Record<string, unknown>): string {
  return Object.entries(config)
    .map(
      ([key, value]) =>
        `${key}=${Array.isArray(value) ? value.join(',') : typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
    )
    .join(' ');
}

/** One line per rule: id, channel, trigger, status, filters, config (credentials as the API masked them). */
export function ruleLine(rule: RuleResource): string {
  const filters = rule.filters.map((filter) => filterWords(filter as Record<string, unknown>)).join(', ');
  return [
    String(rule.id).padEnd(6),
    rule.channel.padEnd(9),
    rule.trigger.padEnd(16),
    rule.status.padEnd(8),
    filters || 'no filters',
    '|',
    configWords(rule.config),
  ].join('  ');
}

/** One line per delivery attempt. */
export function logLine(entry: DeliveryLogEntry): string {
  const response = entry.response.replaceAll(/\s+/g, ' ').trim();
  return [
    new Date(entry.time).toISOString(),
    entry.status.padEnd(8),
    String(entry.http_status ?? '-').padEnd(3),
    entry.trigger.padEnd(16),
    `attempt ${entry.attempt}`,
    entry.item_id === null ? 'no item' : `item ${entry.item_id}`,
    entry.key,
    response.length > 160 ? `${response.slice(0, 159)}…` : response,
  ].join('  ');
}

async function readJsonFile<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export interface RulesApi {
  list(channel: ChannelName): Promise<RuleResource[]>;
  create(channel: ChannelName, rules: unknown[]): Promise<RuleResource[]>;
  get(channel: ChannelName, id: number): Promise<RuleResource>;
  replace(channel: ChannelName, id: number, rule: unknown): Promise<RuleResource>;
  remove(channel: ChannelName, id: number): Promise<{ id: number }>;
  test(channel: ChannelName, id: number): Promise<SampleDelivery>;
  log(channel: ChannelName, id: number): Promise<DeliveryLogEntry[]>;
}

/** The API at `url` with `token` in Rollbar's header. */
export function rulesApi(url: string, token: string): RulesApi {
  const base = url.replace(/\/+$/, '');
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${base}/api/1/notifications/${path}`, {
        method,
        headers: { 'X-Rollbar-Access-Token': token, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new RulesApiError(`cannot reach the API at ${base} (${reason})`, { cause: error });
    }
    const text = await response.text();
    let answer: { err?: number; result?: unknown; message?: string } | undefined;
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      answer = undefined;
    }
    if (response.ok && answer?.err === 0) return answer.result as T;
    const message = answer?.message ?? (text.slice(0, 200) || response.statusText);
    const failure = `${message} (HTTP ${response.status})`;
    throw response.status >= 400 && response.status < 500
      ? new RulesApiRefusal(failure)
      : new RulesApiError(failure);
  }
  return {
    list: (channel) => call('GET', `${channel}/rules`),
    create: (channel, rules) => call('POST', `${channel}/rules`, rules),
    get: (channel, id) => call('GET', `${channel}/rule/${id}`),
    replace: (channel, id, rule) => call('PUT', `${channel}/rule/${id}`, rule),
    remove: (channel, id) => call('DELETE', `${channel}/rule/${id}`),
    test: (channel, id) => call('POST', `${channel}/rule/${id}/test`),
    log: (channel, id) => call('GET', `${channel}/rule/${id}/log`),
  };
}

/** `--url` and `--token`, else the running local stack's URL and write token. */
export async function connectRules(
  options: RulesOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RulesApi> {
  const url = options.url ?? (await readJsonFile<LocalStackDescription>(LOCAL_STACK_FILE))?.url;
  if (!url) throw new UsageError('no API URL: start the local stack (npm start) or pass --url');
  const token =
    options.token ??
    (env.FAULTLINE_TOKEN || undefined) ??
    (await readJsonFile<{ write?: string }>(LOCAL_TOKENS_FILE))?.write;
  if (!token)
    throw new UsageError('no access token: pass --token, set FAULTLINE_TOKEN, or start the local stack');
  return rulesApi(url, token);
}

function ruleIdOf(text: string | undefined): number {
  if (!text || !/^\d{1,15}$/.test(text) || Number(text) < 1)
    throw new UsageError(`not a rule id: ${text ?? ''}`);
  return Number(text);
}

/** The channel a rule id is on: `--channel`, or the one listing that holds it. */
async function locate(api: RulesApi, id: number, options: RulesOptions): Promise<RuleResource> {
  if (options.channel) return api.get(channelNamed(options.channel), id);
  const lists = await Promise.all(CHANNELS.map((channel) => api.list(channel)));
  const rule = lists.flat().find((listed) => listed.id === id);
  if (!rule) throw new RulesApiRefusal(`rule ${id} not found in the token's project`);
  return rule;
}

/**
 * Runs `rules <verb> …`: the arguments are checked before `connect` is called, so a usage error
 * needs no API. `print` receives each line of output, `warn` each note for stderr.
 */
export async function runRules(
  verb: string,
  args: string[],
  options: RulesOptions,
  connect: () => Promise<RulesApi>,
  io: { print(line: string): void; warn(line: string): void },
): Promise<number> {
  switch (verb) {
    case 'list': {
      const channels = options.channel ? [channelNamed(options.channel)] : [...CHANNELS];
      const api = await connect();
      const lists = await Promise.all(channels.map((channel) => api.list(channel)));
      const rules = lists.flat().sort((a, b) => a.id - b.id);
      for (const rule of rules) io.print(ruleLine(rule));
      if (rules.length === 0) io.warn('no rules');
      return 0;
    }
    case 'add': {
      const channel = channelNamed(args[0]);
      const rule = ruleOfArguments(channel, options);
      const [created] = await (await connect()).create(channel, [rule]);
      if (!created) throw new RulesApiError('the API created no rule');
      io.print(ruleLine(created));
      const secret = created.config.secret;
      if (channel === 'webhook' && typeof secret === 'string' && secret.startsWith('whsec_')) {
        io.print(`webhook secret: ${secret}`);
        io.warn(
          'the webhook secret is shown once: keep it now to verify signatures (the API shows it masked from now on)',
        );
      }
      return 0;
    }
    case 'remove': {
      const id = ruleIdOf(args[0]);
      const api = await connect();
      const rule = await locate(api, id, options);
      await api.remove(rule.channel, rule.id);
      io.print(`removed ${ruleLine(rule)}`);
      return 0;
    }
    case 'enable':
    case 'disable': {
      const id = ruleIdOf(args[0]);
      const api = await connect();
      const rule = await locate(api, id, options);
      // Sent back as read: masked credentials stand for the stored ones, which the API keeps.
      const replaced = await api.replace(rule.channel, rule.id, {
        trigger: rule.trigger,
        status: verb === 'enable' ? 'enabled' : 'disabled',
        filters: rule.filters,
        config: rule.config,
      });
      io.print(ruleLine(replaced));
      return 0;
    }
    case 'test': {
      const id = ruleIdOf(args[0]);
      const api = await connect();
      const rule = await locate(api, id, options);
      const sample = await api.test(rule.channel, rule.id);
      io.print(
        `queued a sample ${sample.trigger} through rule ${sample.rule_id} (${sample.channel}): ${sample.key}`,
      );
      if (sample.status === 'disabled') {
        io.warn(
          `rule ${sample.rule_id} is disabled: the sender skips its deliveries, this sample too, until it is enabled`,
        );
      }
      io.warn(`see how it went: faultline rules log ${sample.rule_id}`);
      return 0;
    }
    case 'log': {
      const id = ruleIdOf(args[0]);
      const api = await connect();
      const rule = await locate(api, id, options);
      const entries = await api.log(rule.channel, rule.id);
      for (const entry of entries) io.print(logLine(entry));
      if (entries.length === 0) io.warn(`rule ${rule.id} has no deliveries yet`);
      return 0;
    }
  }
  throw new UsageError(`unknown command: rules ${verb} (see faultline --help)`);
}
