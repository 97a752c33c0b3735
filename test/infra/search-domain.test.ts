// The OpenSearch domain of `-c search=opensearch`: what must always hold of it (encryption, TLS, who
// may reach it, which functions are told of it), and that the default stack has none.
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { RegionalStack, type RegionalStackProps } from '#infra/stacks/regional-stack';
import { OPENSEARCH_ENDPOINT_VAR, SEARCH_ENGINE_VAR } from '#shared/search/opensearch/domain';
import { ITEMS_INDEX } from '#shared/search/opensearch/template';
import type { FunctionName } from '#shared/wiring/topology';

const skipBundling = { 'aws:cdk:bundling-stacks': [] };

function synth(search?: RegionalStackProps['search']) {
  const app = new App({ context: skipBundling });
  const stack = new RegionalStack(app, 'Faultline-search', {
    env: { region: 'eu-west-1', account: '123456789012' },
    search,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

const { stack, template } = synth({ engine: 'opensearch' });
const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

function domainProperties(from: Template = template): Record<string, unknown> {
  const domains = Object.values(from.findResources('AWS::OpenSearchService::Domain'));
  expect(domains).toHaveLength(1);
  return domains[0]!.Properties;
}

function environmentOf(name: FunctionName, from: Template = template, of: RegionalStack = stack) {
  const id = of.getLogicalId(of.functions[name].node.defaultChild as CfnElement);
  return from.toJSON().Resources[id].Properties.Environment.Variables as Record<string, unknown>;
}

describe('the OpenSearch domain (-c search=opensearch)', () => {
  it('runs a current OpenSearch on one small node with 10 GB of gp3 by default', () => {
    const properties = domainProperties();
    expect(properties.EngineVersion).toMatch(/^OpenSearch_[2-9]\.\d+$/);
    expect(properties.ClusterConfig).toMatchObject({
      InstanceType: 't3.small.search',
      InstanceCount: 1,
      DedicatedMasterEnabled: false,
      ZoneAwarenessEnabled: false,
    });
    expect(properties.EBSOptions).toEqual({ EBSEnabled: true, VolumeSize: 10, VolumeType: 'gp3' });
  });

  it('encrypts at rest and between nodes, and takes HTTPS only, with TLS 1.2 at least', () => {
    const properties = domainProperties();
    expect(properties.EncryptionAtRestOptions).toMatchObject({ Enabled: true });
    expect(properties.NodeToNodeEncryptionOptions).toEqual({ Enabled: true });
    expect(properties.DomainEndpointOptions).toMatchObject({
      EnforceHTTPS: true,
      TLSSecurityPolicy: 'Policy-Min-TLS-1-2-2019-07',
    });
  });

  it('publishes its slow logs and application logs to CloudWatch, which it may write to', () => {
    const logs = domainProperties().LogPublishingOptions as Record<string, { Enabled: boolean }>;
    for (const kind of ['SEARCH_SLOW_LOGS', 'INDEX_SLOW_LOGS', 'ES_APPLICATION_LOGS']) {
      expect(logs[kind]?.Enabled).toBe(true);
    }
    const policies = Object.values(template.findResources('AWS::Logs::ResourcePolicy'));
    expect(policies).toHaveLength(1);
    expect(JSON.stringify(policies[0]!.Properties.PolicyDocument)).toContain('es.amazonaws.com');
    // Without the library's custom resource (a Lambda function of its own).
    expect(template.findResources('Custom::CloudwatchLogResourcePolicy')).toEqual({});
    expect(template.findResources('Custom::OpenSearchAccessPolicy')).toEqual({});
  });

  it('lets only the indexer write and only the read API read, by their roles, signed', () => {
    const policy = domainProperties().AccessPolicies as {
      Statement: Array<{ Effect: string; Principal: { AWS: unknown }; Action: string[]; Resource: unknown }>;
    };
    const roleArn = (name: FunctionName) => ({
      'Fn::GetAtt': [logicalId(stack.functions[name].role), 'Arn'],
    });
    expect(policy.Statement.map((statement) => statement.Principal)).toEqual([
      { AWS: roleArn('indexSearch') },
      { AWS: roleArn('readApi') },
    ]);
    expect(policy.Statement.every((statement) => statement.Effect === 'Allow')).toBe(true);
    const [writer, reader] = policy.Statement;
    expect(writer!.Action).toEqual(['es:ESHttpPost']);
    expect(reader!.Action).toEqual(['es:ESHttpPost']);
    expect(JSON.stringify(writer!.Resource)).toMatch(/:domain\/faultline-search\/\*"\]\]\}$/);
    expect(JSON.stringify(reader!.Resource)).toContain(`:domain/faultline-search/${ITEMS_INDEX}/*`);
    expect(JSON.stringify(policy)).not.toMatch(/"AWS":"\*"|"Principal":"\*"/);
  });

  it("admits an operator's role too when one is named, for reindex and status, and no one else", () => {
    const operator = 'arn:aws:iam::123456789012:role/search-operator';
    const withOperator = synth({ engine: 'opensearch', adminRoleArn: operator }).template;
    const policy = domainProperties(withOperator).AccessPolicies as {
      Statement: Array<{ Principal: { AWS: unknown }; Action: string[]; Resource: unknown }>;
    };
    expect(policy.Statement).toHaveLength(3);
    const admitted = policy.Statement[2]!;
    expect(admitted.Principal).toEqual({ AWS: operator });
    expect(admitted.Action).toEqual(['es:ESHttpPost']);
    expect(JSON.stringify(admitted.Resource)).toMatch(/:domain\/faultline-search\/\*"\]\]\}$/);
  });

  it('tells the indexer and the read API to search with it, and no other function', () => {
    const endpoint = { 'Fn::GetAtt': [logicalId(stack.searchDomain!.domain), 'DomainEndpoint'] };
    for (const name of Object.keys(stack.functions) as FunctionName[]) {
      const environment = environmentOf(name);
      if (name === 'indexSearch' || name === 'readApi') {
        expect(environment[SEARCH_ENGINE_VAR]).toBe('opensearch');
        expect(environment[OPENSEARCH_ENDPOINT_VAR]).toEqual(endpoint);
      } else {
        expect(environment[SEARCH_ENGINE_VAR]).toBeUndefined();
        expect(environment[OPENSEARCH_ENDPOINT_VAR]).toBeUndefined();
      }
    }
  });

  it('names the domain and its endpoint in the outputs, for `faultline search status --domain`', () => {
    template.hasOutput('SearchDomainName', { Value: { Ref: logicalId(stack.searchDomain!.domain) } });
    template.hasOutput('SearchDomainEndpoint', Match.anyValue());
  });

  it('spreads two nodes over two zones with zone awareness, and takes another instance type', () => {
    const zoned = synth({ engine: 'opensearch', zoneAwareness: true, instanceType: 'm7g.large.search' });
    expect(domainProperties(zoned.template).ClusterConfig).toMatchObject({
      InstanceType: 'm7g.large.search',
      InstanceCount: 2,
      ZoneAwarenessEnabled: true,
      ZoneAwarenessConfig: { AvailabilityZoneCount: 2 },
    });
    const four = synth({ engine: 'opensearch', zoneAwareness: true, nodes: 4 });
    expect(domainProperties(four.template).ClusterConfig).toMatchObject({ InstanceCount: 4 });
  });

  it('refuses an odd number of nodes over two zones, and no nodes at all', () => {
    expect(() => synth({ engine: 'opensearch', zoneAwareness: true, nodes: 3 })).toThrow(/must be even/);
    expect(() => synth({ engine: 'opensearch', nodes: 0 })).toThrow(/whole number/);
  });

  it.each([
    ['one zone', { engine: 'opensearch' }],
    ['two zones', { engine: 'opensearch', zoneAwareness: true }],
  ] as const)('leaves no cdk-nag finding unacknowledged (%s)', (_, search) => {
    const { app } = synth(search);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('the default stack (search on DynamoDB)', () => {
  it('has no OpenSearch domain and tells no function of one', () => {
    for (const search of [undefined, { engine: 'dynamodb' } as const]) {
      const plain = synth(search);
      expect(plain.template.findResources('AWS::OpenSearchService::Domain')).toEqual({});
      expect(plain.stack.searchDomain).toBeUndefined();
      for (const name of Object.keys(plain.stack.functions) as FunctionName[]) {
        expect(environmentOf(name, plain.template, plain.stack)[OPENSEARCH_ENDPOINT_VAR]).toBeUndefined();
      }
    }
  });
});
