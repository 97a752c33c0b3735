// `faultline region status` and `region promote` on DynamoDB Local: what is refused and changes nothing,
// the three steps of a promotion with the real reconciler, and a promotion stopped half-way finished.
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '#shared/cli/errors';
import { parseSince, type RegionCommandDeps, type RegionOptions, runRegion } from '#shared/cli/region';
import { recount } from '#shared/recount/recount';
import { DynamoDBHomeStore } from '#shared/regions/home';
import { occurrenceKeys } from '#shared/store/keys';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { createStoringWorker } from '#shared/storing/worker';
import { type FoldTables, openFoldTables } from '../../support/fold-tables';
import { errorData } from '../../support/occurrences';

let tables: FoldTables;
const plan: RegionOptions = {
  regions: 'us-east-1,eu-west-1,ap-south-1',
  home: 'us-east-1',
  standby: 'eu-west-1',
};

beforeAll(async () => {
  tables = await openFoldTables('region-cli');
}, 60_000);

afterAll(async () => {
  await tables?.stop();
});

function command(overrides: Partial<RegionCommandDeps> = {}) {
  const printed: string[] = [];
  const progress: string[] = [];
  const slept: number[] = [];
  const deps: RegionCommandDeps = {
    connect: async () => ({ documents: tables.documents, tables: tables.dynamo.tableNames }),
    recount,
    print: (line) => printed.push(line),
    progress: { write: (text: string) => progress.push(text) },
    confirm: async () => false,
    cdkContext: async () => ({}),
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...overrides,
  };
  return {
    printed,
    progress,
    slept,
    run: (verb: string, args: string[], values: RegionOptions) => runRegion(verb, args, values, deps),
  };
}

const homeRow = () =>
  new DynamoDBHomeStore(tables.documents, tables.dynamo.tableNames.projects).read({ consistent: true });

/** Stores an occurrence as the old home's worker did (stored_in us-east-1); its fold never counted it. */
async function storedByOldHome(projectId: number): Promise<string> {
  const writer = new DynamoDBOccurrenceWriter(
    tables.documents,
    tables.dynamo.tableNames.occurrences,
    new DynamoDBPayloadCodec(tables.documents, tables.dynamo.tableNames.occurrences),
    'us-east-1',
  );
  const uuid = randomUUID();
  const result = await createStoringWorker({ writer })([
    {
      messageId: uuid,
      body: JSON.stringify({
        version: 1,
        project_id: projectId,
        grouping_version: 2,
        received_at: Date.now() - 60_000,
        uuid,
        data: errorData({ className: 'StoredBeforeTheOutage', uuid }),
      }),
    },
  ]);
  expect(result).toMatchObject({ stored: 1 });
  return uuid;
}

async function totalOf(projectId: number, uuid: string): Promise<number | undefined> {
  const row = await tables.documents.send(
    new GetCommand({
      TableName: tables.dynamo.tableNames.occurrences,
      Key: occurrenceKeys.occurrence(projectId, uuid),
    }),
  );
  const item = await tables.documents.send(
    new GetCommand({
      TableName: tables.dynamo.tableNames.items,
      Key: { PK: `ITEM#${row.Item?.item_id}`, SK: 'ITEM' },
      ConsistentRead: true,
    }),
  );
  return item.Item?.total_occurrences as number | undefined;
}

describe('faultline region', () => {
  it('status before any promotion names the plan’s home, never promoted', async () => {
    const { run, printed } = command();
    expect(await run('status', [], plan)).toBe(0);
    expect(JSON.parse(printed[0]!)).toEqual({
      home: 'us-east-1',
      epoch: 0,
      state: 'active',
      since: null,
      note: 'never promoted: the home deployed with -c home=',
    });
  });

  it('promote refuses a region not in the plan, an edge, the home itself and an unconfirmed promotion, changing nothing', async () => {
    const { run } = command();
    await expect(run('promote', ['us-west-2'], { ...plan, yes: true })).rejects.toThrow(
      /us-west-2 is not one of the plan's regions/,
    );
    await expect(run('promote', ['ap-south-1'], { ...plan, yes: true })).rejects.toThrow(
      /ap-south-1 is an edge region: it runs no pipeline/,
    );
    await expect(run('promote', ['us-east-1'], { ...plan, yes: true })).rejects.toThrow(
      /us-east-1 is home already/,
    );
    await expect(run('promote', ['eu-west-1'], plan)).rejects.toBeInstanceOf(UsageError);
    await expect(run('promote', ['eu-west-1'], { yes: true })).rejects.toThrow(/name the plan as deployed/);
    expect(await homeRow()).toBeUndefined();
  });

  it('makes a standby home in three steps, counting once what the old home stored and never counted', async () => {
    const projectId = await tables.newProject();
    const uuid = await storedByOldHome(projectId);
    expect(await totalOf(projectId, uuid)).toBeUndefined();
    const { run, printed, progress, slept } = command();

    expect(await run('promote', ['eu-west-1'], { ...plan, yes: true })).toBe(0);

    expect(await totalOf(projectId, uuid)).toBe(1);
    expect(await homeRow()).toMatchObject({ region: 'eu-west-1', epoch: 1, state: 'active' });
    // Every function reads the row again before the recount: the old home stops storing first.
    expect(slept).toEqual([15_000]);
    expect(printed.filter((line) => /^[123]\/3 /.test(line)).map((line) => line.slice(0, 3))).toEqual([
      '1/3',
      '2/3',
      '3/3',
    ]);
    expect(printed.join('\n')).toMatch(/1 missing from their counts, 1 recounted/);
    expect(progress.join('')).toMatch(/1 recounted/);

    const status = command();
    await status.run('status', [], plan);
    expect(JSON.parse(status.printed[0]!)).toMatchObject({ home: 'eu-west-1', epoch: 1, state: 'active' });
  });

  it('a promotion stopped after its first step is finished by running it again, counting nothing twice', async () => {
    const projectId = await tables.newProject();
    const uuid = await storedByOldHome(projectId);
    const crashed = command({
      recount: async () => {
        throw new Error('the operator’s laptop went to sleep');
      },
    });
    await expect(crashed.run('promote', ['us-east-1'], { ...plan, yes: true })).rejects.toThrow(
      /went to sleep/,
    );
    expect(await homeRow()).toMatchObject({ region: 'us-east-1', epoch: 2, state: 'promoting' });

    const again = command();
    expect(await again.run('promote', ['us-east-1'], { ...plan, yes: true })).toBe(0);
    expect(again.printed[0]).toMatch(/already names us-east-1, promoting \(epoch 2\)/);
    expect(await homeRow()).toMatchObject({ region: 'us-east-1', epoch: 2, state: 'active' });
    // Stored by us-east-1 itself, this one is its own fold's to count, not the recount's.
    expect(await totalOf(projectId, uuid)).toBeUndefined();
  });

  it('reads --since as an ISO time or an age, and refuses anything else', () => {
    const now = Date.UTC(2026, 10, 30, 12);
    expect(parseSince(undefined, now).toISOString()).toBe('2026-11-29T12:00:00.000Z');
    expect(parseSince('36h', now).toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2026-11-23T12:00:00.000Z');
    expect(parseSince('2026-11-30T08:00Z', now).toISOString()).toBe('2026-11-30T08:00:00.000Z');
    expect(() => parseSince('yesterday', now)).toThrow(UsageError);
    expect(() => parseSince('2026-12-01', now)).toThrow(/in the future/);
  });
});
