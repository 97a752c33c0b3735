// The fold engine on its DynamoDB storage against DynamoDB Local: exactly-once counting over the
// real stream, under redelivery, retried and grown stream batches, crashes between writes, parallel
// workers and concurrent folds.
import { BatchGetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { personHash } from '#shared/fold/people';
import { planUserChange } from '#shared/items/rules';
import { countBucket, occurrenceKeys } from '#shared/store/keys';
import type { PreparedOccurrence } from '#shared/storing/occurrence';
import { collisionItemId } from '#shared/storing/occurrence';
import { type FoldTables, openFoldTables } from '../../support/fold-tables';
import { errorData, occurrence } from '../../support/occurrences';

let tables: FoldTables;

beforeAll(async () => {
  tables = await openFoldTables('fold-storage');
});

afterAll(async () => {
  await tables?.stop();
});

describe('the fold', () => {
  it('creates a new error as item #1, numbered, counted and listed from its own row', async () => {
    const projectId = await tables.newProject();
    const first = occurrence(projectId, errorData({ person: { id: '7', username: 'ada' } }));
    const report = await tables.folder().fold(await tables.store([first]));
    expect(report).toMatchObject({ counted: 1, skipped: 0, steps: 1, itemsCreated: 1, stoppedAt: undefined });

    const created = await tables.itemRow(first.itemId);
    // No index key: the listing by counter is the search index's.
    expect(Object.keys(created.raw).filter((name) => name.startsWith('GSI'))).toEqual([]);
    expect(created).toMatchObject({
      counter: 1,
      status: 'active',
      total_occurrences: 1,
      unique_people: 1,
      first_occurrence_id: first.uuid,
      title: first.title,
    });
    expect(created.seed_hours).toEqual({ [countBucket(first.receivedAt, 'hour')]: 1 });
    expect(await tables.hourlyTotal(first.itemId, first.receivedAt)).toBe(1);
    expect(await tables.environmentCount(projectId, first.receivedAt)).toBe(1);
    expect(await tables.itemCounter(projectId)).toBe(1);
  });

  it('adds to an existing item in one update per step, with count rows', async () => {
    const projectId = await tables.newProject();
    const first = occurrence(projectId);
    await tables.folder().fold(await tables.store([first]));
    const more = Array.from({ length: 30 }, () => occurrence(projectId));
    const report = await tables.folder().fold(await tables.store(more));
    expect(report).toMatchObject({ counted: 30, steps: 1, itemsCreated: 0 });
    expect(await tables.itemRow(first.itemId)).toMatchObject({ total_occurrences: 31, counter: 1 });
    expect(await tables.hourlyTotal(first.itemId, first.receivedAt)).toBe(31);
    expect(await tables.environmentCount(projectId, first.receivedAt)).toBe(31);
  });

  it('a stream batch delivered again after it was counted changes nothing', async () => {
    const projectId = await tables.newProject();
    const batch = Array.from({ length: 20 }, (_, index) =>
      occurrence(projectId, errorData({ className: `E${index % 4}`, person: { id: String(index % 3) } })),
    );
    const records = await tables.store(batch);
    await tables.folder().fold(records);
    const again = await tables.folder().fold(records);
    expect(again).toMatchObject({ counted: 0, skipped: 20, steps: 0 });
    for (const itemId of new Set(batch.map((o) => o.itemId))) {
      expect((await tables.itemRow(itemId)).total_occurrences).toBe(5);
      expect((await tables.itemRow(itemId)).unique_people).toBe(3);
    }
    expect(await tables.environmentCount(projectId, batch[0]!.receivedAt)).toBe(20);
    expect(await tables.itemCounter(projectId)).toBe(4);
  });

  it('a fold that dies after creating items and marking people, before its transaction, is exact on retry', async () => {
    const projectId = await tables.newProject();
    const batch = Array.from({ length: 12 }, (_, index) =>
      occurrence(projectId, errorData({ className: `E${index % 3}`, person: { id: `u${index}` } })),
    );
    const records = await tables.store(batch);
    let crashes = 1;
    const dying = await tables
      .folder(
        tables.crashingOnTransactions(() => crashes-- > 0),
        2,
      )
      .fold(records);
    expect(dying).toMatchObject({ counted: 0, stoppedAt: 0 });
    expect(dying.error).toBeInstanceOf(Error);
    // The items exist already (created outside the transaction), with their first counts.
    expect((await tables.itemRow(batch[0]!.itemId)).total_occurrences).toBe(4);

    const retried = await tables.folder(tables.documents, 2).fold(records);
    expect(retried).toMatchObject({ counted: 12, steps: 1, itemsCreated: 0 });
    for (const itemId of new Set(batch.map((o) => o.itemId))) {
      expect(await tables.itemRow(itemId)).toMatchObject({ total_occurrences: 4, unique_people: 4 });
      expect(await tables.hourlyTotal(itemId, batch[0]!.receivedAt)).toBe(4);
    }
    expect(await tables.environmentCount(projectId, batch[0]!.receivedAt)).toBe(12);
    // Three items, three numbers: the retry took none.
    expect(await tables.itemCounter(projectId)).toBe(3);
  });

  it('a retried batch that grew (more records arrived) counts the new records only', async () => {
    const projectId = await tables.newProject();
    const firstHalf = await tables.store(Array.from({ length: 5 }, () => occurrence(projectId)));
    let crashes = 1;
    await tables.folder(tables.crashingOnTransactions(() => crashes-- > 0)).fold(firstHalf);
    const secondHalf = await tables.store(Array.from({ length: 5 }, () => occurrence(projectId)));
    const report = await tables.folder().fold([...firstHalf, ...secondHalf]);
    expect(report.counted).toBe(10);
    const { itemId, receivedAt } = firstHalf[0]!.occurrence;
    expect((await tables.itemRow(itemId)).total_occurrences).toBe(10);
    expect(await tables.hourlyTotal(itemId, receivedAt)).toBe(10);
    expect(await tables.environmentCount(projectId, receivedAt)).toBe(10);
  });

  it('a batch of many steps that fails in its second step resumes exactly, from the step or from the start', async () => {
    const projectId = await tables.newProject();
    // 60 existing items: each record needs its item and two count rows, so a step holds ~33 tables.items.
    const seeds = Array.from({ length: 60 }, (_, index) =>
      occurrence(projectId, errorData({ className: `K${index}` })),
    );
    await tables.folder().fold(await tables.store(seeds));
    const batch = seeds.map((seed) =>
      occurrence(projectId, errorData({ className: `K${seeds.indexOf(seed)}` })),
    );
    const records = await tables.store(batch);

    let transactions = 0;
    const dying = await tables
      .folder(tables.crashingOnTransactions(() => ++transactions === 2))
      .fold(records);
    expect(dying.steps).toBe(1);
    expect(dying.stoppedAt).toBeGreaterThan(0);
    expect(dying.stoppedAt).toBeLessThan(60);

    // Lambda resumes at the reported record...
    const resumed = await tables.folder().fold(records.slice(dying.stoppedAt));
    expect(resumed.counted).toBe(60 - dying.stoppedAt!);
    // ...and a retry of the whole batch (a timeout, say) skips what the ledger says is counted.
    const whole = await tables.folder().fold(records);
    expect(whole).toMatchObject({ counted: 0, skipped: 60 });
    for (const seed of seeds) expect((await tables.itemRow(seed.itemId)).total_occurrences).toBe(2);
    expect(await tables.environmentCount(projectId, batch[0]!.receivedAt)).toBe(120);
  });

  it('a retry resuming after the step that committed still skips the records an earlier attempt put in a new item', async () => {
    const projectId = await tables.newProject();
    const batch = Array.from({ length: 10 }, () =>
      occurrence(projectId, errorData({ className: 'Resumed' })),
    );
    const records = await tables.store(batch);
    // The first attempt creates the item with all ten records, then dies before its transaction.
    let crashes = 1;
    await tables.folder(tables.crashingOnTransactions(() => crashes-- > 0)).fold(records);
    expect((await tables.itemRow(batch[0]!.itemId)).total_occurrences).toBe(10);
    // A second attempt, planned shorter (other folds created items meanwhile), committed the
    // first four records; the next step failed, and Lambda resumes at record 4.
    await tables.documents.send(
      new PutCommand({
        TableName: tables.dynamo.tableNames.occurrences,
        Item: {
          ...occurrenceKeys.foldLedger(records[0]!.eventId),
          entity: 'fold',
          last_event_id: records[3]!.eventId,
        },
      }),
    );
    const resumed = await tables.folder().fold(records.slice(4));
    expect(resumed).toMatchObject({ counted: 6, itemsCreated: 0 });
    expect((await tables.itemRow(batch[0]!.itemId)).total_occurrences).toBe(10);
  });

  it('60 parallel workers on one new error make one item with 60 occurrences and one number', async () => {
    const projectId = await tables.newProject();
    const data = errorData({ className: 'ParallelError' });
    const occurrences = Array.from({ length: 60 }, () => occurrence(projectId, data));
    const reports = await Promise.all(
      occurrences.map((o) => tables.writer(createDocumentClient(tables.dynamo.client)).write([o])),
    );
    expect(reports.reduce((sum, report) => sum + report.stored, 0)).toBe(60);
    await tables.folder().fold(await tables.stream.readNewOccurrences(projectId));
    expect(await tables.itemRow(occurrences[0]!.itemId)).toMatchObject({ total_occurrences: 60, counter: 1 });
    expect(await tables.itemCounter(projectId)).toBe(1);
  });

  it('two folds racing on the same items (two shards) count every occurrence and person once', async () => {
    const projectId = await tables.newProject();
    const batch = Array.from({ length: 80 }, (_, index) =>
      occurrence(projectId, errorData({ className: `R${index % 4}`, person: { id: `p${index % 10}` } })),
    );
    const records = await tables.store(batch);
    const odd = records.filter((_, index) => index % 2 === 1);
    const even = records.filter((_, index) => index % 2 === 0);
    const [a, b] = await Promise.all([
      tables.folder(createDocumentClient(tables.dynamo.client), 3).fold(odd),
      tables.folder(createDocumentClient(tables.dynamo.client), 3).fold(even),
    ]);
    expect(a.counted + b.counted).toBe(80);
    for (const itemId of new Set(batch.map((o) => o.itemId))) {
      // Each item saw 20 occurrences of 10 people (p0..p9 with index%4 fixed: 5 distinct or 10).
      const expectedPeople = new Set(batch.filter((o) => o.itemId === itemId).map((o) => o.person!.id)).size;
      expect(await tables.itemRow(itemId)).toMatchObject({
        total_occurrences: 20,
        unique_people: expectedPeople,
      });
    }
    expect(await tables.environmentCount(projectId, batch[0]!.receivedAt)).toBe(80);
    // A lost creation race burns a number, never gives an item two.
    const counters = await Promise.all(
      [...new Set(batch.map((o) => o.itemId))].map(async (id) => (await tables.itemRow(id)).counter),
    );
    expect(new Set(counters).size).toBe(4);
  });

  it('a hot item hit by 100 new people counts each once: a few in its row, the rest marked', async () => {
    const projectId = await tables.newProject();
    const data = (id: string) => errorData({ className: 'Crowded', person: { id } });
    const batch = Array.from({ length: 100 }, (_, index) => occurrence(projectId, data(`person-${index}`)));
    const records = await tables.store(batch);
    await tables.folder(tables.documents, 16).fold(records);
    await tables.folder(tables.documents, 16).fold(records);
    const crowded = await tables.itemRow(batch[0]!.itemId);
    expect(crowded).toMatchObject({ total_occurrences: 100, unique_people: 100 });
    const inRow = crowded.people;
    expect(inRow.size).toBe(16);
    // The first 16 in stream order are in the item's row, every other one has a marker: never both.
    const firstInStream = records.slice(0, 16).map((record) => record.occurrence.person!.id);
    expect([...inRow].sort()).toEqual(firstInStream.map(personHash).sort());
    for (const { person } of batch) {
      const marker = await tables.row(occurrenceKeys.itemPerson(crowded.id, person!.id));
      if (inRow.has(personHash(person!.id))) expect(marker).toBeUndefined();
      else expect(marker).toMatchObject({ person_id: person!.id });
    }

    // The same people again: known, from the row or from their markers.
    await tables
      .folder(tables.documents, 16)
      .fold(
        await tables.store(
          Array.from({ length: 100 }, (_, index) => occurrence(projectId, data(`person-${index}`))),
        ),
      );
    expect(await tables.itemRow(batch[0]!.itemId)).toMatchObject({
      total_occurrences: 200,
      unique_people: 100,
    });
  });

  it('an occurrence received before its item was resolved, counted after, leaves it resolved', async () => {
    const projectId = await tables.newProject();
    const first = occurrence(projectId);
    await tables.folder().fold(await tables.store([first]));
    // Received a minute before the resolve, still waiting in the queue or the tables.stream.
    const backlog = occurrence(projectId, errorData(), { receivedAt: Date.now() - 60_000 });
    const records = await tables.store([backlog]);
    await tables.items.applyUserChange(
      planUserChange(projectId, first.itemId, { status: 'resolved' }, Date.now()),
    );
    await tables.folder().fold(records);
    expect(await tables.itemRow(first.itemId)).toMatchObject({ status: 'resolved', total_occurrences: 2 });
  });

  it('an occurrence reactivates a resolved item and raises its level, as conditions of the step', async () => {
    const projectId = await tables.newProject();
    const first = occurrence(projectId, errorData({ level: 'warning' }));
    await tables.folder().fold(await tables.store([first]));
    await tables.items.applyUserChange(
      planUserChange(projectId, first.itemId, { status: 'resolved' }, Date.now()),
    );
    const second = occurrence(projectId, errorData({ level: 'critical' }));
    await tables.folder().fold(await tables.store([second]));
    expect(await tables.itemRow(first.itemId)).toMatchObject({
      status: 'active',
      reactivated_count: 1,
      activating_occurrence_id: second.uuid,
      level: 'critical',
      total_occurrences: 2,
    });
  });
});

describe('item ids that collide across projects', () => {
  /** Occurrences of another project's group whose 52-bit item id happens to be `itemId`. */
  function colliding(projectId: number, itemId: number, count: number): PreparedOccurrence[] {
    return Array.from({ length: count }, () => ({
      ...occurrence(projectId, errorData({ className: 'RangeError', message: 'theirs' })),
      itemId,
    }));
  }

  it('an occurrence whose item id is another project’s item makes an item of its own project, and its group follows it there', async () => {
    const ours = await tables.newProject();
    const theirs = await tables.newProject();
    const existing = occurrence(ours);
    await tables.folder().fold(await tables.store([existing]));

    const forged = colliding(theirs, existing.itemId, 3);
    const report = await tables.folder().fold(await tables.store(forged));
    expect(report).toMatchObject({ counted: 3, collisions: 3, itemsCreated: 1, stoppedAt: undefined });
    expect(await tables.itemRow(existing.itemId)).toMatchObject({ project_id: ours, total_occurrences: 1 });
    const movedId = collisionItemId(forged[0]!, 1);
    expect(await tables.itemRow(movedId)).toMatchObject({
      project_id: theirs,
      counter: 1,
      total_occurrences: 3,
      title: forged[0]!.title,
    });

    const later = colliding(theirs, existing.itemId, 1);
    expect(await tables.folder().fold(await tables.store(later))).toMatchObject({
      counted: 1,
      collisions: 1,
      itemsCreated: 0,
    });
    expect(await tables.itemRow(movedId)).toMatchObject({ total_occurrences: 4, counter: 1 });
    expect(await tables.itemRow(existing.itemId)).toMatchObject({ total_occurrences: 1 });
    expect(await tables.environmentCount(theirs, later[0]!.receivedAt)).toBe(4);
    // Its instance names the item that counts it.
    expect(await tables.row(occurrenceKeys.occurrence(theirs, later[0]!.uuid))).toMatchObject({
      item_id: movedId,
    });
  });

  it('the item update never counts into another project’s item, even when the item was read wrong', async () => {
    const ours = await tables.newProject();
    const theirs = await tables.newProject();
    const existing = occurrence(ours);
    await tables.folder().fold(await tables.store([existing]));
    const forged = colliding(theirs, existing.itemId, 2);
    const records = await tables.store(forged);

    // The first read of the items says the item is theirs, as a stale or wrong read would.
    let lies = 1;
    const misreading = new Proxy(tables.documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: unknown) => {
          const output = await target.send(command as never);
          if (command instanceof BatchGetCommand && lies > 0) {
            const rows = (output as { Responses?: Record<string, Record<string, unknown>[]> }).Responses?.[
              tables.dynamo.tableNames.items
            ];
            for (const found of rows ?? []) {
              if (found.id === existing.itemId) {
                found.project_id = theirs;
                lies--;
              }
            }
          }
          return output;
        };
      },
    });
    const report = await tables.folder(misreading).fold(records);
    expect(report).toMatchObject({ counted: 2, collisions: 2, stoppedAt: undefined });
    expect(report.retries).toBeGreaterThan(0);
    expect(await tables.itemRow(existing.itemId)).toMatchObject({ project_id: ours, total_occurrences: 1 });
    expect(await tables.itemRow(collisionItemId(forged[0]!, 1))).toMatchObject({
      project_id: theirs,
      total_occurrences: 2,
    });
  });
});
