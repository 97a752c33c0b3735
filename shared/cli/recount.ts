// `faultline recount`: counts stored occurrences their items' counts miss (shared/recount/recount.ts),
// over a window of receipt times, with a progress bar; refuses a window the fold may still be counting.
import { readFile } from 'node:fs/promises';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createProjectService } from '#shared/projects/service';
import {
  RECOUNT_MAX_DAYS,
  type RecountProgress,
  type RecountReport,
  type RecountWindow,
  recount,
  STREAM_RETENTION_MS,
} from '#shared/recount/recount';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { UsageError } from './errors';
import { LOCAL_STACK_FILE, type LocalStackDescription } from './local-stack-file';
import { type ProgressStream, progressBar } from './progress';

export const RECOUNT_USAGE =
  '  faultline recount --since <time> [--until <time>] [--project <id | name>] [--yes]';

export const RECOUNT_HELP = `Recount (faultline recount; by default the running local stack's tables):
  --since <time>            occurrences received from then: an ISO 8601 time (2026-11-30T08:00Z) or an
                            age (90m, 36h, 3d); at most ${RECOUNT_MAX_DAYS} days ago (hourly counts are kept 35)
  --until <time>            received before then (default: 24 hours ago, which the fold can no longer
                            count); 'now' or a time after 24 hours ago needs --yes
  --project <id | name>     only this project's occurrences
  --yes                     recount occurrences younger than 24 hours: only when the fold is known not to
                            count them (after a promotion, or a fold whose event source was re-created at
                            LATEST); otherwise both would count them
  --items-table, --occurrences-table <name>
                            a deployed stack's tables (with --projects-table and --region)`;

export interface RecountTables {
  projects: string;
  items: string;
  occurrences: string;
}

export interface RecountCommandOptions {
  since?: string;
  until?: string;
  project?: string;
  yes?: boolean;
}

/** What the command prints when it is done. */
export interface RecountSummary {
  since: string;
  until: string;
  project_id: number | null;
  rows_scanned: number;
  occurrences: number;
  missing: number;
  recounted: number;
  environment_counts_repaired: number;
  counted_beyond_stored: number;
}

const AGE = /^(\d+)([mhd])$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `now`, an age (`36h`: that long ago) or an ISO 8601 time with a zone or in UTC. */
export function parseTime(flag: string, value: string, now: number): Date {
  if (value === 'now') return new Date(now);
  const age = AGE.exec(value);
  if (age) return new Date(now - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS]);
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(
      `${flag} ${value} is not a time: give 2026-11-30T08:00Z, an age such as 36h, or now`,
    );
  }
  return new Date(time);
}

/** The window the flags ask for; a window the fold may still count without --yes is refused. */
export function recountWindowOf(
  options: RecountCommandOptions,
  now: number,
): Omit<RecountWindow, 'projectId'> {
  if (!options.since) throw new UsageError('--since is required (see faultline --help)');
  const since = parseTime('--since', options.since, now);
  const until = options.until
    ? parseTime('--until', options.until, now)
    : new Date(now - STREAM_RETENTION_MS);
  if (until.getTime() > now) throw new UsageError('--until is in the future');
  if (since.getTime() >= until.getTime()) {
    throw new UsageError(
      options.until
        ? '--since must be before --until'
        : '--since must be more than 24 hours ago: --until defaults to 24 hours ago (see faultline --help)',
    );
  }
  if (until.getTime() > now - STREAM_RETENTION_MS && !options.yes) {
    throw new UsageError(
      '--until is within the last 24 hours, where the fold may still count what the recount would count: pass --yes only when the fold cannot (after a promotion, or a fold event source re-created at LATEST)',
    );
  }
  if (since.getTime() < now - RECOUNT_MAX_DAYS * UNIT_MS.d) {
    throw new UsageError(
      `--since is more than ${RECOUNT_MAX_DAYS} days ago: hourly counts are kept 35 days, so older occurrences cannot be told counted or not`,
    );
  }
  return { since, until };
}

/** Recounts; the progress goes to `progress` (stderr), the summary is returned. */
export async function runRecount(
  deps: { documents: DynamoDBDocumentClient; tables: RecountTables; now?: () => number },
  options: RecountCommandOptions,
  progress: ProgressStream,
): Promise<RecountSummary> {
  const now = deps.now ?? Date.now;
  const window: RecountWindow = recountWindowOf(options, now());
  if (options.project !== undefined) window.projectId = await projectIdOf(deps, options.project);

  // The scan reads every row of the table: its item count (refreshed every few hours) sizes the bar.
  const { Table } = await deps.documents.send(
    new DescribeTableCommand({ TableName: deps.tables.occurrences }),
  );
  const scanBar = progressBar('scan', Table?.ItemCount ?? 0, progress, 'rows');
  let countBar: ReturnType<typeof progressBar> | undefined;
  let last: RecountProgress = { scanned: 0, occurrences: 0, missing: 0, recounted: 0 };
  scanBar.show(0);
  const report: RecountReport = await recount(deps, window, (each) => {
    last = each;
    // Counting starts once every item is compared: `missing` is whole by then.
    if (each.recounted === 0) scanBar.show(each.scanned);
    else {
      if (!countBar) {
        scanBar.end(each.scanned);
        countBar = progressBar('recount', each.missing, progress, 'occurrences');
      }
      countBar.show(each.recounted);
    }
  });
  if (countBar) countBar.end(report.recounted);
  else scanBar.end(last.scanned);
  return {
    since: report.since.toISOString(),
    until: report.until.toISOString(),
    project_id: window.projectId ?? null,
    rows_scanned: report.scanned,
    occurrences: report.occurrences,
    missing: report.missing,
    recounted: report.recounted,
    environment_counts_repaired: report.environmentCountsRepaired,
    counted_beyond_stored: report.countedBeyondStored,
  };
}

/** `--project 3` or `--project shop`. */
async function projectIdOf(
  deps: { documents: DynamoDBDocumentClient; tables: RecountTables },
  project: string,
): Promise<number> {
  if (/^\d+$/.test(project)) return Number(project);
  const service = createProjectService({
    projects: new DynamoDBProjectRepository(deps.documents, deps.tables.projects),
  });
  return (await service.projectNamed(project)).projectId;
}

/** `faultline recount` as the command line runs it: connects, runs, answers the summary. */
export async function recountCommand(
  values: RecountCommandOptions & {
    region?: string;
    endpoint?: string;
    'projects-table'?: string;
    'items-table'?: string;
    'occurrences-table'?: string;
  },
  progress: ProgressStream,
): Promise<RecountSummary> {
  // Refuse a bad window before reaching for AWS.
  recountWindowOf(values, Date.now());
  const flags = {
    projects: values['projects-table'],
    items: values['items-table'],
    occurrences: values['occurrences-table'],
  };
  const given = Object.values(flags).filter(Boolean).length;
  // All of a deployed stack's tables, or none: half taken from a local stack would mix two stacks.
  const local = given === 0 ? await readLocalStack() : undefined;
  const tables = {} as RecountTables;
  for (const name of Object.keys(flags) as Array<keyof RecountTables>) {
    const table = flags[name] ?? local?.tables[name];
    if (!table) {
      throw new UsageError(
        given === 0
          ? 'no occurrences table: start the local stack (npm start) or pass the tables (see faultline --help)'
          : `--${name}-table is needed with the other tables`,
      );
    }
    tables[name] = table;
  }
  const endpoint = values.endpoint ?? local?.endpoints.dynamodb;
  const [{ DynamoDBClient }, { createDocumentClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('#shared/aws/clients'),
  ]);
  const client = new DynamoDBClient({
    region: values.region ?? process.env.AWS_REGION ?? local?.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  try {
    return await runRecount({ documents: createDocumentClient(client), tables }, values, progress);
  } finally {
    client.destroy();
  }
}

async function readLocalStack(): Promise<LocalStackDescription | undefined> {
  try {
    return JSON.parse(await readFile(LOCAL_STACK_FILE, 'utf8')) as LocalStackDescription;
  } catch {
    return undefined;
  }
}
