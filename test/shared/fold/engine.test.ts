// The fold engine's protocol on an in-memory storage: steps within the transaction budget, the
// ledger's skips, record roles after a crash, retries of overtaken steps, final failures and the
// stop rule. The same engine on DynamoDB Local: test/shared/store/fold-storage.test.ts.
import { describe, expect, it } from 'vitest';
import { FoldEngine, MAX_RETRIES, retryDelayMs } from '#shared/fold/engine';
import { FoldError } from '#shared/fold/storage';
import { countBucket } from '#shared/store/keys';
import type { PreparedOccurrence } from '#shared/storing/occurrence';
import { collisionItemId } from '#shared/storing/occurrence';
import { MemoryFoldStorage, streamRecords } from '../../support/memory-fold-storage';
import { errorData, occurrence } from '../../support/occurrences';

const noWait = async () => {};

function engine(storage: MemoryFoldStorage, peopleInItemRow?: number) {
  return new FoldEngine(storage, { sleep: noWait, peopleInItemRow });
}

/** `count` occurrences of each of `bugs` errors, interleaved, optionally with people. */
function occurrencesOf(bugs: number, count: number, person?: (index: number) => string) {
  return Array.from({ length: bugs * count }, (_, index) =>
    occurrence(
      1,
      errorData({
        className: `Bug${index % bugs}`,
        ...(person ? { person: { id: person(index) } } : {}),
      }),
    ),
  );
}

/** The storage with these errors already counted, one occurrence each. */
async function withItems(bugs: number): Promise<MemoryFoldStorage> {
  const storage = new MemoryFoldStorage();
  await engine(storage).fold(streamRecords(occurrencesOf(bugs, 1), 1));
  storage.commits.length = 0;
  return storage;
}

const total = (storage: MemoryFoldStorage, itemId: number) => storage.items.get(itemId)?.total_occurrences;
const environmentDay = (storage: MemoryFoldStorage, receivedAt: number) =>
  storage.count({ projectId: 1, environment: 'production' }, countBucket(receivedAt, 'day'));

describe('the fold engine', () => {
  it('creates each new error once, numbered, with its first counts and people in its own row', async () => {
    const storage = new MemoryFoldStorage();
    const batch = occurrencesOf(3, 4, (index) => `u${index % 2}`);
    const report = await engine(storage).fold(streamRecords(batch));
    expect(report).toMatchObject({ counted: 12, steps: 1, itemsCreated: 3, stoppedAt: undefined });
    const counters = batch.slice(0, 3).map((o) => storage.items.get(o.itemId)?.counter);
    expect(counters.sort()).toEqual([1, 2, 3]);
    for (const { itemId, receivedAt } of batch.slice(0, 3)) {
      expect(storage.items.get(itemId)).toMatchObject({ total_occurrences: 4, unique_people: 2 });
      expect(storage.count({ itemId }, countBucket(receivedAt, 'hour'))).toBe(4);
    }
    expect(environmentDay(storage, batch[0]!.receivedAt)).toBe(12);
    // The new items' counts are in their rows: the commit adds to no item.
    expect(storage.commits[0]!.updates).toEqual([]);
  });

  it('a step takes records while its commit stays within 100 actions', async () => {
    const storage = await withItems(40);
    // A new error in another environment first, then an occurrence of each of the 40 items.
    const fresh = occurrence(1, errorData({ className: 'Fresh', environment: 'staging' }));
    const batch = [fresh, ...occurrencesOf(40, 1)];
    const report = await engine(storage).fold(streamRecords(batch, 1000));
    expect(report).toMatchObject({ counted: 41, steps: 2 });
    const actions = storage.commits.map(
      (step) =>
        1 +
        step.updates.reduce((sum, update) => sum + 1 + update.counts.length, 0) +
        step.environmentCounts.length,
    );
    // The ledger, two rows per environment and three per item: one more item would make 101.
    expect(actions).toEqual([98, 30]);
    expect(storage.commits.map((step) => step.ledger.records)).toEqual([32, 9]);
    for (const { itemId } of batch.slice(1)) expect(total(storage, itemId)).toBe(2);
  });

  it('a batch delivered again is skipped step by step through the ledger', async () => {
    const storage = await withItems(40);
    const records = streamRecords(occurrencesOf(40, 1), 1000);
    await engine(storage).fold(records);
    const again = await engine(storage).fold(records);
    expect(again).toMatchObject({ counted: 0, skipped: 40, steps: 0 });
    // A batch that starts at the second step's record finds its ledger row too.
    const second = records.findIndex((record) => record.eventId === storage.commits[1]!.ledger.firstEventId);
    expect(await engine(storage).fold(records.slice(second))).toMatchObject({ counted: 0, skipped: 8 });
    expect(storage.commits).toHaveLength(2);
  });

  it('a committed step whose last record is past the batch covers the rest of it', async () => {
    const storage = new MemoryFoldStorage();
    const records = streamRecords(occurrencesOf(1, 5));
    storage.ledger.set(records[0]!.eventId, { lastEventId: 'a record of a longer batch', records: 9 });
    expect(await engine(storage).fold(records)).toMatchObject({ counted: 0, skipped: 5 });
  });

  it('a retry counts the records an earlier attempt put into the item it created only in the environment', async () => {
    const storage = new MemoryFoldStorage();
    const batch = occurrencesOf(1, 6);
    let crashes = 1;
    storage.beforeCommit = () => {
      if (crashes-- > 0) throw new Error('the function died here');
    };
    const dying = await engine(storage).fold(streamRecords(batch));
    expect(dying).toMatchObject({ counted: 0, stoppedAt: 0, error: expect.any(Error) });
    expect(total(storage, batch[0]!.itemId)).toBe(6);

    // Delivered again, with records that arrived since: only those add to the item.
    const grown = [...batch, ...occurrencesOf(1, 2)];
    const retried = await engine(storage).fold(streamRecords(grown));
    expect(retried).toMatchObject({ counted: 8, itemsCreated: 0 });
    expect(total(storage, batch[0]!.itemId)).toBe(8);
    expect(storage.count({ itemId: batch[0]!.itemId }, countBucket(batch[0]!.receivedAt, 'hour'))).toBe(8);
    expect(environmentDay(storage, batch[0]!.receivedAt)).toBe(8);
    expect(storage.itemNumbers.get(1)).toBe(1);
  });

  it('a person marked by an earlier attempt of the same step still counts as new; one marked before does not', async () => {
    const storage = await withItems(1);
    const batch = occurrencesOf(1, 5, (index) => `p${index}`);
    const { itemId } = batch[0]!;
    let crashes = 1;
    storage.beforeCommit = () => {
      if (crashes-- > 0) throw new Error('the function died here');
    };
    // Two people fit in the item's row; the first attempt marks the other three, then dies.
    await engine(storage, 2).fold(streamRecords(batch, 1000));
    expect(storage.items.get(itemId)).toMatchObject({ unique_people: 0 });
    expect(await engine(storage, 2).fold(streamRecords(batch, 1000))).toMatchObject({ counted: 5 });
    expect(storage.items.get(itemId)).toMatchObject({ total_occurrences: 6, unique_people: 5 });
    expect(storage.items.get(itemId)?.people).toHaveProperty('size', 2);
    expect([...storage.markers.keys()].filter((key) => key.startsWith(`${itemId}/`))).toHaveLength(3);

    await engine(storage, 2).fold(
      streamRecords(
        occurrencesOf(1, 5, (index) => `p${index}`),
        2000,
      ),
    );
    expect(storage.items.get(itemId)).toMatchObject({ total_occurrences: 11, unique_people: 5 });
  });

  it("a new error's people who fit in its own row are counted without reading markers; past the row they are read", async () => {
    const storage = new MemoryFoldStorage();
    const markerReads: number[] = [];
    const read = storage.readPeopleMarkers.bind(storage);
    storage.readPeopleMarkers = (itemId, personIds) => {
      markerReads.push(personIds.length);
      return read(itemId, personIds);
    };
    const fits = occurrencesOf(1, 3, (index) => `p${index}`);
    await engine(storage, 3).fold(streamRecords(fits, 1000));
    expect(storage.items.get(fits[0]!.itemId)).toMatchObject({ unique_people: 3 });
    expect(markerReads).toEqual([]);

    // Four people of a new error, room for three in its row: the fourth is marked, after a read.
    const past = Array.from({ length: 4 }, (_, index) =>
      occurrence(1, errorData({ className: 'CrowdedError', person: { id: `q${index}` } })),
    );
    await engine(storage, 3).fold(streamRecords(past, 2000));
    expect(storage.items.get(past[0]!.itemId)).toMatchObject({ unique_people: 4 });
    expect(markerReads).toEqual([4]);
  });

  it('a step overtaken by a concurrent resolve re-reads the item and plans again', async () => {
    const storage = await withItems(1);
    const [first] = occurrencesOf(1, 1);
    const itemId = first!.itemId;
    storage.beforeCommit = () => {
      storage.beforeCommit = () => {};
      Object.assign(storage.items.get(itemId)!, { status: 'resolved', resolved_timestamp: 1 });
    };
    const report = await engine(storage).fold(streamRecords([first!], 1000));
    expect(report).toMatchObject({ counted: 1, steps: 1, retries: 1 });
    // Planned again from the resolved item: the occurrence, received after the resolve, reopens it.
    expect(storage.items.get(itemId)).toMatchObject({
      status: 'active',
      reactivated_count: 1,
      total_occurrences: 2,
    });
  });

  it('a lost creation race adds to the item the other fold created; the number taken is burnt', async () => {
    const batch = occurrencesOf(1, 3);
    const itemId = batch[0]!.itemId;
    const rival = new MemoryFoldStorage();
    await engine(rival).fold(streamRecords(occurrencesOf(1, 1), 900));
    const storage = new MemoryFoldStorage();
    storage.beforeCreate = () => {
      storage.beforeCreate = () => {};
      storage.items.set(itemId, structuredClone(rival.items.get(itemId)!));
    };
    const report = await engine(storage).fold(streamRecords(batch));
    expect(report).toMatchObject({ counted: 3, steps: 1, retries: 1, itemsCreated: 0 });
    expect(storage.items.get(itemId)).toMatchObject({ total_occurrences: 4 });
    // The number this fold took for it went to no item, and the retry took none.
    expect(storage.itemNumbers.get(1)).toBe(1);
  });

  it(`a step overtaken more than ${MAX_RETRIES} times fails for good, reported at its first record`, async () => {
    const storage = await withItems(2);
    const records = streamRecords(occurrencesOf(2, 1), 1000);
    const item = storage.items.get(records[0]!.occurrence.itemId)!;
    // A writer that changes the item's status between every read and commit.
    storage.beforeCommit = () => {
      item.status = item.status === 'active' ? 'muted' : 'active';
    };
    const report = await engine(storage).fold(records);
    expect(report).toMatchObject({ counted: 0, steps: 0, retries: MAX_RETRIES, stoppedAt: 0 });
    expect(report.error).toBeInstanceOf(FoldError);
    expect(storage.commits).toEqual([]);
  });

  it('a step that fails for good stops the batch where the step starts, with the steps before it kept', async () => {
    const storage = await withItems(40);
    let commits = 0;
    storage.beforeCommit = () => {
      if (++commits === 2) throw new Error('ValidationException');
    };
    const report = await engine(storage).fold(streamRecords(occurrencesOf(40, 1), 1000));
    expect(report).toMatchObject({ counted: 32, steps: 1, stoppedAt: 32 });
    expect((report.error as Error).message).toBe('ValidationException');
  });

  it('stops before a step when less than 10 seconds are left, and not before', async () => {
    const storage = await withItems(40);
    const left = [60_000, 9_999];
    const report = await engine(storage).fold(streamRecords(occurrencesOf(40, 1), 1000), {
      remainingTimeMs: () => left.shift() ?? 0,
    });
    expect(report).toMatchObject({ counted: 32, steps: 1, stoppedAt: 32, error: undefined });
    expect(
      await engine(storage).fold(streamRecords(occurrencesOf(40, 1), 2000), {
        remainingTimeMs: () => 10_000,
      }),
    ).toMatchObject({ counted: 40, stoppedAt: undefined });
  });

  it('backs off exponentially, up to a second, with jitter', () => {
    expect(retryDelayMs(0, 0.5)).toBe(20);
    expect(retryDelayMs(3, 0.5)).toBe(160);
    expect(retryDelayMs(10, 0.5)).toBe(1000);
    expect(retryDelayMs(10, 0)).toBe(500);
    expect(retryDelayMs(10, 0.999)).toBeLessThan(1500);
  });
});

describe('item ids that collide across projects', () => {
  /** Occurrences of project 2's group whose 52-bit item id happens to be `itemId`. */
  function colliding(itemId: number, count: number): PreparedOccurrence[] {
    return Array.from({ length: count }, () => ({
      ...occurrence(2, errorData({ className: 'RangeError', message: 'theirs' })),
      itemId,
    }));
  }

  /** An item of project 1 at `itemId`, as if its own group had hashed there. */
  function project1ItemAt(storage: MemoryFoldStorage, from: number, itemId: number) {
    storage.items.set(itemId, { ...structuredClone(storage.items.get(from)!), id: itemId });
  }

  it('an occurrence whose item id is another project’s item makes an item of its own project, and its group follows it there', async () => {
    const storage = await withItems(1);
    const ours = occurrencesOf(1, 1)[0]!.itemId;
    const forged = colliding(ours, 3);
    const report = await engine(storage).fold(streamRecords(forged, 1000));
    expect(report).toMatchObject({ counted: 3, collisions: 3, itemsCreated: 1, stoppedAt: undefined });
    expect(storage.items.get(ours)).toMatchObject({ project_id: 1, total_occurrences: 1 });
    const movedId = collisionItemId(forged[0]!, 1);
    expect(storage.items.get(movedId)).toMatchObject({ project_id: 2, counter: 1, total_occurrences: 3 });
    // Each occurrence's row names the item that counts it.
    for (const { uuid } of forged) expect(storage.movedOccurrences.get(`2/${uuid}`)).toBe(movedId);

    const later = colliding(ours, 1);
    expect(await engine(storage).fold(streamRecords(later, 2000))).toMatchObject({
      counted: 1,
      collisions: 1,
      itemsCreated: 0,
    });
    expect(storage.items.get(movedId)).toMatchObject({ total_occurrences: 4, counter: 1 });
    expect(total(storage, ours)).toBe(1);
  });

  it('a step overtaken after creating a moved item re-reads it on the retry, and counts each once', async () => {
    const storage = await withItems(1);
    const [ourNext] = occurrencesOf(1, 1);
    const ours = ourNext!.itemId;
    const [theirs] = colliding(ours, 1);
    storage.beforeCommit = () => {
      storage.beforeCommit = () => {};
      Object.assign(storage.items.get(ours)!, { status: 'resolved', resolved_timestamp: 1 });
    };
    const report = await engine(storage).fold(streamRecords([ourNext!, theirs!], 1000));
    expect(report).toMatchObject({ counted: 2, retries: 1, stoppedAt: undefined });
    expect(storage.items.get(ours)).toMatchObject({ project_id: 1, total_occurrences: 2 });
    expect(storage.items.get(collisionItemId(theirs!, 1))).toMatchObject({
      project_id: 2,
      total_occurrences: 1,
    });
  });

  it('two projects’ new errors on one item id in one step make an item each', async () => {
    const storage = new MemoryFoldStorage();
    const [ours] = occurrencesOf(1, 1);
    const [theirs] = colliding(ours!.itemId, 1);
    const report = await engine(storage).fold(streamRecords([ours!, theirs!]));
    expect(report).toMatchObject({ counted: 2, collisions: 1, itemsCreated: 2 });
    expect(storage.items.get(ours!.itemId)).toMatchObject({ project_id: 1, total_occurrences: 1 });
    expect(storage.items.get(collisionItemId(theirs!, 1))).toMatchObject({
      project_id: 2,
      total_occurrences: 1,
    });
  });

  it('a group tries at most 8 next ids, then its step fails without counting', async () => {
    const storage = await withItems(1);
    const ours = occurrencesOf(1, 1)[0]!.itemId;
    const forged = colliding(ours, 2);
    for (let probe = 1; probe <= 8; probe++) {
      project1ItemAt(storage, ours, collisionItemId(forged[0]!, probe));
    }
    const records = streamRecords(forged, 1000);
    const report = await engine(storage).fold(records);
    expect(report).toMatchObject({ counted: 0, steps: 0, stoppedAt: 0 });
    expect(report.error).toBeInstanceOf(FoldError);
    expect(storage.commits).toEqual([]);

    // With the last of those ids free, the group is counted there.
    const last = collisionItemId(forged[0]!, 8);
    storage.items.delete(last);
    expect(await engine(storage).fold(records)).toMatchObject({ counted: 2, collisions: 2 });
    expect(storage.items.get(last)).toMatchObject({ project_id: 2, total_occurrences: 2 });
  });

  it('the item update never counts into another project’s item, even when the item was read wrong', async () => {
    const storage = await withItems(1);
    const ours = occurrencesOf(1, 1)[0]!.itemId;
    const forged = colliding(ours, 2);
    // The first read of the items says the item is theirs, as a stale or wrong read would.
    const readItems = storage.readItems.bind(storage);
    let lies = 1;
    storage.readItems = async (itemIds) => {
      const found = await readItems(itemIds);
      const item = found.get(ours)?.item;
      if (item && lies-- > 0) item.project_id = 2;
      return found;
    };
    const report = await engine(storage).fold(streamRecords(forged, 1000));
    expect(report).toMatchObject({ counted: 2, collisions: 2, retries: 1, stoppedAt: undefined });
    expect(storage.items.get(ours)).toMatchObject({ project_id: 1, total_occurrences: 1 });
    expect(storage.items.get(collisionItemId(forged[0]!, 1))).toMatchObject({
      project_id: 2,
      total_occurrences: 2,
    });
  });
});
