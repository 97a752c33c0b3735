// Exactly-once grouping against DynamoDB Local: redelivery, duplicates, crashes and parallel workers.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { DynamoDBGroupingStore } from '#shared/store/grouping-store';
import { DynamoDBItemRepository } from '#shared/store/items';
import { countBucket, itemKeys, occurrenceKeys, projectKeys } from '#shared/store/keys';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';
import { errorData, occurrence } from '../../support/occurrences';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let projects: DynamoDBProjectRepository;
let items: DynamoDBItemRepository;

function storeWith(client: DynamoDBDocumentClient = documents) {
  return new DynamoDBGroupingStore(
    client,
    { items: dynamo.tableNames.items, occurrences: dynamo.tableNames.occurrences },
    new DynamoDBItemRepository(client, dynamo.tableNames.items),
    new DynamoDBProjectRepository(client, dynamo.tableNames.projects),
  );
}

async function newProject(): Promise<number> {
  const project = await projects.createProject({
    name: `p-${Math.random()}`,
    groupingVersion: 2,
    now: Date.now(),
  });
  return project.projectId;
}

async function count(key: { PK: string; SK: string }): Promise<number | undefined> {
  const result = await documents.send(new GetCommand({ TableName: dynamo.tableNames.occurrences, Key: key }));
  return result.Item?.count as number | undefined;
}

beforeAll(async () => {
  dynamo = await startDynamoWithTables('grouping');
  documents = createDocumentClient(dynamo.client);
  projects = new DynamoDBProjectRepository(documents, dynamo.tableNames.projects);
  items = new DynamoDBItemRepository(documents, dynamo.tableNames.items);
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('grouping store', () => {
  it('stores a new error as item #1 with its occurrence and counts', async () => {
    const projectId = await newProject();
    const first = occurrence(projectId);
    const report = await storeWith().write([first]);
    expect(report).toMatchObject({ stored: 1, duplicates: 0 });

    const item = await items.get(first.itemId, { consistent: true });
    expect(item).toMatchObject({
      counter: 1,
      total_occurrences: 1,
      status: 'active',
      title: 'TypeError: x is not a function',
      first_occurrence_id: first.uuid,
      last_occurrence_id: first.uuid,
    });
    expect(await items.findByCounter(projectId, 1)).toMatchObject({ id: first.itemId });
    expect(
      await count(occurrenceKeys.itemCount(first.itemId, 'hour', countBucket(first.receivedAt, 'hour'))),
    ).toBe(1);
    expect(
      await count(
        occurrenceKeys.environmentCount(projectId, 'production', 'day', countBucket(first.receivedAt, 'day')),
      ),
    ).toBe(1);
  });

  it('an occurrence delivered twice counts once', async () => {
    const projectId = await newProject();
    const once = occurrence(projectId);
    await storeWith().write([once]);
    const again = await storeWith().write([once, once]);
    expect(again).toMatchObject({ stored: 0, duplicates: 2 });
    expect((await items.get(once.itemId, { consistent: true }))?.total_occurrences).toBe(1);
  });

  it('the same batch delivered twice leaves every count exact', async () => {
    const projectId = await newProject();
    const batch = [
      ...Array.from({ length: 6 }, () => occurrence(projectId, errorData({ className: 'TypeError' }))),
      ...Array.from({ length: 4 }, () => occurrence(projectId, errorData({ className: 'RangeError' }))),
    ];
    await storeWith().write(batch);
    await storeWith().write(batch);
    const typeError = await items.get(batch[0]!.itemId, { consistent: true });
    const rangeError = await items.get(batch[9]!.itemId, { consistent: true });
    expect(typeError?.total_occurrences).toBe(6);
    expect(rangeError?.total_occurrences).toBe(4);
    expect([typeError?.counter, rangeError?.counter].sort()).toEqual([1, 2]);
    const bucket = countBucket(batch[0]!.receivedAt, 'hour');
    expect(await count(occurrenceKeys.environmentCount(projectId, 'production', 'hour', bucket))).toBe(10);
  });

  it('a worker that dies between writes and is redelivered leaves every count exact', async () => {
    const projectId = await newProject();
    // 30 distinct items need more than one transaction; the worker dies after the first commits.
    const batch = Array.from({ length: 30 }, (_, index) =>
      occurrence(projectId, errorData({ className: `Error${index}` })),
    );
    let transactions = 0;
    const dying = new Proxy(documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: { constructor: { name: string } }) => {
          if (command.constructor.name === 'TransactWriteCommand' && ++transactions === 2) {
            throw new Error('the worker died');
          }
          return target.send(command as never);
        };
      },
    });
    await expect(storeWith(dying).write(batch)).rejects.toThrow('the worker died');
    const redelivered = await storeWith().write(batch);
    expect(redelivered.duplicates).toBeGreaterThan(0);
    expect(redelivered.stored + redelivered.duplicates).toBe(30);

    const stored = await items.getMany(
      batch.map((entry) => entry.itemId),
      { consistent: true },
    );
    expect([...stored.values()].map((item) => item.total_occurrences)).toEqual(Array(30).fill(1));
    expect(new Set([...stored.values()].map((item) => item.counter)).size).toBe(30);
    const bucket = countBucket(batch[0]!.receivedAt, 'day');
    expect(await count(occurrenceKeys.environmentCount(projectId, 'production', 'day', bucket))).toBe(30);
  });

  it('an item whose writer died before numbering it is numbered when its occurrence comes back', async () => {
    const projectId = await newProject();
    const orphaned = occurrence(projectId, errorData({ className: 'OrphanError' }));
    const numberingFails = new Proxy(documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: { constructor: { name: string }; input: { UpdateExpression?: string } }) => {
          if (
            command.constructor.name === 'UpdateCommand' &&
            command.input.UpdateExpression?.includes('#counter =')
          ) {
            throw new Error('the worker died before numbering');
          }
          return target.send(command as never);
        };
      },
    });
    await expect(storeWith(numberingFails).write([orphaned])).rejects.toThrow('before numbering');
    expect((await items.get(orphaned.itemId, { consistent: true }))?.counter).toBeNull();

    // SQS brings the message back after its visibility timeout (3 minutes in AWS).
    const later = new DynamoDBGroupingStore(
      documents,
      { items: dynamo.tableNames.items, occurrences: dynamo.tableNames.occurrences },
      items,
      projects,
      { now: () => Date.now() + 180_000 },
    );
    expect(await later.write([orphaned])).toMatchObject({ stored: 0, duplicates: 1 });
    // The number the dead writer took is lost (a gap); the item gets the next one, and only one.
    expect(await items.get(orphaned.itemId, { consistent: true })).toMatchObject({
      counter: 2,
      total_occurrences: 1,
    });
    expect(await items.findByCounter(projectId, 2)).toMatchObject({ id: orphaned.itemId });
  });

  it('60 parallel workers on one new error make one item with 60 occurrences and one number', async () => {
    const projectId = await newProject();
    const posts = Array.from({ length: 60 }, () => occurrence(projectId));
    const reports = await Promise.all(posts.map((post) => storeWith().write([post])));
    expect(reports.reduce((sum, report) => sum + report.stored, 0)).toBe(60);

    const item = await items.get(posts[0]!.itemId, { consistent: true });
    expect(item).toMatchObject({ total_occurrences: 60, counter: 1 });
    const project = await documents.send(
      new GetCommand({ TableName: dynamo.tableNames.projects, Key: projectKeys.project(projectId) }),
    );
    expect(project.Item?.item_counter).toBe(1);
    const listed = await documents.send(
      new QueryCommand({
        TableName: dynamo.tableNames.items,
        IndexName: 'ByProject',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': itemKeys.byProjectPartition(projectId) },
      }),
    );
    expect(listed.Items).toHaveLength(1);
  });

  it('a hot item hitting 100 new people in one batch counts every occurrence and person once', async () => {
    const projectId = await newProject();
    const batch = Array.from({ length: 100 }, (_, index) =>
      occurrence(projectId, errorData({ person: { id: `user-${index}` } })),
    );
    const report = await storeWith().write(batch);
    expect(report).toMatchObject({ stored: 100, duplicates: 0 });
    expect(await items.get(batch[0]!.itemId, { consistent: true })).toMatchObject({
      total_occurrences: 100,
      unique_people: 100,
    });
  });

  it('a hot item in one large batch is written in slices and counted exactly', async () => {
    const projectId = await newProject();
    const batch = Array.from({ length: 250 }, () => occurrence(projectId));
    const report = await storeWith().write(batch);
    expect(report.stored).toBe(250);
    expect((await items.get(batch[0]!.itemId, { consistent: true }))?.total_occurrences).toBe(250);
  });
});
