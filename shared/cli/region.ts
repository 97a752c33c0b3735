// `faultline region status` and `faultline region promote <region>`: which region is home, and moving
// processing, notifications and search to a standby after a long outage of the home region.
//
// A promotion is three steps (docs/regions.md has the runbook):
//  1. the home row → { region: target, epoch + 1, state: promoting }, on condition of the epoch read:
//     edges and the old home (if it comes back) forward to the target; the target's worker holds;
//  2. after every function has read the row (its cache time, and replication's), the reconciler
//     counts what another region stored and its items' counts miss, over the window (`--since`);
//  3. the home row → active: the target stores and counts from then on.
// A promotion stopped after step 1 is finished by running the same command again.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RecountProgress, RecountReport, RecountWindow } from '#shared/recount/recount';
import { DynamoDBHomeStore, type Home, HomeChangedError, initialHome } from '#shared/regions/home';
import { HOME_CACHE_SECONDS, parseRegionPlan, type RegionPlan, roleOf } from '#shared/wiring/regions';
import { UsageError } from './errors';
import type { ProgressStream } from './progress';

export const REGION_USAGE = `  faultline region status [--regions <list> --home <region>]
  faultline region promote <region> [--since <time>] [--yes] [--regions <list> --home <region> --standby <list>]`;

export const REGION_HELP = `Regions (several regions, see docs/regions.md):
  region status             the home region now, its epoch, its state (active, or promoting) and since when
  region promote <region>   makes a standby region home: (1) the home row names it, promoting (edges
                            forward to it, its worker holds); (2) after ${HOME_CACHE_SECONDS} s and replication's
                            allowance, the reconciler counts what another region stored that its items'
                            counts miss; (3) the row says active: it stores and counts from then on.
                            Refused: a region not in the plan, an edge (no pipeline), the home itself.
                            Stopped after (1), the same command finishes it.
  --regions, --home, --standby   the plan as deployed with -c regions= -c home= -c standby= (default:
                            the context of ./cdk.json)
  --since <time>            the recount's window starts here: an ISO time or an age (36h, 7d;
                            default 24h), at most 34 days back
  --yes                     promote without asking
  --projects-table, --items-table, --occurrences-table, --region, --endpoint
                            the target region's tables (default: the local stack's); the AWS region
                            defaults to the region promoted`;

/** Seconds, beyond the home row's cache time, allowed for a Global Table write to reach every replica. */
export const REPLICATION_ALLOWANCE_SECONDS = 5;

/** The recount's default window: the stream's day. */
const DEFAULT_SINCE_MS = 24 * 3600 * 1000;

export interface RegionTables {
  projects: string;
  items: string;
  occurrences: string;
}

export interface RegionCommandDeps {
  connect(region: string | undefined): Promise<{ documents: DynamoDBDocumentClient; tables: RegionTables }>;
  recount(
    deps: { documents: DynamoDBDocumentClient; tables: RegionTables; now?: () => number },
    window: RecountWindow,
    onProgress?: (progress: RecountProgress) => void,
  ): Promise<RecountReport>;
  print(line: string): void;
  progress: ProgressStream;
  /** Asks the operator to type the region's name; false when it was not typed (or cannot be asked). */
  confirm(question: string, answer: string): Promise<boolean>;
  /** The plan's context from ./cdk.json, if any. */
  cdkContext(): Promise<{ regions?: string; home?: string; standby?: string }>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface RegionOptions {
  regions?: string;
  home?: string;
  standby?: string;
  since?: string;
  yes?: boolean;
}

async function planOf(values: RegionOptions, deps: RegionCommandDeps): Promise<RegionPlan | undefined> {
  const context = values.regions ? {} : await deps.cdkContext();
  const regions = values.regions ?? context.regions;
  if (!regions) return undefined;
  try {
    return parseRegionPlan({
      regions,
      home: values.home ?? context.home,
      standby: values.standby ?? context.standby,
      defaultRegion: regions.split(',')[0]!.trim(),
    });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/-c (\w+)/g, '--$1'), { cause: error });
  }
}

/** `--since`: an ISO time, or an age back from now (`90m`, `36h`, `7d`). */
export function parseSince(value: string | undefined, now: number): Date {
  if (value === undefined) return new Date(now - DEFAULT_SINCE_MS);
  const age = /^(\d+)([mhd])$/.exec(value.trim());
  if (age) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as 'm' | 'h' | 'd'];
    return new Date(now - Number(age[1]) * unit);
  }
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time)) {
    throw new UsageError(`--since ${value}: give an ISO time (2026-11-30T08:00Z) or an age (36h, 7d)`);
  }
  if (time > now) throw new UsageError(`--since ${value} is in the future`);
  return new Date(time);
}

function describeHome(home: Home, stored: boolean) {
  return {
    home: home.region,
    epoch: home.epoch,
    state: home.state,
    since: home.promotedAt === null ? null : new Date(home.promotedAt).toISOString(),
    ...(stored ? {} : { note: 'never promoted: the home deployed with -c home=' }),
  };
}

export async function runRegion(
  verb: string,
  args: string[],
  values: RegionOptions,
  deps: RegionCommandDeps,
): Promise<number> {
  const now = deps.now ?? Date.now;
  const plan = await planOf(values, deps);
  if (verb === 'status') {
    const { documents, tables } = await deps.connect(undefined);
    const row = await new DynamoDBHomeStore(documents, tables.projects).read({ consistent: true });
    if (!row && !plan) {
      deps.print(
        JSON.stringify({ home: null, note: 'never promoted: the home deployed with -c home=' }, null, 2),
      );
      return 0;
    }
    deps.print(JSON.stringify(describeHome(row ?? initialHome(plan!.home), row !== undefined), null, 2));
    return 0;
  }

  const target = args[0]!;
  if (!plan) {
    throw new UsageError(
      'name the plan as deployed: --regions <list> --home <region> --standby <list> (or their -c context in ./cdk.json)',
    );
  }
  if (!plan.regions.includes(target)) {
    throw new UsageError(`${target} is not one of the plan's regions (${plan.regions.join(', ')})`);
  }
  if (roleOf(plan, target) === 'edge') {
    throw new UsageError(
      `${target} is an edge region: it runs no pipeline to promote (standbys: ${plan.standbys.join(', ') || 'none'})`,
    );
  }
  const since = parseSince(values.since, now());

  // The target's replica: the old home may be unreachable, and the target is where counting resumes.
  const { documents, tables } = await deps.connect(target);
  const store = new DynamoDBHomeStore(documents, tables.projects);
  const row = await store.read({ consistent: true });
  const current = row ?? initialHome(plan.home);
  if (current.region === target && current.state === 'active') {
    throw new UsageError(`${target} is home already (epoch ${current.epoch})`);
  }
  const resuming = current.region === target && current.state === 'promoting';

  if (!values.yes) {
    const confirmed = await deps.confirm(
      `Promote ${target} (home now: ${current.region}, ${current.state})? Type the region's name to go on: `,
      target,
    );
    if (!confirmed) throw new UsageError('not promoted: pass --yes, or type the region’s name when asked');
  }

  let promoting: Home;
  if (resuming) {
    promoting = current;
    deps.print(
      `1/3 home row already names ${target}, promoting (epoch ${current.epoch}): finishing that promotion`,
    );
  } else {
    promoting = { region: target, epoch: current.epoch + 1, state: 'promoting', promotedAt: now() };
    await moved(() => store.write(promoting, row?.epoch));
    deps.print(
      `1/3 home row: ${target}, epoch ${promoting.epoch}, promoting (was ${current.region}); edges forward to ${target}, whose worker holds what it receives`,
    );
  }

  const waitSeconds = HOME_CACHE_SECONDS + REPLICATION_ALLOWANCE_SECONDS;
  deps.print(`    waiting ${waitSeconds} s for every function to read the new home row`);
  await (deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))(waitSeconds * 1000);

  deps.print(`2/3 recounting what another region stored since ${since.toISOString()}`);
  const report = await deps.recount(
    { documents, tables, now },
    { since, until: new Date(now()), storedElsewhereThan: target },
    (progress) => showProgress(deps.progress, progress, false),
  );
  showProgress(deps.progress, report, true);
  deps.print(
    `    ${report.occurrences} occurrences stored elsewhere in the window, ${report.missing} missing from their counts, ${report.recounted} recounted`,
  );

  await moved(() => store.write({ ...promoting, state: 'active' }, promoting.epoch));
  deps.print(
    `3/3 home row: ${target}, epoch ${promoting.epoch}, active: ${target} stores, counts and notifies`,
  );
  return 0;
}

/** A write of the home row that another promotion overtook: refused, nothing changed by this one. */
async function moved(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (error instanceof HomeChangedError) {
      throw new UsageError(
        'the home row changed since it was read (another promotion?): see faultline region status',
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

let lastLineAt = -1;

/** One progress line: redrawn in place on a terminal, else one per 10,000 rows scanned and at the end. */
function showProgress(out: ProgressStream, progress: RecountProgress, end: boolean): void {
  const line = `    scanned ${progress.scanned.toLocaleString('en-US')} rows: ${progress.occurrences.toLocaleString('en-US')} occurrences, ${progress.missing.toLocaleString('en-US')} missing, ${progress.recounted.toLocaleString('en-US')} recounted`;
  if (out.isTTY) {
    out.write(`\r${line}\x1b[K${end ? '\n' : ''}`);
    return;
  }
  const step = Math.floor(progress.scanned / 10_000);
  if (end || step !== lastLineAt) {
    lastLineAt = end ? -1 : step;
    out.write(`${line}\n`);
  }
}
