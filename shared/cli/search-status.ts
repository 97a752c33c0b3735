// `faultline search status`: whether each project's search index is in step with its items (the
// DynamoDB engine, default), or with --domain the OpenSearch domain's state and its index's size.

import type { OpenSearchClient } from '@aws-sdk/client-opensearch';
import type { SearchIndexReader } from '#shared/search/engine';
import { UsageError } from './errors';
import type { LocalStackDescription } from './local-stack-file';

export const SEARCH_STATUS_USAGE = '  faultline search status [--domain <name>] [--region <region>]';

export const SEARCH_STATUS_HELP = `Search status:
  Without --domain, the DynamoDB index of the local stack (or of --projects-table, --items-table and
  --search-table): per project, its items and the documents the index holds, in step or behind.
  With --domain, an OpenSearch Service domain (-c search=opensearch; its name is the stack's
  SearchDomainName output): its state, version, endpoint, instances, zones, encryption and, when
  its endpoint answers, the documents in its index.`;

export interface ProjectIndexStatus {
  project_id: number;
  name: string;
  items: number;
  documents: number;
}

/**
 * Each project's numbered items (counted by one walk of the items table itself, never by the index
 * it is compared with) and the documents its index holds.
 */
export async function projectIndexStatuses(
  projects: Array<{ projectId: number; name: string }>,
  itemCounts: ReadonlyMap<number, number>,
  index: Pick<SearchIndexReader, 'countDocuments'>,
): Promise<ProjectIndexStatus[]> {
  return Promise.all(
    projects.map(async (project) => ({
      project_id: project.projectId,
      name: project.name,
      items: itemCounts.get(project.projectId) ?? 0,
      documents: await index.countDocuments(project.projectId),
    })),
  );
}

/** One line per project: in step, behind (with what to run), or holding more than the items. */
export function describeProjectStatuses(statuses: ProjectIndexStatus[]): string[] {
  if (statuses.length === 0) return ['no projects yet'];
  return statuses.map(({ project_id, name, items, documents }) => {
    const counts = `project ${project_id} ${name}: ${items} items, ${documents} in the index`;
    if (documents === items) return `${counts}: in step`;
    if (documents < items) {
      return `${counts}: ${items - documents} behind: run faultline search reindex --project ${name}`;
    }
    return `${counts}: ${documents - items} more in the index than items`;
  });
}

/** What DescribeDomain says of a domain, as the status shows it. */
export interface DomainState {
  name: string;
  state: 'creating' | 'processing' | 'upgrading' | 'deleting' | 'active';
  engineVersion: string;
  endpoint: string | undefined;
  instanceType: string;
  instanceCount: number;
  zones: number;
  encryptedAtRest: boolean;
  nodeToNodeEncryption: boolean;
  httpsOnly: boolean;
  tlsPolicy: string | undefined;
}

/** Thrown when the domain does not exist in that region (DescribeDomain's ResourceNotFoundException). */
export class SearchDomainNotFoundError extends Error {
  override readonly name = 'SearchDomainNotFoundError';
}

export async function describeDomainState(
  client: OpenSearchClient,
  domainName: string,
): Promise<DomainState> {
  const { DescribeDomainCommand, ResourceNotFoundException } = await import('@aws-sdk/client-opensearch');
  const status = await client
    .send(new DescribeDomainCommand({ DomainName: domainName }))
    .then((answer) => answer.DomainStatus)
    .catch((error: unknown) => {
      if (error instanceof ResourceNotFoundException) {
        throw new SearchDomainNotFoundError(`no OpenSearch domain named ${domainName} in this region`, {
          cause: error,
        });
      }
      throw error;
    });
  if (!status) throw new SearchDomainNotFoundError(`no OpenSearch domain named ${domainName} in this region`);
  const cluster = status.ClusterConfig ?? {};
  const state: DomainState['state'] = status.Deleted
    ? 'deleting'
    : !status.Created
      ? 'creating'
      : status.UpgradeProcessing
        ? 'upgrading'
        : status.Processing
          ? 'processing'
          : 'active';
  return {
    name: status.DomainName ?? domainName,
    state,
    engineVersion: status.EngineVersion ?? 'unknown',
    // A domain in a VPC names its endpoint under Endpoints.vpc.
    endpoint: status.Endpoint ?? status.Endpoints?.vpc,
    instanceType: cluster.InstanceType ?? 'unknown',
    instanceCount: cluster.InstanceCount ?? 0,
    zones: cluster.ZoneAwarenessEnabled ? (cluster.ZoneAwarenessConfig?.AvailabilityZoneCount ?? 2) : 1,
    encryptedAtRest: status.EncryptionAtRestOptions?.Enabled === true,
    nodeToNodeEncryption: status.NodeToNodeEncryptionOptions?.Enabled === true,
    httpsOnly: status.DomainEndpointOptions?.EnforceHTTPS === true,
    tlsPolicy: status.DomainEndpointOptions?.TLSSecurityPolicy,
  };
}

const STATE_WORDS: Record<DomainState['state'], string> = {
  creating: 'being created (about 15 to 30 minutes)',
  processing: 'applying a configuration change (searches and writes keep working)',
  upgrading: 'upgrading its engine',
  deleting: 'being deleted',
  active: 'active',
};

/** The domain's state in lines; `documents` when its index answered, or why it did not. */
export function describeDomain(
  state: DomainState,
  index: { documents: number } | { unreachable: string },
): string[] {
  return [
    `domain ${state.name}: ${STATE_WORDS[state.state]}`,
    `  engine: ${state.engineVersion}`,
    `  endpoint: ${state.endpoint ? (state.endpoint.includes('://') ? state.endpoint : `https://${state.endpoint}`) : 'none yet'}`,
    `  instances: ${state.instanceCount} × ${state.instanceType}, ${state.zones === 1 ? 'one zone' : `${state.zones} zones`}`,
    `  encryption: at rest ${state.encryptedAtRest ? 'on' : 'OFF'}, node-to-node ${state.nodeToNodeEncryption ? 'on' : 'OFF'}, ` +
      `${state.httpsOnly ? 'HTTPS only' : 'HTTP ALLOWED'}${state.tlsPolicy ? ` (${state.tlsPolicy})` : ''}`,
    'documents' in index
      ? `  index: ${index.documents} documents`
      : `  index: not reachable from here (${index.unreachable})`,
  ];
}

export interface SearchStatusOptions {
  domain?: string;
  region?: string;
  endpoint?: string;
  'projects-table'?: string;
  'items-table'?: string;
  'search-table'?: string;
}

export interface SearchStatusContext {
  print(line: string): void;
  local: LocalStackDescription | undefined;
}

/** Runs `search status`; returns the exit code. */
export async function runSearchStatus(
  values: SearchStatusOptions,
  context: SearchStatusContext,
): Promise<number> {
  if (values.domain) {
    const region = values.region ?? process.env.AWS_REGION;
    if (!region)
      throw new UsageError('--domain needs --region (or AWS_REGION): a domain lives in one region');
    const [{ OpenSearchClient }, { OpenSearchIndex, openSearchClient }] = await Promise.all([
      import('@aws-sdk/client-opensearch'),
      import('#shared/search/opensearch/engine'),
    ]);
    const state = await describeDomainState(new OpenSearchClient({ region }), values.domain);
    const index = state.endpoint
      ? await new OpenSearchIndex(openSearchClient(state.endpoint, region))
          .countAllDocuments()
          .then((documents) => ({ documents }))
          .catch((error: unknown) => ({
            unreachable: error instanceof Error ? error.message : String(error),
          }))
      : { unreachable: 'the domain has no endpoint yet' };
    for (const line of describeDomain(state, index)) context.print(line);
    return 0;
  }

  const local = values['projects-table'] ? undefined : context.local;
  const projectsTable = values['projects-table'] ?? local?.tables.projects;
  const itemsTable = values['items-table'] ?? local?.tables.items;
  const searchTable = values['search-table'] ?? local?.tables.search;
  if (!projectsTable || !itemsTable || !searchTable) {
    throw new UsageError(
      'no tables: start the local stack (npm start), or pass --projects-table, --items-table and --search-table (or --domain for OpenSearch)',
    );
  }
  const [
    { DynamoDBClient },
    { createDocumentClient },
    { DynamoDBProjectRepository },
    { DynamoDBSearchIndex },
    { countItemsByProject },
  ] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('#shared/aws/clients'),
    import('#shared/store/projects'),
    import('#shared/store/search-index'),
    import('#shared/store/items'),
  ]);
  const endpoint = values.endpoint ?? local?.endpoints.dynamodb;
  const documents = createDocumentClient(
    new DynamoDBClient({
      region: values.region ?? process.env.AWS_REGION ?? local?.region ?? 'us-east-1',
      ...(endpoint ? { endpoint } : {}),
      ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    }),
  );
  const projects = await new DynamoDBProjectRepository(documents, projectsTable).listProjects();
  const statuses = await projectIndexStatuses(
    projects,
    await countItemsByProject(documents, itemsTable),
    new DynamoDBSearchIndex(documents, searchTable),
  );
  context.print(`search engine: dynamodb (table ${searchTable})`);
  for (const line of describeProjectStatuses(statuses)) context.print(line);
  return 0;
}
