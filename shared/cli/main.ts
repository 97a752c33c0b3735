// The command-line tool: manage projects, access tokens and notification rules, against the local stack or a deployed one.
import { readFile } from 'node:fs/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { GroupingVersion } from '#shared/domain/fingerprint';
import { SCOPES, type Scope } from '#shared/projects/access-tokens';
import { ProjectAdminError } from '#shared/projects/errors';
import { TOKEN_CACHE_MS } from '#shared/projects/service';
import type { Project } from '#shared/store/projects';
import { UsageError } from './errors';
import { connectItems, ITEMS_HELP, ITEMS_USAGE, ItemsApiRefusal, runItemsSearch } from './items';
import { LOCAL_STACK_FILE, type LocalStackDescription } from './local-stack-file';
import { REGION_HELP, REGION_USAGE, type RegionTables, runRegion } from './region';
import { REINDEX_HELP, REINDEX_USAGE, reindexCommand } from './reindex';
import { connectRules, RULES_HELP, RULES_USAGE, RulesApiRefusal, runRules } from './rules';
import {
  runSearchStatus,
  SEARCH_STATUS_HELP,
  SEARCH_STATUS_USAGE,
  SearchDomainNotFoundError,
} from './search-status';

const USAGE = `faultline — manage Faultline projects, access tokens and notification rules

Usage:
  faultline project create <name> [--grouping-version 1|2]
  faultline project list
  faultline project show <name>
  faultline project set <name> --grouping-version 1|2
  faultline token create <project> --scope <scope>[,<scope>…] [--name <name>]
  faultline token list <project>
  faultline token revoke <project> <token name | sha256 prefix>
${RULES_USAGE}
${SEARCH_STATUS_USAGE}
${ITEMS_USAGE}
${REINDEX_USAGE}
${REGION_USAGE}

Project names: 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit.
Scopes: ${SCOPES.join(', ')}

Where the projects table is:
  --projects-table <name>   a deployed stack's ProjectsTable (see its outputs); with AWS credentials
  --region <region>         the stack's region (default: AWS_REGION)
  --endpoint <url>          a DynamoDB endpoint (default: the running local stack's, from ${LOCAL_STACK_FILE})

${RULES_HELP}

${SEARCH_STATUS_HELP}
${ITEMS_HELP}
${REINDEX_HELP}

${REGION_HELP}

Other options:
  -h, --help                this text
  -v, --version             the version
  --debug                   on an error, print its stack too (or set FAULTLINE_DEBUG=1)`;

const OPTIONS = {
  'grouping-version': { type: 'string' },
  scope: { type: 'string' },
  name: { type: 'string' },
  'projects-table': { type: 'string' },
  'items-table': { type: 'string' },
  'search-table': { type: 'string' },
  domain: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  channel: { type: 'string' },
  trigger: { type: 'string' },
  filter: { type: 'string', multiple: true },
  'path-filter': { type: 'string', multiple: true },
  rate: { type: 'string' },
  config: { type: 'string', multiple: true },
  'config-json': { type: 'string' },
  disabled: { type: 'boolean' },
  project: { type: 'string' },
  restart: { type: 'boolean' },
  'occurrences-table': { type: 'string' },
  regions: { type: 'string' },
  home: { type: 'string' },
  standby: { type: 'string' },
  since: { type: 'string' },
  yes: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  debug: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** Each command and the arguments it takes. */
const COMMANDS: Record<string, string[]> = {
  'project create': ['<name>'],
  'project list': [],
  'project show': ['<name>'],
  'project set': ['<name>'],
  'token create': ['<project>'],
  'token list': ['<project>'],
  'token revoke': ['<project>', '<token name | sha256 prefix>'],
  'rules list': [],
  'rules add': ['<channel>'],
  'rules remove': ['<rule id>'],
  'rules enable': ['<rule id>'],
  'rules disable': ['<rule id>'],
  'rules test': ['<rule id>'],
  'rules log': ['<rule id>'],
  'search status': [],
  'search reindex': [],
  'region status': [],
  'region promote': ['<region>'],
};

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(describeParseError(argv, error), { cause: error });
  }
}

/** node:util's messages run over several lines and suggest `--`; ours name the option and stop. */
function describeParseError(argv: string[], error: unknown): string {
  const { tokens } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (!Object.hasOwn(OPTIONS, token.name)) return `unknown option ${token.rawName} (see faultline --help)`;
    const { type } = OPTIONS[token.name as keyof typeof OPTIONS];
    if (
      type === 'string' &&
      (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
    ) {
      return `${token.rawName} needs a value`;
    }
    if (type === 'boolean' && token.value !== undefined) return `${token.rawName} takes no value`;
  }
  return firstLine(error instanceof Error ? error.message : String(error));
}

async function localStack(): Promise<LocalStackDescription | undefined> {
  try {
    return JSON.parse(await readFile(LOCAL_STACK_FILE, 'utf8')) as LocalStackDescription;
  } catch {
    return undefined;
  }
}

async function connect(values: { 'projects-table'?: string; region?: string; endpoint?: string }) {
  const local = values['projects-table'] ? undefined : await localStack();
  const tableName = values['projects-table'] ?? local?.tables.projects;
  if (!tableName) {
    throw new UsageError('no projects table: start the local stack (npm start) or pass --projects-table');
  }
  const endpoint = values.endpoint ?? local?.endpoints.dynamodb;
  // The AWS SDK takes most of the start-up time: --help, --version and usage errors do without it.
  const [
    { DynamoDBClient },
    { createDocumentClient },
    { createProjectService },
    { DynamoDBProjectRepository },
  ] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('#shared/aws/clients'),
    import('#shared/projects/service'),
    import('#shared/store/projects'),
  ]);
  const client = new DynamoDBClient({
    region: values.region ?? process.env.AWS_REGION ?? local?.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(local && !values['projects-table']
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  return createProjectService({
    projects: new DynamoDBProjectRepository(createDocumentClient(client), tableName),
  });
}

/** The tables a promotion reads and writes, in the region promoted (or --region). */
async function connectRegionTables(
  values: {
    'projects-table'?: string;
    'items-table'?: string;
    'occurrences-table'?: string;
    region?: string;
    endpoint?: string;
  },
  region: string | undefined,
) {
  const local = values['projects-table'] ? undefined : await localStack();
  const tables: Partial<RegionTables> = {
    projects: values['projects-table'] ?? local?.tables.projects,
    items: values['items-table'] ?? local?.tables.items,
    occurrences: values['occurrences-table'] ?? local?.tables.occurrences,
  };
  if (!tables.projects || !tables.items || !tables.occurrences) {
    throw new UsageError(
      'no tables: start the local stack (npm start) or pass --projects-table, --items-table and --occurrences-table',
    );
  }
  const endpoint = values.endpoint ?? local?.endpoints.dynamodb;
  const [{ DynamoDBClient }, { createDocumentClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('#shared/aws/clients'),
  ]);
  const client = new DynamoDBClient({
    region: values.region ?? region ?? process.env.AWS_REGION ?? local?.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  return { documents: createDocumentClient(client), tables: tables as RegionTables };
}

/** The plan's -c context in ./cdk.json, where a team keeps it so every deploy says the same. */
async function readCdkContext(): Promise<{ regions?: string; home?: string; standby?: string }> {
  try {
    const { context } = JSON.parse(await readFile('cdk.json', 'utf8')) as {
      context?: Record<string, unknown>;
    };
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    return { regions: text(context?.regions), home: text(context?.home), standby: text(context?.standby) };
  } catch {
    return {};
  }
}

/** Asks on a terminal for `answer` to be typed; anything else, or no terminal, is no. */
async function askToType(question: string, answer: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await prompt.question(question)).trim() === answer;
  } finally {
    prompt.close();
  }
}

function parseGroupingVersion(value: string | undefined): GroupingVersion {
  if (value !== '1' && value !== '2') throw new UsageError('--grouping-version is 1 or 2');
  return value === '1' ? 1 : 2;
}

function parseScopes(value: string | undefined): Scope[] {
  const scopes = (value ?? '')
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new UsageError('--scope is required');
  for (const scope of scopes) {
    if (!(SCOPES as readonly string[]).includes(scope)) throw new UsageError(`unknown scope ${scope}`);
  }
  return scopes as Scope[];
}

async function packageVersion(): Promise<string> {
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** A project as the CLI shows it. */
function projectShown(project: Project) {
  return {
    project_id: project.projectId,
    name: project.name,
    grouping_version: project.groupingVersion,
    created_at: new Date(project.createdAt).toISOString(),
  };
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Runs one command; returns the exit code, or throws what went wrong. */
export async function main(argv: string[]): Promise<number> {
  // A search's words may start with `-` (negation): `items search` reads its own arguments.
  if (argv[0] === 'items' && argv[1] === 'search' && !argv.includes('--help') && !argv.includes('-h')) {
    return runItemsSearch(argv.slice(2), (options) => connectItems(options), {
      print: (line) => console.log(line),
      warn: (line) => console.error(`faultline: ${line}`),
      width: process.stdout.columns,
    });
  }
  const { values, positionals } = parseCommandLine(argv);
  if (values.version) {
    console.log(`faultline ${await packageVersion()}`);
    return 0;
  }
  const [noun, verb, subject, object, ...extra] = positionals;
  if (values.help || !noun) {
    console.log(USAGE);
    return 0;
  }
  const command = `${noun} ${verb ?? ''}`.trim();
  const wanted = COMMANDS[command];
  if (!wanted) throw new UsageError(`unknown command: ${positionals.join(' ')} (see faultline --help)`);
  if ([subject, object, ...extra].filter((argument) => argument !== undefined).length !== wanted.length) {
    throw new UsageError(`usage: faultline ${[command, ...wanted].join(' ')}`);
  }

  if (noun === 'rules') {
    // A client of the rules API: credentials are sealed and masked there, never handled here.
    const args = [subject, object].filter((argument) => argument !== undefined);
    return runRules(verb!, args, values, () => connectRules(values), {
      print: (line) => console.log(line),
      warn: (line) => console.error(`faultline: ${line}`),
    });
  }

  if (command === 'search status') {
    return runSearchStatus(values, { print: (line) => console.log(line), local: await localStack() });
  }

  if (command === 'search reindex') {
    print(await reindexCommand(values, process.stderr));
    return 0;
  }

  if (noun === 'region') {
    return runRegion(
      verb!,
      [subject].filter((argument) => argument !== undefined),
      values,
      {
        connect: (region) => connectRegionTables(values, region),
        recount: async (...args) => (await import('#shared/recount/recount')).recount(...args),
        print: (line) => console.log(line),
        progress: process.stderr,
        confirm: askToType,
        cdkContext: readCdkContext,
      },
    );
  }

  const service = await connect(values);
  switch (command) {
    case 'project create': {
      const { project, tokens } = await service.createProject({
        name: subject!,
        groupingVersion: parseGroupingVersion(values['grouping-version'] ?? '2'),
      });
      print({ project_id: project.projectId, name: project.name, tokens });
      return 0;
    }
    case 'project list': {
      const projects = await service.listProjects();
      print(projects.map(projectShown));
      return 0;
    }
    case 'project show': {
      const project = await service.projectNamed(subject!);
      print(projectShown(project));
      return 0;
    }
    case 'project set': {
      const groupingVersion = parseGroupingVersion(values['grouping-version']);
      const project = await service.projectNamed(subject!);
      await service.setGroupingVersion(project.projectId, groupingVersion);
      // Ingest caches a project with its tokens, so the change reaches every occurrence within that time.
      print({ project_id: project.projectId, grouping_version: groupingVersion });
      return 0;
    }
    case 'token create': {
      const scopes = parseScopes(values.scope);
      const project = await service.projectNamed(subject!);
      const token = await service.createAccessToken(
        project.projectId,
        scopes,
        values.name ?? scopes.join('+'),
      );
      print({ project_id: project.projectId, scopes, access_token: token });
      return 0;
    }
    case 'token list': {
      const project = await service.projectNamed(subject!);
      const tokens = await service.listAccessTokens(project.projectId);
      // Only hashes are stored: a token is shown once, when it is created.
      print(tokens.map((token) => ({ name: token.name, scopes: token.scopes, sha256: token.tokenHash })));
      return 0;
    }
    case 'token revoke': {
      const revoked = await service.revokeAccessToken(subject!, object!);
      print({ revoked: { name: revoked.name, scopes: revoked.scopes, sha256: revoked.tokenHash } });
      console.error(
        `faultline: revoked; containers that checked this token in the last ${TOKEN_CACHE_MS / 1000} s may accept it until then`,
      );
      return 0;
    }
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

/** One line for any failure: what the user typed wrong (exit 2) or what went wrong (exit 1). */
function describeFailure(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0 && !error.message) {
    return describeFailure(error.errors[0]);
  }
  if (error instanceof Error) return firstLine(error.message || error.name);
  return firstLine(String(error));
}

const debug =
  process.argv.includes('--debug') || !['', '0', 'false', undefined].includes(process.env.FAULTLINE_DEBUG);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const refused =
      error instanceof UsageError ||
      error instanceof ProjectAdminError ||
      error instanceof RulesApiRefusal ||
      error instanceof SearchDomainNotFoundError ||
      error instanceof ItemsApiRefusal;
    console.error(`faultline: ${describeFailure(error)}`);
    if (debug) console.error(error);
    process.exitCode = refused ? 2 : 1;
  },
);
