// `faultline search reindex`: rebuilds the search index from the items table, walked whole in one
// pass (every project's items, or the named project's), through the indexer's own path
// (`indexItems`), with a progress bar and a cursor a rerun resumes from. It reads the items table
// itself, never the index it rebuilds: a lost or emptied index comes back whole. Every write is an
// idempotent upsert, so it is safe at any time, beside the running indexer.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createProjectService } from '#shared/projects/service';
import type { SearchIndexWriter } from '#shared/search/engine';
import { type IndexReport, indexItems } from '#shared/search/indexer';
import { countItemsByProject, scanItems } from '#shared/store/items';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository, type Project } from '#shared/store/projects';
import { UsageError } from './errors';
import { LOCAL_STACK_FILE, type LocalStackDescription } from './local-stack-file';
import { type ProgressStream, progressBar } from './progress';

export const REINDEX_USAGE = '  faultline search reindex [--project <name>] [--restart]';

/** Where a run keeps its place, relative to the directory it runs in. */
export const REINDEX_CURSOR_FILE = join('.faultline', 'reindex-cursor.json');

export const REINDEX_HELP = `Search index (faultline search reindex; by default the running local stack's tables):
  --project <name>          only this project (default: every project)
  --restart                 start over, ignoring the cursor a stopped run left in ${REINDEX_CURSOR_FILE}
  --items-table, --occurrences-table, --search-table <name>
                            a deployed stack's tables (with --projects-table and --region)`;

/** Rows of the items table read and indexed at a time; the cursor is written after each page. */
export const REINDEX_PAGE_SIZE = 100;

export interface ReindexTables {
  projects: string;
  items: string;
  occurrences: string;
  search: string;
}

/** Where a stopped run was: after the last page it finished. */
export interface ReindexCursor {
  /** The search table it wrote: a cursor of another stack's run is not this run's. */
  search_table: string;
  /** The project it was limited to (`--project`), or null for every project. */
  only_project: string | null;
  /** The items table's key the walk goes on after (a Scan's LastEvaluatedKey). */
  after: { PK: string; SK: string };
  /** Items walked before it, for the progress bar. */
  done: number;
}

export interface ReindexOptions {
  project?: string;
  restart?: boolean;
  /** Default: `REINDEX_CURSOR_FILE` in the working directory. */
  cursorFile?: string;
  /** Default: `REINDEX_PAGE_SIZE`. */
  pageSize?: number;
}

export type { ProgressStream };

export interface ReindexSummary {
  projects: Array<{ project_id: number; name: string; items: number }>;
  items: number;
  documents_written: number;
  facets_written: number;
  occurrences_skipped: number;
  resumed: boolean;
}

/** `faultline search reindex` as the command line runs it: connects, runs, answers the summary. */
export async function reindexCommand(
  values: ReindexOptions & {
    region?: string;
    endpoint?: string;
    'projects-table'?: string;
    'items-table'?: string;
    'occurrences-table'?: string;
    'search-table'?: string;
  },
  progress: ProgressStream,
): Promise<ReindexSummary> {
  const { tables, local } = await reindexTables(values);
  const endpoint = values.endpoint ?? local?.endpoints.dynamodb;
  // The AWS SDK takes most of the start-up time: --help and usage errors do without it.
  const [{ DynamoDBClient }, { createDocumentClient }, { searchEngineFromEnv }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('#shared/aws/clients'),
    import('#shared/search/engines'),
  ]);
  const client = new DynamoDBClient({
    region: values.region ?? process.env.AWS_REGION ?? local?.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  try {
    const documents = createDocumentClient(client);
    // The engine the functions use (SEARCH_ENGINE), on the table given here.
    const engine = searchEngineFromEnv(documents, { ...process.env, SEARCH_TABLE: tables.search });
    return await runReindex({ documents, tables, engine }, values, progress);
  } finally {
    client.destroy();
  }
}

export interface ReindexDependencies {
  documents: DynamoDBDocumentClient;
  tables: ReindexTables;
  engine: SearchIndexWriter;
}

/** The tables from the flags, else from the running local stack; each missing one named. */
export async function reindexTables(values: {
  'projects-table'?: string;
  'items-table'?: string;
  'occurrences-table'?: string;
  'search-table'?: string;
}): Promise<{ tables: ReindexTables; local: LocalStackDescription | undefined }> {
  const flags = {
    projects: values['projects-table'],
    items: values['items-table'],
    occurrences: values['occurrences-table'],
    search: values['search-table'],
  };
  const given = Object.values(flags).filter(Boolean).length;
  // A deployed stack's tables are all named, or none: half of them taken from a local stack would
  // mix two stacks.
  const local = given === 0 ? await readLocalStack() : undefined;
  const tables = {} as ReindexTables;
  for (const name of Object.keys(flags) as Array<keyof ReindexTables>) {
    const table = flags[name] ?? local?.tables[name];
    if (!table) {
      throw new UsageError(
        given === 0
          ? 'no search table: start the local stack (npm start) or pass the tables (see faultline --help)'
          : `--${name}-table is needed with the other tables`,
      );
    }
    tables[name] = table;
  }
  return { tables, local };
}

async function readLocalStack(): Promise<LocalStackDescription | undefined> {
  try {
    return JSON.parse(await readFile(LOCAL_STACK_FILE, 'utf8')) as LocalStackDescription;
  } catch {
    return undefined;
  }
}

/** Reindexes every project (or the named one); the cursor is deleted once the run ends. */
export async function runReindex(
  deps: ReindexDependencies,
  options: ReindexOptions,
  progress: ProgressStream,
): Promise<ReindexSummary> {
  const cursorFile = options.cursorFile ?? REINDEX_CURSOR_FILE;
  const projectService = createProjectService({
    projects: new DynamoDBProjectRepository(deps.documents, deps.tables.projects),
  });
  const projects: Project[] = options.project
    ? [await projectService.projectNamed(options.project)]
    : (await projectService.listProjects()).sort((a, b) => a.projectId - b.projectId);
  const scope = { search_table: deps.tables.search, only_project: options.project ?? null };
  const cursor = options.restart ? undefined : await readCursor(cursorFile, scope, progress);

  const indexer = {
    engine: deps.engine,
    occurrences: new DynamoDBOccurrenceRepository(
      deps.documents,
      deps.tables.occurrences,
      new DynamoDBPayloadCodec(deps.documents, deps.tables.occurrences),
    ),
  };
  const summary: ReindexSummary = {
    projects: [],
    items: 0,
    documents_written: 0,
    facets_written: 0,
    occurrences_skipped: 0,
    resumed: cursor !== undefined,
  };
  const names = new Map(projects.map((project) => [project.projectId, project.name]));
  const only = options.project ? projects[0]?.projectId : undefined;
  // One walk of the whole table: its items come in the table's order, every project's mixed, so the
  // bar counts them all (a first walk, of the project ids alone, gives the total).
  const counts = await countItemsByProject(deps.documents, deps.tables.items, { projectId: only });
  const total = [...counts].reduce((sum, [projectId, count]) => sum + (names.has(projectId) ? count : 0), 0);
  const indexed = new Map<number, number>();
  let done = cursor?.done ?? 0;
  let after: Record<string, unknown> | undefined = cursor?.after;
  const bar = progressBar(options.project ?? 'every project', total, progress);
  bar.show(done);
  do {
    const page = await scanItems(deps.documents, deps.tables.items, {
      projectId: only,
      limit: options.pageSize ?? REINDEX_PAGE_SIZE,
      start: after,
    });
    // An item is listed once it has its number; items of a project no longer listed are left out.
    const found = page.items.filter((item) => item.counter !== null && names.has(item.project_id));
    const report: IndexReport = await indexItems(
      indexer,
      found.map((item) => ({
        item,
        writeDocument: true,
        occurrenceIds: item.last_occurrence_id ? [item.last_occurrence_id] : [],
      })),
    );
    summary.documents_written += report.documents;
    summary.facets_written += report.facets;
    summary.occurrences_skipped += report.occurrencesSkipped;
    for (const item of found) indexed.set(item.project_id, (indexed.get(item.project_id) ?? 0) + 1);
    done += found.length;
    after = page.next;
    if (after) {
      await writeCursor(cursorFile, {
        ...scope,
        after: { PK: String(after.PK), SK: String(after.SK) },
        done,
      });
    }
    bar.show(done);
  } while (after);
  bar.end(done);
  for (const project of projects) {
    const items = indexed.get(project.projectId) ?? 0;
    summary.projects.push({ project_id: project.projectId, name: project.name, items });
    summary.items += items;
  }
  await rm(cursorFile, { force: true });
  return summary;
}

/** The cursor a stopped run of the same scope left; another's is reported and ignored. */
async function readCursor(
  file: string,
  scope: Pick<ReindexCursor, 'search_table' | 'only_project'>,
  progress: ProgressStream,
): Promise<ReindexCursor | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const cursor = parseCursor(text);
  if (!cursor) {
    progress.write(`faultline: ${file} is not a reindex cursor; starting over\n`);
    return undefined;
  }
  if (cursor.search_table !== scope.search_table || cursor.only_project !== scope.only_project) {
    progress.write(`faultline: ${file} is another run's (another table or --project); starting over\n`);
    return undefined;
  }
  progress.write(`faultline: resuming from ${file} (${cursor.done} items done)\n`);
  return cursor;
}

function parseCursor(text: string): ReindexCursor | undefined {
  try {
    const value = JSON.parse(text) as Partial<ReindexCursor> | null;
    if (
      typeof value?.search_table === 'string' &&
      (value.only_project === null || typeof value.only_project === 'string') &&
      typeof value.after?.PK === 'string' &&
      typeof value.after.SK === 'string' &&
      Number.isSafeInteger(value.done)
    ) {
      return value as ReindexCursor;
    }
  } catch {
    // Not JSON: the caller starts over.
  }
  return undefined;
}

async function writeCursor(file: string, cursor: ReindexCursor): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // Written aside, then renamed over: a run stopped mid-write never leaves half a cursor.
  await writeFile(`${file}.tmp`, `${JSON.stringify(cursor)}\n`);
  await rename(`${file}.tmp`, file);
}
