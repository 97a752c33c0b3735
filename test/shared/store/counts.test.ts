// An item's and an environment's counts for graphs, against DynamoDB Local: the count rows the fold
// adds to, plus the hours an item keeps in its own row (`seed_hours`) while hourly rows of that age live.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { DynamoDBCountRepository } from '#shared/store/counts';
import { itemKeys, type Key, occurrenceKeys } from '#shared/store/keys';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';
import { freshIds, NOW, type OccurrenceRows, occurrenceRows } from '../../support/occurrence-rows';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let counts: DynamoDBCountRepository;
let rows: OccurrenceRows;

const put: OccurrenceRows['put'] = (...args) => rows.put(...args);

beforeAll(async () => {
  dynamo = await startDynamoWithTables('counts');
  documents = createDocumentClient(dynamo.client);
  rows = occurrenceRows(documents, dynamo.tableNames);
  counts = new DynamoDBCountRepository(
    documents,
    { occurrences: dynamo.tableNames.occurrences, items: dynamo.tableNames.items },
    () => NOW,
  );
});

afterAll(async () => {
  await dynamo?.stop();
});

describe("an item's counts", () => {
  async function itemWithSeed(seedHours: Record<string, number> | undefined) {
    const { projectId, itemId } = freshIds();
    await put(dynamo.tableNames.items, {
      ...itemKeys.item(itemId),
      entity: 'item',
      id: itemId,
      project_id: projectId,
      seed_hours: seedHours,
    });
    const countRow = async (key: Key, count: number) => put(dynamo.tableNames.occurrences, { ...key, count });
    await Promise.all([
      countRow(occurrenceKeys.itemCount(itemId, 'hour', '2026-11-23T10'), 2),
      countRow(occurrenceKeys.itemCount(itemId, 'hour', '2026-11-23T12'), 7),
      countRow(occurrenceKeys.itemCount(itemId, 'day', '2026-11-23'), 9),
      countRow(occurrenceKeys.itemCount(itemId, 'day', '2026-11-24'), 1),
      countRow(occurrenceKeys.environmentCount(projectId, 'production', 'hour', '2026-11-23T10'), 11),
    ]);
    return { projectId, itemId };
  }

  const seed = {
    '2026-11-22T23': 4,
    '2026-11-23T10': 1,
    '2026-11-23T11': 3,
    '2026-11-25T00': 5,
  };

  it('per hour add the hours kept in the item row to the count rows', async () => {
    const { itemId } = await itemWithSeed(seed);
    const hours = await counts.list({ itemId }, 'hour', '2026-11-23T09', '2026-11-23T12');
    expect(Object.fromEntries(hours)).toEqual({ '2026-11-23T10': 3, '2026-11-23T11': 3, '2026-11-23T12': 7 });
    const early = await counts.list({ itemId }, 'hour', '2026-11-22T00', '2026-11-22T23');
    expect(Object.fromEntries(early)).toEqual({ '2026-11-22T23': 4 });
  });

  it('per day add the hours kept in the item row of each day', async () => {
    const { itemId } = await itemWithSeed(seed);
    const days = await counts.list({ itemId }, 'day', '2026-11-22', '2026-11-24');
    expect(Object.fromEntries(days)).toEqual({ '2026-11-22': 4, '2026-11-23': 13, '2026-11-24': 1 });
    const later = await counts.list({ itemId }, 'day', '2026-11-25', '2026-11-30');
    expect(Object.fromEntries(later)).toEqual({ '2026-11-25': 5 });
  });

  it('per hour leave out hours kept in the item row once hourly rows of that age have expired', async () => {
    const { itemId } = await itemWithSeed(seed);
    const later = new DynamoDBCountRepository(
      documents,
      { occurrences: dynamo.tableNames.occurrences, items: dynamo.tableNames.items },
      () => Date.parse('2026-12-28T11:30:00Z'),
    );
    // 35 days after 2026-11-23T11: that hour is still kept, the ones before it are not.
    const hours = await later.list({ itemId }, 'hour', '2026-11-22T00', '2026-11-23T11');
    expect(Object.fromEntries(hours)).toEqual({ '2026-11-23T10': 2, '2026-11-23T11': 3 });
    const days = await later.list({ itemId }, 'day', '2026-11-22', '2026-11-23');
    expect(Object.fromEntries(days)).toEqual({ '2026-11-22': 4, '2026-11-23': 13 });
  });

  it('are the count rows alone for an item without hours in its row', async () => {
    const { itemId } = await itemWithSeed(undefined);
    const hours = await counts.list({ itemId }, 'hour', '2026-11-23T00', '2026-11-23T23');
    expect(Object.fromEntries(hours)).toEqual({ '2026-11-23T10': 2, '2026-11-23T12': 7 });
  });

  it("leave an environment's counts as the count rows hold them", async () => {
    const { projectId } = await itemWithSeed(seed);
    const hours = await counts.list(
      { projectId, environment: 'production' },
      'hour',
      '2026-11-23T00',
      '2026-11-23T23',
    );
    expect(Object.fromEntries(hours)).toEqual({ '2026-11-23T10': 11 });
  });

  it('per hour are correct across an hour the item row and count rows both hold', async () => {
    const { itemId } = await itemWithSeed({ '2026-11-23T12': 1 });
    const hours = await counts.list({ itemId }, 'hour', '2026-11-23T12', '2026-11-23T12');
    expect(Object.fromEntries(hours)).toEqual({ '2026-11-23T12': 8 });
  });
});
