// `faultline search reindex` on DynamoDB Local: items stored and folded as the stack does, the search
// table emptied, then rebuilt from a walk of the items table (the listing, which the index serves,
// shows every item again); a run stopped half-way resumes from its cursor. Also run as users run it,
// through bin/faultline.mjs.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ReindexCursor, type ReindexTables, runReindex } from '#shared/cli/reindex';
import type { SearchIndexWriter } from '#shared/search/engine';
import { createSearchService } from '#shared/search/service';
import { DynamoDBItemRepository } from '#shared/store/items';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { type FoldTables, openFoldTables } from '../../support/fold-tables';
import { errorData, occurrence } from '../../support/occurrences';

const run = promisify(execFile);

let tables: FoldTables;
let names: ReindexTables;
let engine: DynamoDBSearchIndex;
let big: { id: number; name: string };
let small: { id: number; name: string };
let workDir: string;
let cursorFile: string;

/** What the progress bar wrote. */
function capture(isTTY = false) {
  const chunks: string[] = [];
  return { isTTY, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

async function projectWithItems(count: number, prefix: string) {
  const projectId = await tables.newProject();
  const batch = Array.from({ length: count }, (_, index) =>
    occurrence(
      projectId,
      errorData({ className: `${prefix}${index}Error`, server: { host: `${prefix}-host` } } as never),
    ),
  );
  const report = await tables.folder().fold(await tables.store(batch));
  expect(report.counted).toBe(count);
  const project = (await tables.projects.listProjects()).find((each) => each.projectId === projectId)!;
  return { id: projectId, name: project.name };
}

async function emptySearchTable() {
  const { Items = [] } = await tables.documents.send(new ScanCommand({ TableName: names.search }));
  for (let start = 0; start < Items.length; start += 25) {
    await tables.documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [names.search]: Items.slice(start, start + 25).map((row) => ({
            DeleteRequest: { Key: { PK: row.PK, SK: row.SK } },
          })),
        },
      }),
    );
  }
}

beforeAll(async () => {
  tables = await openFoldTables('reindex');
  const declared = tables.dynamo.tableNames as Record<string, string>;
  names = {
    projects: declared.projects!,
    items: declared.items!,
    occurrences: declared.occurrences!,
    search: declared.search!,
  };
  engine = new DynamoDBSearchIndex(tables.documents, names.search);
  big = await projectWithItems(25, 'Bulk');
  small = await projectWithItems(3, 'Tiny');
  workDir = await mkdtemp(join(tmpdir(), 'faultline-reindex-'));
  cursorFile = join(workDir, '.faultline', 'reindex-cursor.json');
}, 120_000);

afterAll(async () => {
  await tables?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

beforeEach(async () => {
  await emptySearchTable();
  await rm(cursorFile, { force: true });
});

const reindex = (
  options: { project?: string; restart?: boolean } = {},
  out = capture(),
  writer: SearchIndexWriter = engine,
) =>
  runReindex(
    { documents: tables.documents, tables: names, engine: writer },
    // Pages of 10 instead of 100: the same walk over fewer items.
    { ...options, cursorFile, pageSize: 10 },
    out,
  );

describe('faultline search reindex', () => {
  it('a reindex into an empty search table makes every item findable, with its facets', async () => {
    const out = capture();
    const summary = await reindex({}, out);

    expect(summary).toMatchObject({
      items: 28,
      documents_written: 28,
      facets_written: 28,
      resumed: false,
    });
    expect(await engine.countDocuments(big.id)).toBe(25);
    expect(await engine.countDocuments(small.id)).toBe(3);
    const { candidates } = await engine.candidates(
      big.id,
      { terms: [{ kind: 'word', value: 'bulk', negated: false }] },
      { limit: 1_000 },
    );
    expect(candidates).toHaveLength(25);
    const itemId = candidates[0]!.item_id;
    expect((await engine.readFacets(big.id, [itemId])).get(itemId)?.hosts).toEqual(['Bulk-host']);
    // Done: no cursor is left for a rerun to resume from.
    expect(existsSync(cursorFile)).toBe(false);

    // The listing, which the index serves, shows every item again, newest first.
    const listing = createSearchService({
      engine: new DynamoDBSearchIndex(tables.documents, names.search),
      items: new DynamoDBItemRepository(tables.documents, names.items),
    });
    const listed = await listing.listByCounter(big.id, { page: 1 });
    expect(listed.map((item) => item.counter)).toEqual(Array.from({ length: 25 }, (_, at) => 25 - at));

    // One walk of the table, every project's items in it: one bar, a line when a tenth more is done.
    const lines = out.text().trimEnd().split('\n');
    expect(lines[0]).toBe('every project [--------------------] 0/28 items');
    expect(lines.at(-1)).toBe('every project [####################] 28/28 items');
    expect(lines.length).toBeGreaterThan(2);
  });

  it('a run stopped half-way resumes where it stopped: the pages it finished are not read again', async () => {
    // The second page's write fails, as a run stopped there would.
    let pages = 0;
    // Each page's items are new to the index, with a host: written as whole entries, once a page.
    const stopping: SearchIndexWriter = {
      putEntries: async (entries) => {
        if (++pages === 2) throw new Error('stopped');
        await engine.putEntries(entries);
      },
      putDocuments: (documents) => engine.putDocuments(documents),
      readFacets: (projectId, ids) => engine.readFacets(projectId, ids),
      putFacets: (projectId, entries) => engine.putFacets(projectId, entries),
    };
    await expect(reindex({}, capture(), stopping)).rejects.toThrow('stopped');
    const cursor = JSON.parse(await readFile(cursorFile, 'utf8')) as ReindexCursor;
    expect(cursor).toMatchObject({ search_table: names.search, only_project: null, after: { SK: 'ITEM' } });
    const firstPage = cursor.done;
    expect(firstPage).toBeGreaterThan(0);
    const written = (await engine.countDocuments(big.id)) + (await engine.countDocuments(small.id));
    expect(written).toBe(firstPage);

    // Emptied again, so the index shows what the resumed run wrote: every item but the first page's.
    await emptySearchTable();
    const out = capture();
    const summary = await reindex({}, out);
    expect(summary).toMatchObject({ items: 28 - firstPage, resumed: true });
    expect((await engine.countDocuments(big.id)) + (await engine.countDocuments(small.id))).toBe(
      28 - firstPage,
    );
    expect(out.text()).toContain(`resuming from ${cursorFile} (${firstPage} items done)`);
    expect(out.text()).toContain('every project [####################] 28/28 items\n');
    expect(existsSync(cursorFile)).toBe(false);
  });

  it('--restart starts over whatever the cursor says', async () => {
    const cursor: ReindexCursor = {
      search_table: names.search,
      only_project: null,
      after: { PK: 'ITEM#1', SK: 'ITEM' },
      done: 27,
    };
    await writeFile(cursorFile, JSON.stringify(cursor));
    expect(await reindex({ restart: true })).toMatchObject({ items: 28, resumed: false });
    expect(await engine.countDocuments(big.id)).toBe(25);
  });

  it('a cursor of another run (another project, another table, not a cursor) is ignored, and said so', async () => {
    const others = [
      JSON.stringify({
        search_table: names.search,
        only_project: null,
        after: { PK: 'ITEM#1', SK: 'ITEM' },
        done: 16,
      }),
      JSON.stringify({
        search_table: 'other-stack',
        only_project: small.name,
        after: { PK: 'ITEM#1', SK: 'ITEM' },
        done: 2,
      }),
      // A cursor of the version that walked the ByProject index.
      JSON.stringify({
        search_table: names.search,
        only_project: small.name,
        project_id: 1,
        last_counter: 2,
      }),
      'not json {',
    ];
    for (const text of others) {
      await writeFile(cursorFile, text);
      const out = capture();
      expect(await reindex({ project: small.name }, out)).toMatchObject({ items: 3, resumed: false });
      expect(out.text()).toMatch(/starting over/);
    }
  });

  it('on a terminal the bar is redrawn in place, on one line', async () => {
    const out = capture(true);
    await reindex({ project: big.name }, out);
    expect(out.text().split('\n')).toHaveLength(2);
    expect(out.text()).toContain(`\r${big.name} [####################] 25/25 items\x1b[K\n`);
    // Drawn at the start, after each page of the walk and at the end.
    expect(out.text().match(/\r/g)?.length).toBeGreaterThanOrEqual(4);
  });
});

describe('faultline search reindex, as users run it', () => {
  const faultline = (...args: string[]) =>
    run(
      process.execPath,
      [
        join(process.cwd(), 'bin/faultline.mjs'),
        'search',
        'reindex',
        ...args,
        '--endpoint',
        tables.dynamo.endpoint,
        '--projects-table',
        names.projects,
        '--items-table',
        names.items,
        '--occurrences-table',
        names.occurrences,
        '--search-table',
        names.search,
        '--region',
        'us-east-1',
      ],
      // In its own directory: the cursor is written where the command runs.
      { cwd: workDir, env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } },
    );

  it('reindexes one project and prints what it did', async () => {
    const { stdout, stderr } = await faultline('--project', small.name);
    expect(JSON.parse(stdout)).toMatchObject({
      projects: [{ project_id: small.id, name: small.name, items: 3 }],
      items: 3,
      documents_written: 3,
    });
    expect(stderr).toContain(`${small.name} [####################] 3/3 items`);
    expect(await engine.countDocuments(small.id)).toBe(3);
    expect(existsSync(join(workDir, '.faultline', 'reindex-cursor.json'))).toBe(false);
  }, 30_000);

  it.each([
    { args: ['--project', 'no-such-project'], stderr: /no-such-project/ },
    { args: ['extra'], stderr: /usage: faultline search reindex/ },
  ])(
    'refuses $args with exit code 2',
    async ({ args, stderr }) => {
      await expect(faultline(...args)).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringMatching(stderr),
      });
    },
    30_000,
  );

  it('refuses a deployed stack named by only some of its tables', async () => {
    const outcome = await run(
      process.execPath,
      [join(process.cwd(), 'bin/faultline.mjs'), 'search', 'reindex', '--items-table', 'items'],
      { cwd: workDir },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(outcome).toMatchObject({
      code: 2,
      stderr: 'faultline: --projects-table is needed with the other tables\n',
    });
  }, 30_000);
});
