// Several regions, declared once: which region plays which part, and the names the parts agree on.
// The CDK app, the local two-region simulation and the handlers all read this, so they cannot drift.
//
// The design (docs/regions.md):
// - Every region runs the ingest API and its own ingest queue; tokens are read from the projects
//   table, a Global Table with a replica in every region.
// - One region is home at a time: it stores, counts, fans out and indexes. A region that can take
//   over (a standby) runs the whole pipeline too, on Global Table replicas of the data tables, but
//   while it is not home its storing worker forwards instead of storing and its fan-out stays quiet.
// - An edge region runs only the ingest API, its queue, a forwarder and the health check.
// - Which region is home is a row of the projects table (`homeRowKey`), so every region reads it
//   from its own replica; `npx faultline region promote <region>` moves it.
// - A region's fold counts only the occurrences its own worker stored (`STORED_IN_ATTRIBUTE`):
//   what another region stored is that region's to count, or the reconciler's (`faultline recount`)
//   after a promotion.
// With one region (no `-c regions`), none of this exists: the stack is the single-region stack.

import type { TableName } from './tables';
import type { FunctionName } from './topology';

/** Which part a region plays. `single`: the only region, today's stack. */
export type RegionRole = 'single' | 'home' | 'standby' | 'edge';

export interface RegionPlan {
  /** Every region, home first, in the order given. */
  readonly regions: readonly string[];
  /** The region that owns the Global Tables and is home until a promotion. */
  readonly home: string;
  /** Regions that run the whole pipeline on replicas and can be promoted; the rest are edges. */
  readonly standbys: readonly string[];
}

/** The part `region` plays in `plan` (as deployed; the home row says which region is home now). */
export function roleOf(plan: RegionPlan, region: string): RegionRole {
  if (plan.regions.length === 1) return 'single';
  if (region === plan.home) return 'home';
  if (plan.standbys.includes(region)) return 'standby';
  return 'edge';
}

/** Regions that run the pipeline: home and standbys. Edges forward to whichever of these is home. */
export function pipelineRegions(plan: RegionPlan): string[] {
  return plan.regions.filter((region) => region === plan.home || plan.standbys.includes(region));
}

const REGION_NAME = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/**
 * Reads `-c regions=us-east-1,eu-west-1 -c home=us-east-1 -c standby=eu-west-1` (standby may list
 * several, comma-separated). Without `regions`, the plan is the one region given.
 */
export function parseRegionPlan(input: {
  regions?: string;
  home?: string;
  standby?: string;
  defaultRegion: string;
}): RegionPlan {
  const list = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((region) => region.trim())
      .filter(Boolean);
  const regions = list(input.regions);
  if (regions.length === 0)
    return { regions: [input.defaultRegion], home: input.defaultRegion, standbys: [] };
  for (const region of regions) {
    if (!REGION_NAME.test(region)) throw new Error(`-c regions: ${region} is not an AWS region name`);
  }
  if (new Set(regions).size !== regions.length) throw new Error('-c regions names a region twice');
  const home = input.home?.trim() || regions[0]!;
  if (!regions.includes(home)) throw new Error(`-c home=${home} is not one of -c regions`);
  const standbys = list(input.standby);
  for (const standby of standbys) {
    if (!regions.includes(standby)) throw new Error(`-c standby=${standby} is not one of -c regions`);
    if (standby === home) throw new Error(`-c standby=${standby} is the home region`);
  }
  return { regions: [home, ...regions.filter((region) => region !== home)], home, standbys };
}

/** Environment variables of the multi-region parts; absent in a single-region stack. */
export const regionEnvironment = {
  /** This function's region as the plan names it (also AWS_REGION in Lambda; explicit for the local simulation). */
  self: 'FAULTLINE_REGION',
  /** JSON object: pipeline region → URL of its ingest queue, where a forwarder sends when that region is home. */
  pipelineQueues: 'FAULTLINE_PIPELINE_QUEUES',
  /** The region that is home when the home row has never been written (the plan's home). */
  initialHome: 'FAULTLINE_INITIAL_HOME',
} as const;

/** The projects-table row naming the region that is home now: `{ region, epoch, promoted_at }`. */
export const homeRowKey = { PK: 'REGIONS', SK: 'HOME' } as const;

/** Attribute of an occurrence row: the region whose storing worker wrote it (absent: single region). */
export const STORED_IN_ATTRIBUTE = 'stored_in';

/** How long a function trusts the home row it read before reading it again. */
export const HOME_CACHE_SECONDS = 10;

/**
 * The ingest queue's name in every region: fixed, so a forwarder in one region can name the queue of
 * another before either exists (a queue URL is `https://sqs.<region>.amazonaws.com/<account>/<name>`).
 */
export function ingestQueueName(stackPrefix: string): string {
  return `${stackPrefix}-ingest`;
}

/**
 * A table's name in a multi-region plan: fixed and the same in every region, because a Global Table's
 * replicas share their table's name and a region's stack names its replica before reading anything.
 * The one-region stack keeps the names CloudFormation generates.
 */
export function regionTableName(stackPrefix: string, table: TableName): string {
  return `${stackPrefix}-${table}`;
}

/**
 * The regions, besides home, where `table` has a Global Table replica: the projects table (tokens, the
 * home row) in every region, the pipeline's data tables in the standbys, which may become home. The
 * search table is regional: each pipeline region indexes its own items replica.
 */
/**
 * Tables every region keeps to itself, never replicated: the search index (each pipeline region indexes
 * its own items replica) and the rate limits' counters (counters added in several regions would
 * conflict under last-writer-wins, and replicated writes cost more: each region limits on its own).
 */
export function isRegionalTable(table: TableName): boolean {
  return table === 'search' || table === 'rateLimits';
}

export function replicaRegions(plan: RegionPlan, table: TableName): string[] {
  if (plan.regions.length === 1 || isRegionalTable(table)) return [];
  if (table === 'projects') return plan.regions.filter((region) => region !== plan.home);
  return [...plan.standbys];
}

/**
 * The functions that read the `regionEnvironment` variables in each part (shared/regions/settings.ts):
 * an edge's forwarder; a pipeline region's storing worker (home or not, forward or hold), fold (counts
 * only what its region stored) and fan-out (quiet while not home). None in a one-region stack. An
 * edge's deploy ingest reads none: it only queues, and the forwarder decides where to.
 */
export function regionVariableReaders(role: RegionRole): FunctionName[] {
  if (role === 'single') return [];
  if (role === 'edge') return ['forwardOccurrences'];
  return ['storeOccurrences', 'foldOccurrences', 'fanOutNotifications'];
}

/**
 * Of those, the ones that read the home row (shared/regions/home.ts) from the projects table: the fold
 * needs only its own region's name.
 */
export function homeRowReaders(role: RegionRole): FunctionName[] {
  return regionVariableReaders(role).filter((name) => name !== 'foldOccurrences');
}

/**
 * The functions each part deploys. An edge has no items table: deploys posted to it travel through
 * its queue like items and are recorded at home. Every other part runs every function but the
 * forwarder (a pipeline region's storing worker forwards by itself while it is not home).
 */
export const edgeFunctions = [
  'ingestItem',
  'ingestDeploy',
  'health',
  'forwardOccurrences',
] as const satisfies readonly FunctionName[];

export function functionsFor(role: RegionRole, all: readonly FunctionName[]): FunctionName[] {
  if (role === 'edge') return [...edgeFunctions];
  return all.filter((name) => name !== 'forwardOccurrences');
}
