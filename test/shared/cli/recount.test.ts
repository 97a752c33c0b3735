// `faultline recount` through its CLI module on DynamoDB Local: the window it asks for, the refusals
// that keep it away from what the fold may still count, its progress bar and its summary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '#shared/cli/errors';
import { type RecountTables, runRecount } from '#shared/cli/recount';
import { type FoldTables, openFoldTables } from '../../support/fold-tables';
import { errorData, occurrence } from '../../support/occurrences';

const HOUR = 3600 * 1000;
let tables: FoldTables;
let names: RecountTables;

beforeAll(async () => {
  tables = await openFoldTables('cli-recount');
  names = tables.dynamo.tableNames;
});

afterAll(async () => {
  await tables?.stop();
});

function capture() {
  const chunks: string[] = [];
  return { isTTY: false, write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

/** A project whose occurrences were stored `hoursAgo` and never folded. */
async function unfoldedProject(count: number, hoursAgo: number) {
  const projectId = await tables.newProject();
  const stored = Array.from({ length: count }, () =>
    occurrence(projectId, errorData({ className: 'QueueError' }), {
      receivedAt: Date.now() - hoursAgo * HOUR,
    }),
  );
  await tables.store(stored);
  const project = (await tables.projects.listProjects()).find((each) => each.projectId === projectId)!;
  return { projectId, name: project.name, itemId: stored[0]!.itemId };
}

const recountWith = (options: Parameters<typeof runRecount>[1], out = capture()) =>
  runRecount({ documents: tables.documents, tables: names }, options, out);

describe('faultline recount', () => {
  it('by default counts what the fold left uncounted more than 24 hours ago, with a progress bar', async () => {
    const old = await unfoldedProject(3, 30);
    const out = capture();

    const summary = await recountWith({ since: '2d', project: old.name }, out);

    expect(summary).toMatchObject({ project_id: old.projectId, occurrences: 3, missing: 3, recounted: 3 });
    expect(Date.parse(summary.until)).toBeLessThanOrEqual(Date.now() - 24 * HOUR);
    expect(await tables.itemRow(old.itemId)).toMatchObject({ total_occurrences: 3 });
    expect(out.text()).toMatch(/^scan \[#{20}\] [\d,]+\/[\d,]+ rows$/m);
    expect(out.text()).toMatch(/^recount \[#{20}\] 3\/3 occurrences$/m);
  });

  it('leaves the last 24 hours to the fold unless told --until now --yes', async () => {
    const recent = await unfoldedProject(2, 1);

    const byDefault = await recountWith({ since: '2d', project: String(recent.projectId) });
    expect(byDefault).toMatchObject({ occurrences: 0, recounted: 0 });
    await expect(recountWith({ since: '3h', until: 'now', project: recent.name })).rejects.toThrow(
      /--until is within the last 24 hours.*--yes/,
    );

    const told = await recountWith({ since: '3h', until: 'now', yes: true, project: recent.name });
    expect(told).toMatchObject({ occurrences: 2, recounted: 2 });
    expect(await tables.itemRow(recent.itemId)).toMatchObject({ total_occurrences: 2 });
  });

  it('refuses a window it cannot judge, naming what is wrong', async () => {
    const refused = (options: Parameters<typeof runRecount>[1]) =>
      expect(recountWith(options)).rejects.toThrow(UsageError);
    await refused({});
    await refused({ since: 'yesterday' });
    await refused({ since: '40d' });
    await refused({ since: '2h' });
    await refused({ since: '2026-11-01T00:00Z', until: '2026-10-01T00:00Z', yes: true });
    await expect(recountWith({ since: '40d' })).rejects.toThrow(/hourly counts are kept 35 days/);
  });
});
