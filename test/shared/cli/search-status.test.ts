// `faultline search status`: the DynamoDB index against DynamoDB Local, and an OpenSearch domain's
// state from a local server playing the OpenSearch Service control plane (DescribeDomain).
import { OpenSearchClient } from '@aws-sdk/client-opensearch';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { UsageError } from '#shared/cli/errors';
import {
  type DomainState,
  describeDomain,
  describeDomainState,
  describeProjectStatuses,
  runSearchStatus,
  SearchDomainNotFoundError,
} from '#shared/cli/search-status';
import { emptyFacets, type SearchDocument } from '#shared/search/document';
import { itemKeys } from '#shared/store/keys';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { credentials, type Dynamo, region, startDynamoWithTables } from '../../support/emulators';
import { startFakeOpenSearch } from '../../support/opensearch-server';
import { startVendorServer, type VendorServer } from '../../support/vendors/vendor-server';

describe('what the status says of each project', () => {
  it.each([
    [{ items: 3, documents: 3 }, 'project 1 shop: 3 items, 3 in the index: in step'],
    [
      { items: 5, documents: 2 },
      'project 1 shop: 5 items, 2 in the index: 3 behind: run faultline search reindex --project shop',
    ],
    [{ items: 0, documents: 0 }, 'project 1 shop: 0 items, 0 in the index: in step'],
    [{ items: 2, documents: 4 }, 'project 1 shop: 2 items, 4 in the index: 2 more in the index than items'],
  ])('%o', (counts, line) => {
    expect(describeProjectStatuses([{ project_id: 1, name: 'shop', ...counts }])).toEqual([line]);
  });

  it('says there are no projects yet', () => {
    expect(describeProjectStatuses([])).toEqual(['no projects yet']);
  });
});

describe('the DynamoDB index of the local stack', () => {
  let dynamo: Dynamo & { tableNames: Record<string, string> };

  beforeAll(async () => {
    dynamo = await startDynamoWithTables('status');
  });
  afterAll(async () => {
    await dynamo?.stop();
  });

  const document = (projectId: number, itemId: number): SearchDocument => ({
    project_id: projectId,
    item_id: itemId,
    counter: itemId,
    title: 'error',
    tokens: ['error'],
    level: 'error',
    status: 'active',
    environment: 'production',
    framework: null,
    fingerprint: 'f',
    code_version: null,
    first_seen: 1,
    last_seen: 1,
  });

  it('counts each project’s items and documents, and says which project is behind and what to run', async () => {
    const documents = createDocumentClient(dynamo.client);
    const projects = new DynamoDBProjectRepository(documents, dynamo.tableNames.projects!);
    const shop = await projects.createProject({ name: 'shop', groupingVersion: 2, now: 1 });
    const blog = await projects.createProject({ name: 'blog', groupingVersion: 2, now: 1 });
    const items = [
      [shop.projectId, 1001, 1],
      [shop.projectId, 1002, 2],
      [blog.projectId, 2001, 1],
      [blog.projectId, 2002, 2],
      [blog.projectId, 2003, 3],
    ] as const;
    for (const [projectId, itemId, counter] of items) {
      await documents.send(
        new PutCommand({
          TableName: dynamo.tableNames.items,
          Item: { ...itemKeys.item(itemId), entity: 'item', id: itemId, project_id: projectId, counter },
        }),
      );
    }
    // Neither an item not numbered yet nor a deploy is an item the index should hold.
    await documents.send(
      new PutCommand({
        TableName: dynamo.tableNames.items,
        Item: { ...itemKeys.item(1003), entity: 'item', id: 1003, project_id: shop.projectId },
      }),
    );
    await documents.send(
      new PutCommand({
        TableName: dynamo.tableNames.items,
        Item: { ...itemKeys.deploy(shop.projectId, 1), entity: 'deploy', project_id: shop.projectId },
      }),
    );
    const index = new DynamoDBSearchIndex(documents, dynamo.tableNames.search!);
    await index.putDocuments([
      document(shop.projectId, 1001),
      document(shop.projectId, 1002),
      document(blog.projectId, 2001),
    ]);
    // Facets alone are not documents.
    await index.putFacets(blog.projectId, [
      { item_id: 2002, facets: { ...emptyFacets(), hosts: ['web-1'] } },
    ]);

    const printed: string[] = [];
    const code = await runSearchStatus(
      {},
      {
        print: (line) => printed.push(line),
        local: {
          url: 'http://localhost:3000',
          region,
          endpoints: { dynamodb: dynamo.endpoint, sqs: 'http://localhost:1' },
          tables: dynamo.tableNames,
        },
      },
    );
    expect(code).toBe(0);
    expect(printed).toEqual([
      `search engine: dynamodb (table ${dynamo.tableNames.search})`,
      `project ${shop.projectId} shop: 2 items, 2 in the index: in step`,
      `project ${blog.projectId} blog: 3 items, 1 in the index: 2 behind: run faultline search reindex --project blog`,
    ]);
  });

  it('asks for the tables when no local stack runs and none are given', async () => {
    await expect(runSearchStatus({}, { print: () => {}, local: undefined })).rejects.toBeInstanceOf(
      UsageError,
    );
  });
});

/** A domain as DescribeDomain answers it (the fields the status reads), in the API's names. */
function domainStatus(overrides: Record<string, unknown> = {}) {
  return {
    DomainId: '123456789012/faultline-search',
    DomainName: 'faultline-search',
    ARN: 'arn:aws:es:eu-west-1:123456789012:domain/faultline-search',
    Created: true,
    Deleted: false,
    Processing: false,
    UpgradeProcessing: false,
    Endpoint: 'search-faultline-search-abc123.eu-west-1.es.amazonaws.com',
    EngineVersion: 'OpenSearch_2.19',
    ClusterConfig: {
      InstanceType: 't3.small.search',
      InstanceCount: 1,
      DedicatedMasterEnabled: false,
      ZoneAwarenessEnabled: false,
    },
    EBSOptions: { EBSEnabled: true, VolumeType: 'gp3', VolumeSize: 10 },
    EncryptionAtRestOptions: { Enabled: true, KmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/x' },
    NodeToNodeEncryptionOptions: { Enabled: true },
    DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: 'Policy-Min-TLS-1-2-2019-07' },
    ...overrides,
  };
}

/** The OpenSearch Service control plane: DescribeDomain, SigV4-signed for `es`, as the API reference documents it. */
async function startControlPlane(domains: Record<string, unknown>): Promise<VendorServer> {
  const notFound = (name: string) => ({
    status: 409,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' },
    body: JSON.stringify({ message: `Domain not found: ${name}` }),
  });
  return startVendorServer({
    check: (request) => {
      if (
        !/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/eu-west-1\/es\/aws4_request, /.test(
          request.headers.authorization ?? '',
        )
      ) {
        return {
          status: 403,
          headers: { 'x-amzn-errortype': 'UnrecognizedClientException' },
          body: '{"message":"unsigned"}',
        };
      }
      const match = /^\/2021-01-01\/opensearch\/domain\/([^/]+)$/.exec(request.path);
      if (request.method !== 'GET' || !match) return { status: 404, body: '{"message":"no such route"}' };
      return domains[match[1]!] ? undefined : notFound(match[1]!);
    },
    success: (request) => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ DomainStatus: domains[request.path.split('/').pop()!] }),
    }),
  });
}

describe('an OpenSearch domain (--domain)', () => {
  let control: VendorServer | undefined;
  afterEach(async () => {
    vi.unstubAllEnvs();
    await control?.stop();
    control = undefined;
  });

  const client = (endpoint: string) => new OpenSearchClient({ region: 'eu-west-1', endpoint, credentials });

  it.each([
    ['active', {}],
    ['creating', { Created: false, Endpoint: undefined }],
    ['processing', { Processing: true }],
    ['upgrading', { Processing: true, UpgradeProcessing: true }],
    ['deleting', { Deleted: true }],
  ] as const)('reads a domain that is %s', async (state, overrides) => {
    control = await startControlPlane({ 'faultline-search': domainStatus(overrides) });
    const described = await describeDomainState(client(control.origin), 'faultline-search');
    expect(described.state).toBe(state);
    expect(control.accepted().map((request) => request.path)).toEqual([
      '/2021-01-01/opensearch/domain/faultline-search',
    ]);
  });

  it('reads its version, endpoint, instances, zones and encryption', async () => {
    control = await startControlPlane({
      'faultline-search': domainStatus({
        ClusterConfig: {
          InstanceType: 'm7g.large.search',
          InstanceCount: 2,
          ZoneAwarenessEnabled: true,
          ZoneAwarenessConfig: { AvailabilityZoneCount: 2 },
        },
      }),
    });
    expect(await describeDomainState(client(control.origin), 'faultline-search')).toEqual({
      name: 'faultline-search',
      state: 'active',
      engineVersion: 'OpenSearch_2.19',
      endpoint: 'search-faultline-search-abc123.eu-west-1.es.amazonaws.com',
      instanceType: 'm7g.large.search',
      instanceCount: 2,
      zones: 2,
      encryptedAtRest: true,
      nodeToNodeEncryption: true,
      httpsOnly: true,
      tlsPolicy: 'Policy-Min-TLS-1-2-2019-07',
    } satisfies DomainState);
  });

  it('says plainly that a domain of that name does not exist', async () => {
    control = await startControlPlane({});
    await expect(describeDomainState(client(control.origin), 'nope')).rejects.toThrow(
      SearchDomainNotFoundError,
    );
    await expect(describeDomainState(client(control.origin), 'nope')).rejects.toThrow(
      'no OpenSearch domain named nope in this region',
    );
  });

  it('shows the state in lines, with the index’s documents or why they could not be counted', () => {
    const state: DomainState = {
      name: 'faultline-search',
      state: 'active',
      engineVersion: 'OpenSearch_2.19',
      endpoint: 'search-x.eu-west-1.es.amazonaws.com',
      instanceType: 't3.small.search',
      instanceCount: 1,
      zones: 1,
      encryptedAtRest: true,
      nodeToNodeEncryption: true,
      httpsOnly: true,
      tlsPolicy: 'Policy-Min-TLS-1-2-2019-07',
    };
    expect(describeDomain(state, { documents: 1234 })).toEqual([
      'domain faultline-search: active',
      '  engine: OpenSearch_2.19',
      '  endpoint: https://search-x.eu-west-1.es.amazonaws.com',
      '  instances: 1 × t3.small.search, one zone',
      '  encryption: at rest on, node-to-node on, HTTPS only (Policy-Min-TLS-1-2-2019-07)',
      '  index: 1234 documents',
    ]);
    expect(
      describeDomain({ ...state, encryptedAtRest: false, zones: 2 }, { unreachable: 'timeout' }).slice(3),
    ).toEqual([
      '  instances: 1 × t3.small.search, 2 zones',
      '  encryption: at rest OFF, node-to-node on, HTTPS only (Policy-Min-TLS-1-2-2019-07)',
      '  index: not reachable from here (timeout)',
    ]);
  });

  it('runs end to end: DescribeDomain, then the index counted through the domain’s endpoint, signed', async () => {
    const cluster = await startFakeOpenSearch({ signedFor: { region: 'eu-west-1', accessKeyId: 'local' } });
    try {
      control = await startControlPlane({ 'faultline-search': domainStatus({ Endpoint: cluster.url }) });
      vi.stubEnv('AWS_ENDPOINT_URL_OPENSEARCH', control.origin);
      vi.stubEnv('AWS_ACCESS_KEY_ID', credentials.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey);
      const printed: string[] = [];
      const code = await runSearchStatus(
        { domain: 'faultline-search', region: 'eu-west-1' },
        { print: (line) => printed.push(line), local: undefined },
      );
      expect(code).toBe(0);
      expect(printed[0]).toBe('domain faultline-search: active');
      // No document written yet: the index does not exist, which counts as empty.
      expect(printed.at(-1)).toBe('  index: 0 documents');
      expect(cluster.requests.map((request) => `${request.status} ${request.path}`)).toEqual([
        '404 /faultline-items/_count',
      ]);
    } finally {
      await cluster.stop();
    }
  });

  it('needs a region for a domain', async () => {
    vi.stubEnv('AWS_REGION', '');
    await expect(
      runSearchStatus({ domain: 'faultline-search' }, { print: () => {}, local: undefined }),
    ).rejects.toThrow(/--region/);
  });
});
