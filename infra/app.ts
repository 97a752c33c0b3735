// The CDK app: one Faultline stack per region, checked by cdk-nag's AWS Solutions rules. One region
// (no `-c regions`) is the single stack; several are a home, standbys and edges (docs/regions.md).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseRegionPlan } from '#shared/wiring/regions';
import { createFaultlineStacks } from './stacks/faultline-stacks';
import { parseDomain } from './stacks/regional-domain';
import type { RegionalStackProps } from './stacks/regional-stack';

const app = new App();

// Context wins over the environment so `cdk synth -c region=eu-west-1` targets a region explicitly.
const region =
  (app.node.tryGetContext('region') as string | undefined) ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1';
// Without an account the stack stays environment-agnostic, which is what lets synth run offline.
const account = (app.node.tryGetContext('account') as string | undefined) ?? process.env.CDK_DEFAULT_ACCOUNT;
const alarmEmail = app.node.tryGetContext('alarmEmail') as string | undefined;

/** `-c search=opensearch` (default `dynamodb`) with `-c searchInstanceType=…`, `-c searchNodes=…`, `-c searchZoneAwareness=true`,
 * `-c searchAdminRoleArn=…` (an operator's role the domain also admits, for reindex and status). */
function searchFromContext(): RegionalStackProps['search'] {
  const context = (key: string) => app.node.tryGetContext(key) as string | number | boolean | undefined;
  const engine = String(context('search') ?? 'dynamodb');
  if (engine === 'dynamodb') return { engine };
  if (engine !== 'opensearch') throw new Error(`-c search is dynamodb or opensearch, not ${engine}`);
  const nodes = context('searchNodes');
  const zoneAwareness = context('searchZoneAwareness');
  return {
    engine,
    domainName: context('searchDomainName') as string | undefined,
    instanceType: context('searchInstanceType') as string | undefined,
    nodes: nodes === undefined ? undefined : Number(nodes),
    zoneAwareness: zoneAwareness === undefined ? undefined : String(zoneAwareness) === 'true',
    adminRoleArn: context('searchAdminRoleArn') as string | undefined,
  };
}

/** `-c traceReservoir=0 -c traceRate=0.01`: traces recorded each second, then the share of the rest. */
function traceSamplingFromContext(): RegionalStackProps['traceSampling'] {
  const reservoir = app.node.tryGetContext('traceReservoir') as string | number | undefined;
  const rate = app.node.tryGetContext('traceRate') as string | number | undefined;
  return {
    reservoir: reservoir === undefined ? undefined : Number(reservoir),
    rate: rate === undefined ? undefined : Number(rate),
  };
}

createFaultlineStacks(app, {
  plan: parseRegionPlan({
    regions: app.node.tryGetContext('regions') as string | undefined,
    home: app.node.tryGetContext('home') as string | undefined,
    standby: app.node.tryGetContext('standby') as string | undefined,
    defaultRegion: region,
  }),
  account,
  alarmEmail,
  search: searchFromContext(),
  domain: parseDomain({
    domain: app.node.tryGetContext('domain') as string | undefined,
    hostedZoneId: app.node.tryGetContext('hostedZoneId') as string | undefined,
    hostedZoneName: app.node.tryGetContext('hostedZoneName') as string | undefined,
  }),
  traceSampling: traceSamplingFromContext(),
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
