// The CDK app: one Faultline stack per region, checked by cdk-nag's AWS Solutions rules. One region
// (no `-c regions`) is the single stack; several are a home, standbys and edges (docs/regions.md).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseRegionPlan, roleOf } from '#shared/wiring/regions';
import { EdgeStack } from './stacks/edge-stack';
import type { DomainOptions } from './stacks/regional-domain';
import { RegionalStack, type RegionalStackProps } from './stacks/regional-stack';

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

/** `-c domain=errors.example.com -c hostedZoneId=Z… [-c hostedZoneName=example.com]`; none without a domain. */
function domainFromContext(): DomainOptions | undefined {
  const context = (key: string) => {
    const value = app.node.tryGetContext(key) as string | undefined;
    return value === undefined ? undefined : String(value).trim() || undefined;
  };
  const name = context('domain')?.replace(/\.$/, '').toLowerCase();
  const hostedZoneId = context('hostedZoneId');
  if (!name) {
    if (hostedZoneId) throw new Error('-c hostedZoneId needs -c domain');
    return undefined;
  }
  if (!hostedZoneId) throw new Error('-c domain needs -c hostedZoneId (the Route 53 zone its records go in)');
  if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(name))
    throw new Error(`-c domain=${name} is not a domain name`);
  // By default the zone is the domain's parent: errors.example.com is made in example.com.
  const hostedZoneName = (context('hostedZoneName') ?? name.slice(name.indexOf('.') + 1)).replace(/\.$/, '');
  if (name !== hostedZoneName && !name.endsWith(`.${hostedZoneName}`)) {
    throw new Error(`-c domain=${name} is not in the zone ${hostedZoneName}`);
  }
  return { name, hostedZoneId, hostedZoneName };
}

// Every stack, and every fixed name of a multi-region plan, starts with this.
const prefix = 'Faultline';
const plan = parseRegionPlan({
  regions: app.node.tryGetContext('regions') as string | undefined,
  home: app.node.tryGetContext('home') as string | undefined,
  standby: app.node.tryGetContext('standby') as string | undefined,
  defaultRegion: region,
});
const domain = domainFromContext();
const search = searchFromContext();

if (plan.regions.length === 1) {
  new RegionalStack(app, `${prefix}-${region}`, {
    env: { region, account },
    description: `Faultline error tracker in ${region}`,
    alarmEmail,
    search,
    domain,
  });
} else {
  // The home first: it owns the Global Tables the others' replicas belong to.
  const regions = { plan, prefix };
  const home = new RegionalStack(app, `${prefix}-${plan.home}`, {
    env: { region: plan.home, account },
    description: `Faultline error tracker in ${plan.home}: home (the whole pipeline; owns the Global Tables)`,
    alarmEmail,
    search,
    domain,
    regions,
  });
  for (const other of plan.regions.filter((name) => name !== plan.home)) {
    const role = roleOf(plan, other);
    const env = { region: other, account };
    const stack =
      role === 'standby'
        ? new RegionalStack(app, `${prefix}-${other}`, {
            env,
            description: `Faultline error tracker in ${other}: standby (the whole pipeline on replicas)`,
            alarmEmail,
            search,
            domain,
            regions,
          })
        : new EdgeStack(app, `${prefix}-${other}`, {
            env,
            description: `Faultline error tracker in ${other}: edge (ingest, forwarded to home)`,
            alarmEmail,
            domain,
            regions,
          });
    // Its replicas exist once the home stack has made them.
    stack.addStackDependency(home);
  }
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
