// Exactly-once counting against DynamoDB Local: the worker's conditional puts, then the fold over
// the real stream, under redelivery, retried and grown stream batches, crashes between writes,
// parallel workers and concurrent folds.

import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { createFoldHandler } from '#shared/grouping/fold';
import { collisionItemId } from '#shared/grouping/item-changes';
import type { PreparedOccurrence } from '#shared/grouping/occurrence';
import { DynamoDBFoldStore, type FoldRecord, personHash } from '#shared/store/fold-store';
import { DynamoDBItemRepository, type ItemRecord } from '#shared/store/items';
import { countBucket, itemKeys, occurrenceKeys, projectKeys } from '#shared/store/keys';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';
import { type OccurrenceStream, openOccurrenceStream } from '../../support/occurrence-stream';
import { errorData, occurrence } from '../../support/occurrences';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let projects: DynamoDBProjectRepository;
let items: DynamoDBItemRepository;
let stream: OccurrenceStream;

function writer(client: DynamoDBDocumentClient = documents) {
  return new DynamoDBOccurrenceWriter(
    client,
    dynamo.tableNames.occurrences,
    new DynamoDBPayloadCodec(client, dynamo.tableNames.occurrences),
  );
}

function folder(client: DynamoDBDocumentClient = documents, peopleInItemRow?: number) {
  return new DynamoDBFoldStore(
    client,
    { items: dynamo.tableNames.items, occurrences: dynamo.tableNames.occurrences },
    new DynamoDBProjectRepository(client, dynamo.tableNames.projects),
    { peopleInItemRow },
  );
}

/** A document client whose transactions fail (as a crash would end them) while `failing()` says so. */
function crashingOnTransactions(failing: () => boolean): DynamoDBDocumentClient {
  return new Proxy(documents, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: unknown) => {
        if (command instanceof TransactWriteCommand && failing()) {
          return Promise.reject(new Error('the function died here'));
        }
        return target.send(command as never);
      };
    },
  });
}

async function newProject(): Promise<number> {
  const project = await projects.createProject({
    name: `p-${Math.random()}`,
    groupingVersion: 2,
    now: Date.now(),
  });
  return project.projectId;
}

async function store(batch: PreparedOccurrence[]): Promise<FoldRecord[]> {
  const report = await writer().write(batch);
  expect(report.failed).toBe(0);
  return stream.readNewOccurrences(batch[0]!.projectId);
}

/** The item's row as stored, bookkeeping included (`seed_hours`, `people`, `created_by`). */
async function item(
  itemId: number,
): Promise<ItemRecord & { seed_hours?: Record<string, number>; people?: Set<string>; GSI1SK?: number }> {
  const result = await documents.send(
    new GetCommand({ TableName: dynamo.tableNames.items, Key: itemKeys.item(itemId), ConsistentRead: true }),
  );
  if (!result.Item) throw new Error(`item ${itemId} not found`);
  return result.Item as ItemRecord & { seed_hours?: Record<string, number>; people?: Set<string> };
}

async function row(key: { PK: string; SK: string }): Promise<Record<string, unknown> | undefined> {
  const result = await documents.send(
    new GetCommand({ TableName: dynamo.tableNames.occurrences, Key: key, ConsistentRead: true }),
  );
  return result.Item;
}

/** Occurrences counted for an item's graph: its hourly count rows plus the hours kept in its row. */
async function hourlyTotal(itemId: number, receivedAt: number): Promise<number> {
  const bucket = countBucket(receivedAt, 'hour');
  const counted = (await row(occurrenceKeys.itemCount(itemId, 'hour', bucket)))?.count as number | undefined;
  return (counted ?? 0) + ((await item(itemId)).seed_hours?.[bucket] ?? 0);
}

async function environmentCount(projectId: number, receivedAt: number): Promise<number | undefined> {
  return (
    await row(occurrenceKeys.environmentCount(projectId, 'production', 'day', countBucket(receivedAt, 'day')))
  )?.count as number | undefined;
}

async function itemCounter(projectId: number): Promise<number | undefined> {
  const result = await documents.send(
    new GetCommand({
      TableName: dynamo.tableNames.projects,
      Key: projectKeys.project(projectId),
      ConsistentRead: true,
    }),
  );
  return result.Item?.item_counter as number | undefined;
}

beforeAll(async () => {
  dynamo = await startDynamoWithTables('fold');
  documents = createDocumentClient(dynamo.client);
  projects = new DynamoDBProjectRepository(documents, dynamo.tableNames.projects);
  items = new DynamoDBItemRepository(documents, dynamo.tableNames.items);
  stream = await openOccurrenceStream(dynamo.client, dynamo.streamsClient, dynamo.tableNames.occurrences);
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('the worker stores each occurrence once', () => {
  it('writes one row per new uuid; a redelivered occurrence writes nothing and adds no stream record', async () => {
    const projectId = await newProject();
    const first = occurrence(projectId);
    const second = occurrence(projectId);
    expect(await writer().write([first, second])).toMatchObject({ stored: 2, duplicates: 0, failed: 0 });
    expect(await writer().write([first])).toMatchObject({
      outcomes: ['duplicate'],
      stored: 0,
      duplicates: 1,
    });
    const records = await stream.readNewOccurrences(projectId);
    expect(records.map((record) => record.occurrence.uuid).sort()).toEqual([first.uuid, second.uuid].sort());
    const stored = await row(occurrenceKeys.occurrence(projectId, first.uuid));
    expect(stored).toMatchObject({ entity: 'occurrence', item_id: first.itemId, title: first.title });
    expect(String(stored?.codec)).toMatch(/^deflate:|^gzip$/);
  });

  it('one occurrence that cannot be stored fails alone', async () => {
    const projectId = await newProject();
    const good = occurrence(projectId);
    const bad = occurrence(projectId);
    const refusing = new Proxy(documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return (command: unknown) =>
          command instanceof PutCommand && (command.input.Item as { uuid?: string }).uuid === bad.uuid
            ? Promise.reject(new Error('ValidationException'))
            : target.send(command as never);
      },
    });
    const report = await writer(refusing).write([good, bad]);
    expect(report.outcomes[0]).toBe('stored');
    expect(report.outcomes[1]).toMatchObject({ error: expect.any(Error) });
    expect(await row(occurrenceKeys.occurrence(projectId, bad.uuid))).toBeUndefined();
  });
});

describe('the fold', () => {
  it('creates a new error as item #1, numbered, counted and listed from its own row', async () => {
    const projectId = await newProject();
    const first = occurrence(projectId, errorData({ person: { id: '7', username: 'ada' } }));
    const report = await folder().fold(await store([first]));
    expect(report).toMatchObject({ counted: 1, skipped: 0, steps: 1, itemsCreated: 1, stoppedAt: undefined });

    const created = await item(first.itemId);
    expect(created).toMatchObject({
      counter: 1,
      status: 'active',
      total_occurrences: 1,
      unique_people: 1,
      first_occurrence_id: first.uuid,
      title: first.title,
      GSI1SK: 1,
    });
    expect(created.seed_hours).toEqual({ [countBucket(first.receivedAt, 'hour')]: 1 });
    expect(await hourlyTotal(first.itemId, first.receivedAt)).toBe(1);
    expect(await environmentCount(projectId, first.receivedAt)).toBe(1);
    expect(await itemCounter(projectId)).toBe(1);
  });

  it('adds to an existing item in one update per step, with count rows', async () => {
    const projectId = await newProject();
    const first = occurrence(projectId);
    await folder().fold(await store([first]));
    const more = Array.from({ length: 30 }, () => occurrence(projectId));
    const report = await folder().fold(await store(more));
    expect(report).toMatchObject({ counted: 30, steps: 1, itemsCreated: 0 });
    expect(await item(first.itemId)).toMatchObject({ total_occurrences: 31, counter: 1 });
    expect(await hourlyTotal(first.itemId, first.receivedAt)).toBe(31);
    expect(await environmentCount(projectId, first.receivedAt)).toBe(31);
  });

  it('a stream batch delivered again after it was counted changes nothing', async () => {
    const projectId = await newProject();
    const batch = Array.from({ length: 20 }, (_, index) =>
      occurrence(projectId, errorData({ className: `E${index % 4}`, person: { id: String(index % 3) } })),
    );
    const records = await store(batch);
    await folder().fold(records);
    const again = await folder().fold(records);
    expect(again).toMatchObject({ counted: 0, skipped: 20, steps: 0 });
    for (const itemId of new Set(batch.map((o) => o.itemId))) {
      expect((await item(itemId)).total_occurrences).toBe(5);
      expect((await item(itemId)).unique_people).toBe(3);
    }
    expect(await environmentCount(projectId, batch[0]!.receivedAt)).toBe(20);
    expect(await itemCounter(projectId)).toBe(4);
  });

  it('a fold that dies after creating items and marking people, before its transaction, is exact on retry', async () => {
    const projectId = await newProject();
    const batch = Array.from({ length: 12 }, (_, index) =>
      occurrence(projectId, errorData({ className: `E${index % 3}`, person: { id: `u${index}` } })),
    );
    const records = await store(batch);
    let crashes = 1;
    const dying = await folder(
      crashingOnTransactions(() => crashes-- > 0),
      2,
    ).fold(records);
    expect(dying).toMatchObject({ counted: 0, stoppedAt: 0 });
    expect(dying.error).toBeInstanceOf(Error);
    // The items exist already (created outside the transaction), with their first counts.
    expect((await item(batch[0]!.itemId)).total_occurrences).toBe(4);

    const retried = await folder(documents, 2).fold(records);
    expect(retried).toMatchObject({ counted: 12, steps: 1, itemsCreated: 0 });
    for (const itemId of new Set(batch.map((o) => o.itemId))) {
      expect(await item(itemId)).toMatchObject({ total_occurrences: 4, unique_people: 4 });
      expect(await hourlyTotal(itemId, batch[0]!.receivedAt)).toBe(4);
    }
    expect(await environmentCount(projectId, batch[0]!.receivedAt)).toBe(12);
    // Three items, three numbers: the retry took none.
    expect(await itemCounter(projectId)).toBe(3);
  });

  it('a retried batch that grew (more records arrived) counts the new records only', async () => {
    const projectId = await newProject();
    const firstHalf = await store(Array.from({ length: 5 }, () => occurrence(projectId)));
    let crashes = 1;
    await folder(crashingOnTransactions(() => crashes-- > 0)).fold(firstHalf);
    const secondHalf = await store(Array.from({ length: 5 }, () => occurrence(projectId)));
    const report = await folder().fold([...firstHalf, ...secondHalf]);
    expect(report.counted).toBe(10);
    const { itemId, receivedAt } = firstHalf[0]!.occurrence;
    expect((await item(itemId)).total_occurrences).toBe(10);
    expect(await hourlyTotal(itemId, receivedAt)).toBe(10);
    expect(await environmentCount(projectId, receivedAt)).toBe(10);
  });

  it('a batch of many steps that fails in its second step resumes exactly, from the step or from the start', async () => {
    const projectId = await newProject();
    // 60 existing items: each record needs its item and two count rows, so a step holds ~33 items.
    const seeds = Array.from({ length: 60 }, (_, index) =>
      occurrence(projectId, errorData({ className: `K${index}` })),
    );
    await folder().fold(await store(seeds));
    const batch = seeds.map((seed) =>
      occurrence(projectId, errorData({ className: `K${seeds.indexOf(seed)}` })),
    );
    const records = await store(batch);

    let transactions = 0;
    const dying = await folder(crashingOnTransactions(() => ++transactions === 2)).fold(records);
    expect(dying.steps).toBe(1);
    expect(dying.stoppedAt).toBeGreaterThan(0);
    expect(dying.stoppedAt).toBeLessThan(60);

    // Lambda resumes at the reported record...
    const resumed = await folder().fold(records.slice(dying.stoppedAt));
    expect(resumed.counted).toBe(60 - dying.stoppedAt!);
    // ...and a retry of the whole batch (a timeout, say) skips what the ledger says is counted.
    const whole = await folder().fold(records);
    expect(whole).toMatchObject({ counted: 0, skipped: 60 });
    for (const seed of seeds) expect((await item(seed.itemId)).total_occurrences).toBe(2);
    expect(await environmentCount(projectId, batch[0]!.receivedAt)).toBe(120);
  });

  it('a retry resuming after the step that committed still skips the records an earlier attempt put in a new item', async () => {
    const projectId = await newProject();
    const batch = Array.from({ length: 10 }, () =>
      occurrence(projectId, errorData({ className: 'Resumed' })),
    );
    const records = await store(batch);
    // The first attempt creates the item with all ten records, then dies before its transaction.
    let crashes = 1;
    await folder(crashingOnTransactions(() => crashes-- > 0)).fold(records);
    expect((await item(batch[0]!.itemId)).total_occurrences).toBe(10);
    // A second attempt, planned shorter (other folds created items meanwhile), committed the
    // first four records; the next step failed, and Lambda resumes at record 4.
    await documents.send(
      new PutCommand({
        TableName: dynamo.tableNames.occurrences,
        Item: {
          ...occurrenceKeys.foldLedger(records[0]!.eventId),
          entity: 'fold',
          last_event_id: records[3]!.eventId,
        },
      }),
    );
    const resumed = await folder().fold(records.slice(4));
    expect(resumed).toMatchObject({ counted: 6, itemsCreated: 0 });
    expect((await item(batch[0]!.itemId)).total_occurrences).toBe(10);
  });

  it('60 parallel workers on one new error make one item with 60 occurrences and one number', async () => {
    const projectId = await newProject();
    const data = errorData({ className: 'ParallelError' });
    const occurrences = Array.from({ length: 60 }, () => occurrence(projectId, data));
    const reports = await Promise.all(
      occurrences.map((o) => writer(createDocumentClient(dynamo.client)).write([o])),
    );
    expect(reports.reduce((sum, report) => sum + report.stored, 0)).toBe(60);
    await folder().fold(await stream.readNewOccurrences(projectId));
    expect(await item(occurrences[0]!.itemId)).toMatchObject({ total_occurrences: 60, counter: 1 });
    expect(await itemCounter(projectId)).toBe(1);
  });

  it('two folds racing on the same items (two shards) count every occurrence and person once', async () => {
    const projectId = await newProject();
    const batch = Array.from({ length: 80 }, (_, index) =>
      occurrence(projectId, errorData({ className: `R${index % 4}`, person: { id: `p${index % 10}` } })),
    );
    const records = await store(batch);
    const odd = records.filter((_, index) => index % 2 === 1);
    const even = records.filter((_, index) => index % 2 === 0);
    const [a, b] = await Promise.all([
      folder(createDocumentClient(dynamo.client), 3).fold(odd),
      folder(createDocumentClient(dynamo.client), 3).fold(even),
    ]);
    expect(a.counted + b.counted).toBe(80);
    for (const itemId of new Set(batch.map((o) => o.itemId))) {
      // Each item saw 20 occurrences of 10 people (p0..p9 with index%4 fixed: 5 distinct or 10).
      const expectedPeople = new Set(batch.filter((o) => o.itemId === itemId).map((o) => o.person!.id)).size;
      expect(await item(itemId)).toMatchObject({ total_occurrences: 20, unique_people: expectedPeople });
    }
    expect(await environmentCount(projectId, batch[0]!.receivedAt)).toBe(80);
    // A lost creation race burns a number, never gives an item two.
    const counters = await Promise.all(
      [...new Set(batch.map((o) => o.itemId))].map(async (id) => (await item(id)).counter),
    );
    expect(new Set(counters).size).toBe(4);
  });

  it('a hot item hit by 100 new people counts each once: a few in its row, the rest marked', async () => {
    const projectId = await newProject();
    const data = (id: string) => errorData({ className: 'Crowded', person: { id } });
    const batch = Array.from({ length: 100 }, (_, index) => occurrence(projectId, data(`person-${index}`)));
    const records = await store(batch);
    await folder(documents, 16).fold(records);
    await folder(documents, 16).fold(records);
    const crowded = await item(batch[0]!.itemId);
    expect(crowded).toMatchObject({ total_occurrences: 100, unique_people: 100 });
    const inRow = crowded.people ?? new Set();
    expect(inRow.size).toBe(16);
    // The first 16 in stream order are in the item's row, every other one has a marker: never both.
    const firstInStream = records.slice(0, 16).map((record) => record.occurrence.person!.id);
    expect([...inRow].sort()).toEqual(firstInStream.map(personHash).sort());
    for (const { person } of batch) {
      const marker = await row(occurrenceKeys.itemPerson(crowded.id, person!.id));
      if (inRow.has(personHash(person!.id))) expect(marker).toBeUndefined();
      else expect(marker).toMatchObject({ person_id: person!.id });
    }

    // The same people again: known, from the row or from their markers.
    await folder(documents, 16).fold(
      await store(Array.from({ length: 100 }, (_, index) => occurrence(projectId, data(`person-${index}`)))),
    );
    expect(await item(batch[0]!.itemId)).toMatchObject({ total_occurrences: 200, unique_people: 100 });
  });

  it('an occurrence received before its item was resolved, counted after, leaves it resolved', async () => {
    const projectId = await newProject();
    const first = occurrence(projectId);
    await folder().fold(await store([first]));
    // Received a minute before the resolve, still waiting in the queue or the stream.
    const backlog = occurrence(projectId, errorData(), { receivedAt: Date.now() - 60_000 });
    const records = await store([backlog]);
    await items.applyUserChange(projectId, first.itemId, { status: 'resolved' }, Date.now());
    await folder().fold(records);
    expect(await item(first.itemId)).toMatchObject({ status: 'resolved', total_occurrences: 2 });
  });

  it('an occurrence reactivates a resolved item and raises its level, as conditions of the step', async () => {
    const projectId = await newProject();
    const first = occurrence(projectId, errorData({ level: 'warning' }));
    await folder().fold(await store([first]));
    await items.applyUserChange(projectId, first.itemId, { status: 'resolved' }, Date.now());
    const second = occurrence(projectId, errorData({ level: 'critical' }));
    await folder().fold(await store([second]));
    expect(await item(first.itemId)).toMatchObject({
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
    const ours = await newProject();
    const theirs = await newProject();
    const existing = occurrence(ours);
    await folder().fold(await store([existing]));

    const forged = colliding(theirs, existing.itemId, 3);
    const report = await folder().fold(await store(forged));
    expect(report).toMatchObject({ counted: 3, collisions: 3, itemsCreated: 1, stoppedAt: undefined });
    expect(await item(existing.itemId)).toMatchObject({ project_id: ours, total_occurrences: 1 });
    const movedId = collisionItemId(forged[0]!, 1);
    expect(await item(movedId)).toMatchObject({
      project_id: theirs,
      counter: 1,
      total_occurrences: 3,
      title: forged[0]!.title,
    });

    const later = colliding(theirs, existing.itemId, 1);
    expect(await folder().fold(await store(later))).toMatchObject({
      counted: 1,
      collisions: 1,
      itemsCreated: 0,
    });
    expect(await item(movedId)).toMatchObject({ total_occurrences: 4, counter: 1 });
    expect(await item(existing.itemId)).toMatchObject({ total_occurrences: 1 });
    expect(await environmentCount(theirs, later[0]!.receivedAt)).toBe(4);
    // Its instance names the item that counts it.
    expect(await row(occurrenceKeys.occurrence(theirs, later[0]!.uuid))).toMatchObject({ item_id: movedId });
  });

  it('the item update never counts into another project’s item, even when the item was read wrong', async () => {
    const ours = await newProject();
    const theirs = await newProject();
    const existing = occurrence(ours);
    await folder().fold(await store([existing]));
    const forged = colliding(theirs, existing.itemId, 2);
    const records = await store(forged);

    // The first read of the items says the item is theirs, as a stale or wrong read would.
    let lies = 1;
    const misreading = new Proxy(documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: unknown) => {
          const output = await target.send(command as never);
          if (command instanceof BatchGetCommand && lies > 0) {
            const rows = (output as { Responses?: Record<string, Record<string, unknown>[]> }).Responses?.[
              dynamo.tableNames.items
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
    const report = await folder(misreading).fold(records);
    expect(report).toMatchObject({ counted: 2, collisions: 2, stoppedAt: undefined });
    expect(report.retries).toBeGreaterThan(0);
    expect(await item(existing.itemId)).toMatchObject({ project_id: ours, total_occurrences: 1 });
    expect(await item(collisionItemId(forged[0]!, 1))).toMatchObject({
      project_id: theirs,
      total_occurrences: 2,
    });
  });
});

describe('the fold handler', () => {
  it('hands Lambda back the rest of a batch it has no time for, and fails the invocation on a failed step', async () => {
    const projectId = await newProject();
    const batch = Array.from({ length: 3 }, () => occurrence(projectId));
    await writer().write(batch);
    const records = (await stream.readNew()).filter(
      (record) => Number(record.dynamodb?.NewImage?.project_id?.N) === projectId,
    );
    const occurrenceRecords = records.filter(
      (record) => record.dynamodb?.NewImage?.entity?.S === 'occurrence',
    );
    expect(occurrenceRecords).toHaveLength(3);

    const outOfTime = await createFoldHandler({ folder: folder() })(records, () => 5_000);
    expect(outOfTime).toEqual({
      batchItemFailures: [{ itemIdentifier: occurrenceRecords[0]!.dynamodb!.SequenceNumber }],
    });

    const failing = createFoldHandler({ folder: folder(crashingOnTransactions(() => true)) });
    await expect(failing(records, () => 60_000)).rejects.toThrow('the function died here');

    expect(await createFoldHandler({ folder: folder() })(records, () => 60_000)).toEqual({
      batchItemFailures: [],
    });
    expect((await item(batch[0]!.itemId)).total_occurrences).toBe(3);
  });
});
