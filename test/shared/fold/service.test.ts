// The fold's service against DynamoDB Local: a stream batch as Lambda delivers it, where Lambda
// resumes when the fold runs out of time, and a failed step failing the invocation.
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFoldHandler } from '#shared/fold/service';
import { logger } from '#shared/observability';
import { createHomeReader, DynamoDBHomeStore } from '#shared/regions/home';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { collisionItemId } from '#shared/storing/occurrence';
import { homeRowKey } from '#shared/wiring/regions';
import { type FoldTables, openFoldTables } from '../../support/fold-tables';
import { errorData, occurrence } from '../../support/occurrences';

let tables: FoldTables;

beforeAll(async () => {
  tables = await openFoldTables('fold-service');
});

afterAll(async () => {
  await tables?.stop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the fold handler', () => {
  it('hands Lambda back the rest of a batch it has no time for, and fails the invocation on a failed step', async () => {
    const projectId = await tables.newProject();
    const batch = Array.from({ length: 3 }, () => occurrence(projectId));
    await tables.writer().write(batch);
    const records = (await tables.stream.readNew()).filter(
      (record) => Number(record.dynamodb?.NewImage?.project_id?.N) === projectId,
    );
    const occurrenceRecords = records.filter(
      (record) => record.dynamodb?.NewImage?.entity?.S === 'occurrence',
    );
    expect(occurrenceRecords).toHaveLength(3);

    const outOfTime = await createFoldHandler({ folder: tables.folder() })(records, () => 5_000);
    expect(outOfTime).toEqual({
      batchItemFailures: [{ itemIdentifier: occurrenceRecords[0]!.dynamodb!.SequenceNumber }],
    });

    const failing = createFoldHandler({ folder: tables.folder(tables.crashingOnTransactions(() => true)) });
    await expect(failing(records, () => 60_000)).rejects.toThrow('the function died here');

    expect(await createFoldHandler({ folder: tables.folder() })(records, () => 60_000)).toEqual({
      batchItemFailures: [],
    });
    expect((await tables.itemRow(batch[0]!.itemId)).total_occurrences).toBe(3);
  });

  it('out of time after its first step, it hands back the whole batch from its first record, and the redelivery counts each occurrence once', async () => {
    const projectId = await tables.newProject();
    // 40 existing items: a step adds to an item with three rows (the item, two count rows), so the
    // 100 actions of one transaction (with the ledger and two environment count rows) hold 32 of
    // them and the batch takes two steps.
    const seeds = Array.from({ length: 40 }, (_, index) =>
      occurrence(projectId, errorData({ className: `Stop${index}` })),
    );
    await tables.folder().fold(await tables.store(seeds));
    const batch = seeds.map((_, index) => occurrence(projectId, errorData({ className: `Stop${index}` })));
    await tables.writer().write(batch);
    const records = (await tables.stream.readNew()).filter(
      (record) =>
        Number(record.dynamodb?.NewImage?.project_id?.N) === projectId &&
        record.dynamodb?.NewImage?.entity?.S === 'occurrence',
    );
    expect(records).toHaveLength(40);

    // Time for the first step only.
    let asked = 0;
    const answer = await createFoldHandler({ folder: tables.folder() })(records, () =>
      asked++ === 0 ? 60_000 : 5_000,
    );
    expect(asked).toBe(2);
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: records[0]!.dynamodb!.SequenceNumber }] });
    const afterFirstStep = await Promise.all(
      seeds.map(async (seed) => (await tables.itemRow(seed.itemId)).total_occurrences),
    );
    expect(afterFirstStep.filter((total) => total === 2)).toHaveLength(32);

    // Lambda delivers the batch again from the record it was handed back.
    const resumeAt = records.findIndex(
      (record) => record.dynamodb?.SequenceNumber === answer.batchItemFailures[0]!.itemIdentifier,
    );
    expect(
      await createFoldHandler({ folder: tables.folder() })(records.slice(resumeAt), () => 60_000),
    ).toEqual({
      batchItemFailures: [],
    });
    for (const seed of seeds) expect((await tables.itemRow(seed.itemId)).total_occurrences).toBe(2);
    expect(await tables.environmentCount(projectId, batch[0]!.receivedAt)).toBe(80);
  });

  it('logs each occurrence counted at its group’s next id, naming its uuid, the taken item id and the new one', async () => {
    const ours = await tables.newProject();
    const theirs = await tables.newProject();
    const existing = occurrence(ours);
    await tables.folder().fold(await tables.store([existing]));
    const forged = { ...occurrence(theirs, errorData({ className: 'Theirs' })), itemId: existing.itemId };
    await tables.writer().write([forged]);
    const records = (await tables.stream.readNew()).filter(
      (record) => Number(record.dynamodb?.NewImage?.project_id?.N) === theirs,
    );

    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => {});
    const info = vi.spyOn(logger, 'info').mockImplementation(() => {});
    expect(await createFoldHandler({ folder: tables.folder() })(records, () => 60_000)).toEqual({
      batchItemFailures: [],
    });
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('another project'), {
      uuid: forged.uuid,
      project_id: theirs,
      taken_item_id: existing.itemId,
      item_id: collisionItemId(forged, 1),
    });
    expect(info).toHaveBeenCalledWith('stream batch folded', expect.objectContaining({ collisions: 1 }));
  });

  /** Occurrences of one item stored by `region`'s worker, and their stream records. */
  async function storedIn(region: string, count: number, className: string) {
    const projectId = await tables.newProject();
    const names = tables.dynamo.tableNames;
    const writer = new DynamoDBOccurrenceWriter(
      tables.documents,
      names.occurrences,
      new DynamoDBPayloadCodec(tables.documents, names.occurrences),
      region,
    );
    const batch = Array.from({ length: count }, () => occurrence(projectId, errorData({ className })));
    await writer.write(batch);
    const records = (await tables.stream.readNew()).filter(
      (record) => Number(record.dynamodb?.NewImage?.project_id?.N) === projectId,
    );
    return { batch, records };
  }

  /** The fold of `region`, reading the home row from the projects table (never written: us-east-1). */
  function foldIn(region: string) {
    const home = createHomeReader({
      store: new DynamoDBHomeStore(tables.documents, tables.dynamo.tableNames.projects),
      initialHome: 'us-east-1',
      cacheSeconds: 0,
    });
    return createFoldHandler({ folder: tables.folder(), regional: { region, home } });
  }

  it('in several regions, counts only what its own region’s worker stored', async () => {
    const here = await storedIn('us-east-1', 2, 'SeenInTwoRegions');
    const replicated = await storedIn('eu-west-1', 1, 'SeenInTwoRegions');
    const records = [...here.records, ...replicated.records];
    expect(records.filter((record) => record.dynamodb?.NewImage?.stored_in)).toHaveLength(3);

    await foldIn('us-east-1')(records, () => 60_000);

    // The row eu-west-1 stored is eu-west-1's fold's to count (or the reconciler's after a promotion).
    expect((await tables.itemRow(here.batch[0]!.itemId)).total_occurrences).toBe(2);
  });

  it('an old home that comes back after a promotion counts none of the rows its own worker stored', async () => {
    const before = await storedIn('us-east-1', 3, 'StoredBeforeTheOutage');
    const store = new DynamoDBHomeStore(tables.documents, tables.dynamo.tableNames.projects);
    await store.write({ region: 'eu-west-1', epoch: 1, state: 'active', promotedAt: Date.now() }, undefined);
    try {
      const info = vi.spyOn(logger, 'info').mockImplementation(() => {});
      expect(await foldIn('us-east-1')(before.records, () => 60_000)).toEqual({ batchItemFailures: [] });
      // The promotion's recount counted them at the new home: counting them here too would double them.
      await expect(tables.itemRow(before.batch[0]!.itemId)).rejects.toThrow('not found');
      expect(info).toHaveBeenCalledWith(expect.stringContaining('not home'), {
        home: 'eu-west-1',
        records: before.records.length,
      });

      // While a promotion toward it is under way, the region the row names counts its own rows.
      await store.write({ region: 'us-east-1', epoch: 2, state: 'promoting', promotedAt: Date.now() }, 1);
      await foldIn('us-east-1')(before.records, () => 60_000);
      expect((await tables.itemRow(before.batch[0]!.itemId)).total_occurrences).toBe(3);
    } finally {
      await tables.documents.send(
        new DeleteCommand({ TableName: tables.dynamo.tableNames.projects, Key: homeRowKey }),
      );
    }
  });
});
