// The reconciler on DynamoDB Local: occurrences stored by the real storing worker while the fold was
// down (or folded only in part) are counted by a recount exactly once, as the fold would count them.
import { randomUUID } from 'node:crypto';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FoldRecord } from '#shared/fold/records';
import {
  type RecountDeps,
  RecountError,
  type RecountWindow,
  RecountWindowError,
  recount,
} from '#shared/recount/recount';
import { countBucket, occurrenceKeys } from '#shared/store/keys';
import { createStoringWorker } from '#shared/storing/worker';
import { type FoldTables, openFoldTables } from '../../support/fold-tables';
import { errorData } from '../../support/occurrences';

let tables: FoldTables;
let deps: RecountDeps;
const HOUR = 3600 * 1000;

beforeAll(async () => {
  tables = await openFoldTables('recount');
  deps = { documents: tables.documents, tables: tables.dynamo.tableNames };
});

afterAll(async () => {
  await tables?.stop();
});

/** Stores occurrences through the storing worker, as queued messages; returns their stream records. */
async function storeThroughWorker(
  projectId: number,
  occurrences: Array<{ className: string; receivedAt: number; personId?: string }>,
): Promise<FoldRecord[]> {
  const worker = createStoringWorker({ writer: tables.writer() });
  const result = await worker(
    occurrences.map(({ className, receivedAt, personId }) => {
      const uuid = randomUUID();
      return {
        messageId: uuid,
        body: JSON.stringify({
          version: 1,
          project_id: projectId,
          grouping_version: 2,
          received_at: receivedAt,
          uuid,
          data: errorData({ className, uuid, ...(personId ? { person: { id: personId } } : {}) }),
        }),
      };
    }),
  );
  expect(result).toMatchObject({ failedMessageIds: [], stored: occurrences.length });
  return tables.stream.readNewOccurrences(projectId);
}

const lastHours = (projectId: number, extra: Partial<RecountWindow> = {}): RecountWindow => ({
  since: new Date(Date.now() - 4 * HOUR),
  until: new Date(),
  projectId,
  ...extra,
});

/** The project's production occurrences counted on the days of these instants. */
async function environmentTotal(projectId: number, instants: number[]): Promise<number> {
  let total = 0;
  for (const day of new Set(instants.map((at) => countBucket(at, 'day')))) {
    const row = await tables.row(occurrenceKeys.environmentCount(projectId, 'production', 'day', day));
    total += Number(row?.count ?? 0);
  }
  return total;
}

const itemIdOf = (records: FoldRecord[], index: number) => records[index]!.occurrence.itemId;

describe('faultline recount', () => {
  it('counts occurrences stored while the fold was down: totals, hours and environment exact', async () => {
    const projectId = await tables.newProject();
    const now = Date.now();
    const folded = await storeThroughWorker(projectId, [
      { className: 'CartError', receivedAt: now - 3 * HOUR, personId: 'ada' },
      { className: 'CartError', receivedAt: now - 3 * HOUR + 1 },
    ]);
    // The fold counted these two, then stopped for good.
    expect((await tables.folder().fold(folded)).counted).toBe(2);
    const records = await storeThroughWorker(projectId, [
      { className: 'CartError', receivedAt: now - 2 * HOUR, personId: 'bob' },
      { className: 'CartError', receivedAt: now - HOUR },
      { className: 'PaymentError', receivedAt: now - 2 * HOUR },
    ]);
    const cart = itemIdOf(folded, 0);
    const payment = records.find((record) => record.occurrence.itemId !== cart)!.occurrence.itemId;

    const progress: number[] = [];
    const report = await recount(deps, lastHours(projectId), (each) => progress.push(each.recounted));

    expect(report).toMatchObject({ occurrences: 5, missing: 3, recounted: 3, countedBeyondStored: 0 });
    expect(progress.at(-1)).toBe(3);
    expect(await tables.itemRow(cart)).toMatchObject({ total_occurrences: 4, unique_people: 2, counter: 1 });
    expect(await tables.hourlyTotal(cart, now - 3 * HOUR)).toBe(2);
    expect(await tables.hourlyTotal(cart, now - 2 * HOUR)).toBe(1);
    expect(await tables.hourlyTotal(cart, now - HOUR)).toBe(1);
    // The item the fold never saw is created, numbered after the first.
    expect(await tables.itemRow(payment)).toMatchObject({ total_occurrences: 1, counter: 2 });
    expect(await tables.hourlyTotal(payment, now - 2 * HOUR)).toBe(1);
    expect(await environmentTotal(projectId, [now - 3 * HOUR, now - HOUR])).toBe(5);

    // A second recount finds nothing missing and changes nothing.
    const again = await recount(deps, lastHours(projectId));
    expect(again).toMatchObject({ occurrences: 5, missing: 0, recounted: 0 });
    expect(await tables.itemRow(cart)).toMatchObject({ total_occurrences: 4 });
    expect(await tables.hourlyTotal(cart, now - 3 * HOUR)).toBe(2);
  });

  it('occurrences the fold already counted are not counted again', async () => {
    const projectId = await tables.newProject();
    const records = await storeThroughWorker(projectId, [
      { className: 'SessionError', receivedAt: Date.now() - HOUR },
      { className: 'SessionError', receivedAt: Date.now() - HOUR },
    ]);
    await tables.folder().fold(records);

    const report = await recount(deps, lastHours(projectId));

    expect(report).toMatchObject({ occurrences: 2, missing: 0, recounted: 0 });
    expect(await tables.itemRow(itemIdOf(records, 0))).toMatchObject({ total_occurrences: 2 });
  });

  it('a recount that died half-way, run again, counts the rest and nothing twice', async () => {
    const projectId = await tables.newProject();
    const names = Array.from({ length: 8 }, (_, index) => `Crash${index}Error`);
    const records = await storeThroughWorker(
      projectId,
      names.flatMap((className) => [
        { className, receivedAt: Date.now() - 2 * HOUR },
        { className, receivedAt: Date.now() - HOUR },
      ]),
    );
    // It dies at its second commit: that step's new items are created, their commit never made.
    let commits = 0;
    const dying = tables.crashingOnTransactions(() => ++commits > 1);
    await expect(recount({ ...deps, documents: dying }, lastHours(projectId))).rejects.toThrow(RecountError);

    const report = await recount(deps, lastHours(projectId));

    expect(report.occurrences).toBe(16);
    // What the dead recount's new items counted, their environment had not: added to it alone.
    expect(report.environmentCountsRepaired).toBeGreaterThan(0);
    const itemIds = new Set(records.map((record) => record.occurrence.itemId));
    expect(itemIds.size).toBe(8);
    for (const itemId of itemIds) {
      expect(await tables.itemRow(itemId)).toMatchObject({ total_occurrences: 2 });
    }
    expect(await environmentTotal(projectId, [Date.now() - 2 * HOUR, Date.now() - HOUR])).toBe(16);
    expect(await recount(deps, lastHours(projectId))).toMatchObject({
      missing: 0,
      recounted: 0,
      environmentCountsRepaired: 0,
    });
    expect(await environmentTotal(projectId, [Date.now() - 2 * HOUR, Date.now() - HOUR])).toBe(16);
  });

  it('after a promotion, counts only what another region stored', async () => {
    const projectId = await tables.newProject();
    const records = await storeThroughWorker(projectId, [
      { className: 'RegionError', receivedAt: Date.now() - HOUR },
      { className: 'RegionError', receivedAt: Date.now() - HOUR },
      { className: 'RegionError', receivedAt: Date.now() - HOUR },
    ]);
    const storedIn = ['us-east-1', 'us-east-1', 'eu-west-1'];
    for (const [index, record] of records.entries()) {
      await tables.documents.send(
        new UpdateCommand({
          TableName: tables.dynamo.tableNames.occurrences,
          Key: occurrenceKeys.occurrence(projectId, record.occurrence.uuid),
          UpdateExpression: 'SET stored_in = :region',
          ExpressionAttributeValues: { ':region': storedIn[index] },
        }),
      );
    }

    const report = await recount(deps, lastHours(projectId, { storedElsewhereThan: 'eu-west-1' }));

    // eu-west-1's own occurrence is its fold's to count.
    expect(report).toMatchObject({ occurrences: 3, missing: 2, recounted: 2 });
    expect(await tables.itemRow(itemIdOf(records, 0))).toMatchObject({ total_occurrences: 2 });
  });

  it('reports occurrences counted beyond the rows stored and never lowers a count', async () => {
    const projectId = await tables.newProject();
    const records = await storeThroughWorker(projectId, [
      { className: 'LostError', receivedAt: Date.now() - HOUR },
      { className: 'LostError', receivedAt: Date.now() - HOUR },
    ]);
    await tables.folder().fold(records);
    await tables.documents.send(
      new DeleteCommand({
        TableName: tables.dynamo.tableNames.occurrences,
        Key: occurrenceKeys.occurrence(projectId, records[1]!.occurrence.uuid),
      }),
    );

    const report = await recount(deps, lastHours(projectId));

    expect(report).toMatchObject({ occurrences: 1, missing: 0, recounted: 0, countedBeyondStored: 1 });
    expect(await tables.itemRow(itemIdOf(records, 0))).toMatchObject({ total_occurrences: 2 });
  });

  it('refuses a window older than the hourly counts, or ending in the future, reading nothing', async () => {
    const old = { since: new Date(Date.now() - 40 * 24 * HOUR), until: new Date() };
    await expect(recount(deps, old)).rejects.toThrow(/hourly counts are kept 35 days/);
    const future = { since: new Date(Date.now() - HOUR), until: new Date(Date.now() + HOUR) };
    await expect(recount(deps, future)).rejects.toThrow(RecountWindowError);
  });
});
