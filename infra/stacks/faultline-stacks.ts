// The stacks of a deployment: one region's stack, or, with several regions, a home (the whole pipeline;
// it owns the Global Tables), a standby per `-c standby=` and an edge per other region (docs/regions.md).
import type { App } from 'aws-cdk-lib';
import { type RegionPlan, roleOf } from '#shared/wiring/regions';
import { EdgeStack } from './edge-stack';
import type { DomainOptions } from './regional-domain';
import { RegionalStack, type RegionalStackProps } from './regional-stack';

/** Every stack is `<prefix>-<region>`; in a multi-region plan, tables and ingest queues start with it too. */
export const stackPrefix = 'Faultline';

export interface FaultlineStacksOptions {
  readonly plan: RegionPlan;
  /** Without one, the stacks stay environment-agnostic about the account, which lets synth run offline. */
  readonly account?: string;
  readonly alarmEmail?: string;
  readonly search?: RegionalStackProps['search'];
  readonly domain?: DomainOptions;
  /** The X-Ray sampling rule of every stack (`-c traceReservoir`, `-c traceRate`). */
  readonly traceSampling?: RegionalStackProps['traceSampling'];
}

export interface FaultlineStacks {
  /** The only region's stack, or the home's. */
  readonly home: RegionalStack;
  readonly standbys: RegionalStack[];
  readonly edges: EdgeStack[];
}

export function createFaultlineStacks(app: App, options: FaultlineStacksOptions): FaultlineStacks {
  const { plan, account, alarmEmail, search, domain, traceSampling } = options;
  if (plan.regions.length === 1) {
    const home = new RegionalStack(app, `${stackPrefix}-${plan.home}`, {
      env: { region: plan.home, account },
      description: `Faultline error tracker in ${plan.home}`,
      alarmEmail,
      search,
      domain,
      traceSampling,
    });
    return { home, standbys: [], edges: [] };
  }
  const regions = { plan, prefix: stackPrefix };
  const home = new RegionalStack(app, `${stackPrefix}-${plan.home}`, {
    env: { region: plan.home, account },
    description: `Faultline error tracker in ${plan.home}: home (the whole pipeline; owns the Global Tables)`,
    alarmEmail,
    search,
    domain,
    regions,
    traceSampling,
  });
  const stacks: FaultlineStacks = { home, standbys: [], edges: [] };
  for (const region of plan.regions.filter((name) => name !== plan.home)) {
    const env = { region, account };
    if (roleOf(plan, region) === 'standby') {
      const standby = new RegionalStack(app, `${stackPrefix}-${region}`, {
        env,
        description: `Faultline error tracker in ${region}: standby (the whole pipeline on replicas)`,
        alarmEmail,
        search,
        domain,
        regions,
        traceSampling,
      });
      stacks.standbys.push(standby);
    } else {
      const edge = new EdgeStack(app, `${stackPrefix}-${region}`, {
        env,
        description: `Faultline error tracker in ${region}: edge (ingest, forwarded to home)`,
        alarmEmail,
        domain,
        regions,
        traceSampling,
      });
      stacks.edges.push(edge);
    }
  }
  // The others' replicas exist once the home stack has made its Global Tables.
  for (const other of [...stacks.standbys, ...stacks.edges]) other.addStackDependency(home);
  return stacks;
}
