// The command-line tool: create projects and access tokens, against the local stack or a deployed one.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '#shared/aws/clients';
import type { GroupingVersion } from '#shared/domain/fingerprint';
import { SCOPES, type Scope } from '#shared/projects/access-tokens';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository, ProjectNameTakenError } from '#shared/store/projects';
import { LOCAL_STACK_FILE, type LocalStackDescription } from './local-stack-file';

const USAGE = `faultline — manage Faultline projects and access tokens

Usage:
  faultline project create <name> [--grouping-version 1|2]
  faultline project set <name> --grouping-version 1|2
  faultline project show <name>
  faultline token create <project> --scope <scope>[,<scope>…] [--name <name>]
  faultline token list <project>

Where the projects table is:
  --projects-table <name>   a deployed stack's ProjectsTable (see its outputs); with AWS credentials
  --region <region>         the stack's region (default: AWS_REGION)
  --endpoint <url>          a DynamoDB endpoint (default: the running local stack's, from ${LOCAL_STACK_FILE})

Scopes: ${SCOPES.join(', ')}`;

class UsageError extends Error {}

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

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'grouping-version': { type: 'string' },
      scope: { type: 'string' },
      name: { type: 'string' },
      'projects-table': { type: 'string' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [noun, verb, subject] = positionals;
  if (values.help || !noun) {
    console.log(USAGE);
    return 0;
  }
  const service = await connect(values);
  if (noun === 'project' && verb === 'create' && subject) {
    const version = values['grouping-version'] ?? '2';
    if (version !== '1' && version !== '2') throw new UsageError('--grouping-version is 1 or 2');
    const { project, tokens } = await service.createProject({
      name: subject,
      groupingVersion: version === '1' ? 1 : 2,
    });
    console.log(JSON.stringify({ project_id: project.projectId, name: project.name, tokens }, null, 2));
    return 0;
  }
  if (noun === 'project' && verb === 'show' && subject) {
    const project = await service.findProjectByName(subject);
    if (!project) throw new UsageError(`no project named ${subject}`);
    console.log(
      JSON.stringify(
        { project_id: project.projectId, name: project.name, grouping_version: project.groupingVersion },
        null,
        2,
      ),
    );
    return 0;
  }
  if (noun === 'project' && verb === 'set' && subject) {
    const project = await service.findProjectByName(subject);
    if (!project) throw new UsageError(`no project named ${subject}`);
    const groupingVersion = parseGroupingVersion(values['grouping-version']);
    await service.setGroupingVersion(project.projectId, groupingVersion);
    // Ingest caches a project for a minute per container, so the change reaches every occurrence within it.
    console.log(
      JSON.stringify({ project_id: project.projectId, grouping_version: groupingVersion }, null, 2),
    );
    return 0;
  }
  if (noun === 'token' && subject) {
    const project = await service.findProjectByName(subject);
    if (!project) throw new UsageError(`no project named ${subject}`);
    if (verb === 'create') {
      const scopes = parseScopes(values.scope);
      const token = await service.createAccessToken(
        project.projectId,
        scopes,
        values.name ?? scopes.join('+'),
      );
      console.log(JSON.stringify({ project_id: project.projectId, scopes, access_token: token }, null, 2));
      return 0;
    }
    if (verb === 'list') {
      const tokens = await service.listAccessTokens(project.projectId);
      // Only hashes are stored: a token is shown once, when it is created.
      console.log(
        JSON.stringify(
          tokens.map((token) => ({ name: token.name, scopes: token.scopes, sha256: token.tokenHash })),
          null,
          2,
        ),
      );
      return 0;
    }
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof ProjectNameTakenError) {
      console.error(`faultline: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error('faultline:', error);
    process.exitCode = 1;
  },
);
