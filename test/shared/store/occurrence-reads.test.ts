// Reading occurrences and counts as the fold stores them, against DynamoDB Local: listings from pages
// (duplicates dropped, the first occurrence appended, cursors), payloads through their codec, rows
// past their expiry, and an item's counts with those kept in its own row. Also a change made by hand
// to an item the fold's transaction is holding.

import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { BadRequestError } from '#shared/errors';
import { planUserChange } from '#shared/items/rules';
import { logger } from '#shared/observability';
import { DynamoDBCountRepository } from '#shared/store/counts';
import { DynamoDBItemRepository } from '#shared/store/items';
import { itemKeys, type Key, occurrenceKeys } from '#shared/store/keys';
import {
  DynamoDBOccurrenceRepository,
  type ListedItem,
  type OccurrencePage,
} from '#shared/store/occurrences';
import { packUuids } from '#shared/store/pages';
import { DynamoDBPayloadCodec, MissingDictionaryError, type PayloadCodec } from '#shared/store/payload-codec';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

/** The clock of the count repository: graphs are read on 2026-11-25, within the hourly retention. */
const NOW = Date.parse('2026-11-25T12:00:00Z');

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let codec: DynamoDBPayloadCodec;
let occurrences: DynamoDBOccurrenceRepository;
let counts: DynamoDBCountRepository;
let nextId = 1;

const BASE = Date.UTC(2026, 10, 23, 10, 0, 0);
const EXPIRES_AT = Math.floor(BASE / 1000) + 90 * 86_400;

/** Ids of their own for each test, so tests share one table without seeing each other's rows. */
function freshIds() {
  const id = nextId++;
  return { projectId: 100 + id, itemId: 9_000_000 + id };
}

async function put(table: string, item: Record<string, unknown>): Promise<void> {
  await documents.send(new PutCommand({ TableName: table, Item: item }));
}

interface OccurrenceRow {
  projectId: number;
  itemId: number;
  uuid?: string;
  receivedAt?: number;
  personId?: string;
  codeVersion?: string;
  /** The payload's `data`; written gzip'd. */
  data?: Record<string, unknown>;
  /** `undefined` writes no codec attribute, as rows from before codecs. */
  codec?: string | undefined;
  payload?: Uint8Array;
  /** Epoch seconds; 90 days after BASE unless told. */
  expiresAt?: number;
}

/** An occurrence row as the storing worker writes it; returns its uuid. */
async function putOccurrence(row: OccurrenceRow): Promise<string> {
  const uuid = row.uuid ?? randomUUID();
  const receivedAt = row.receivedAt ?? BASE;
  const data = row.data ?? { uuid, body: { message: { body: `occurrence ${uuid}` } } };
  await put(dynamo.tableNames.occurrences, {
    ...occurrenceKeys.occurrence(row.projectId, uuid),
    entity: 'occurrence',
    uuid,
    project_id: row.projectId,
    item_id: row.itemId,
    timestamp: Math.floor(receivedAt / 1000),
    received_at: receivedAt,
    environment: 'production',
    platform: 'node',
    language: 'javascript',
    level: 'error',
    code_version: row.codeVersion,
    person_id: row.personId,
    title: 'TypeError: x is not a function',
    hash: 'h',
    grouping_method: 'trace',
    payload: row.payload ?? gzipSync(JSON.stringify(data)),
    codec: 'codec' in row ? row.codec : 'gzip',
    expires_at: row.expiresAt ?? EXPIRES_AT,
  });
  return uuid;
}

async function putPage(key: Key, projectId: number, uuids: string[]): Promise<void> {
  await put(dynamo.tableNames.occurrences, {
    ...key,
    entity: 'page',
    project_id: projectId,
    uuids: packUuids(uuids),
    expires_at: EXPIRES_AT,
  });
}

/** Every occurrence of a listing, page by page through its cursors. */
async function walk(
  fetchPage: (cursor: string | undefined) => Promise<OccurrencePage>,
  limit: number,
): Promise<{ uuids: string[]; pages: number }> {
  const uuids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fetchPage(cursor);
    pages++;
    // Only the last page may be short, and no page is empty.
    expect(page.occurrences.length).toBeGreaterThan(0);
    if (page.cursor) expect(page.occurrences).toHaveLength(limit);
    else expect(page.occurrences.length).toBeLessThanOrEqual(limit);
    uuids.push(...page.occurrences.map((occurrence) => occurrence.uuid));
    cursor = page.cursor;
    expect(pages).toBeLessThan(100);
  } while (cursor);
  return { uuids, pages };
}

/**
 * An item made of four fold steps, newest first, the way a retried step leaves it: the step at
 * +2 s wrote its page twice (under two tags, the retry holding fewer occurrences), and the step
 * at +1 s repeats one occurrence of a later page. The first occurrence is in no page.
 */
async function itemWithOverlappingPages() {
  const { projectId, itemId } = freshIds();
  const at = (seconds: number) => BASE + seconds * 1000;
  const occurrence = (seconds: number) => putOccurrence({ projectId, itemId, receivedAt: at(seconds) });
  const first = await occurrence(0);
  const [u1, u2, u3, u4, u5, u6, u7, u8, u9] = await Promise.all(
    [1, 1, 1, 2, 2, 2, 3, 3, 3].map((seconds) => occurrence(seconds)),
  );
  await Promise.all([
    putPage(occurrenceKeys.itemPage(itemId, at(3), 'step-c'), projectId, [u9!, u8!, u7!]),
    putPage(occurrenceKeys.itemPage(itemId, at(2), 'step-z'), projectId, [u6!, u5!]),
    putPage(occurrenceKeys.itemPage(itemId, at(2), 'step-b'), projectId, [u6!, u5!, u4!]),
    putPage(occurrenceKeys.itemPage(itemId, at(1), 'step-a'), projectId, [u3!, u4!, u2!, u1!]),
  ]);
  const item: ListedItem = { id: itemId, project_id: projectId, first_occurrence_id: first };
  return { item, projectId, expected: [u9, u8, u7, u6, u5, u4, u3, u2, u1, first] as string[] };
}

beforeAll(async () => {
  dynamo = await startDynamoWithTables('occurrence-reads');
  documents = createDocumentClient(dynamo.client);
  codec = new DynamoDBPayloadCodec(documents, dynamo.tableNames.occurrences);
  occurrences = new DynamoDBOccurrenceRepository(documents, dynamo.tableNames.occurrences, codec, () => NOW);
  counts = new DynamoDBCountRepository(
    documents,
    { occurrences: dynamo.tableNames.occurrences, items: dynamo.tableNames.items },
    () => NOW,
  );
});

afterAll(async () => {
  await dynamo?.stop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("an item's occurrences", () => {
  it('are its pages newest first, each occurrence once, then its first occurrence', async () => {
    const { item, expected } = await itemWithOverlappingPages();
    const page = await occurrences.listByItem(item, { limit: 50 });
    expect(page.occurrences.map((occurrence) => occurrence.uuid)).toEqual(expected);
    expect(page.cursor).toBeUndefined();
    expect(page.occurrences[0]).toMatchObject({ item_id: item.id, project_id: item.project_id });
  });

  it.each([1, 2, 3, 4, 9, 10])(
    'come through cursors %i at a time, each exactly once and in order',
    async (limit) => {
      const { item, expected } = await itemWithOverlappingPages();
      const { uuids, pages } = await walk((cursor) => occurrences.listByItem(item, { limit, cursor }), limit);
      expect(uuids).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
    },
  );

  it('list the first occurrence once when a page holds it too', async () => {
    const { projectId, itemId } = freshIds();
    const [first, second, third] = await Promise.all(
      [0, 1, 2].map((seconds) => putOccurrence({ projectId, itemId, receivedAt: BASE + seconds * 1000 })),
    );
    // The step that created the item held three occurrences, so it wrote a page of them.
    await putPage(occurrenceKeys.itemPage(itemId, BASE + 2000, 'step'), projectId, [third!, second!, first!]);
    const item = { id: itemId, project_id: projectId, first_occurrence_id: first! };
    for (const limit of [1, 2, 3, 10]) {
      const { uuids } = await walk((cursor) => occurrences.listByItem(item, { limit, cursor }), limit);
      expect(uuids).toEqual([third, second, first]);
    }
  });

  it('of an item created by one occurrence are that occurrence alone', async () => {
    const { projectId, itemId } = freshIds();
    const first = await putOccurrence({ projectId, itemId });
    const page = await occurrences.listByItem(
      // As a client may have spelled it: the listing finds the row under its canonical uuid.
      { id: itemId, project_id: projectId, first_occurrence_id: first.toUpperCase() },
      { limit: 20 },
    );
    expect(page.occurrences.map((occurrence) => occurrence.uuid)).toEqual([first]);
    expect(page.cursor).toBeUndefined();
  });

  it('leave out an occurrence whose row has expired, and pages still fill up', async () => {
    const { projectId, itemId } = freshIds();
    const [first, a, b, c] = await Promise.all(
      [0, 1, 1, 1].map((seconds) => putOccurrence({ projectId, itemId, receivedAt: BASE + seconds * 1000 })),
    );
    const expired = randomUUID();
    await putPage(occurrenceKeys.itemPage(itemId, BASE + 1000, 'step'), projectId, [c!, expired, b!, a!]);
    const item = { id: itemId, project_id: projectId, first_occurrence_id: first! };
    expect((await occurrences.listByItem(item, { limit: 20 })).occurrences.map((o) => o.uuid)).toEqual([
      c,
      b,
      a,
      first,
    ]);
    const { uuids } = await walk((cursor) => occurrences.listByItem(item, { limit: 2, cursor }), 2);
    expect(uuids).toEqual([c, b, a, first]);
  });

  it('leave out an expired first occurrence', async () => {
    const { projectId, itemId } = freshIds();
    const only = await putOccurrence({ projectId, itemId, receivedAt: BASE + 1000 });
    const other = await putOccurrence({ projectId, itemId, receivedAt: BASE + 1000 });
    await putPage(occurrenceKeys.itemPage(itemId, BASE + 1000, 'step'), projectId, [other, only]);
    const item = { id: itemId, project_id: projectId, first_occurrence_id: randomUUID() };
    const { uuids } = await walk((cursor) => occurrences.listByItem(item, { limit: 1, cursor }), 1);
    expect(uuids).toEqual([other, only]);
  });

  it('span more pages than one query reads', async () => {
    const { projectId, itemId } = freshIds();
    const first = await putOccurrence({ projectId, itemId, receivedAt: BASE });
    const expected: string[] = [];
    // 40 steps a second apart, two occurrences each; every page repeats the newest of the one before.
    let previous: string | undefined;
    const pages: Array<{ seconds: number; uuids: string[] }> = [];
    for (let step = 40; step >= 1; step--) {
      const newer = await putOccurrence({ projectId, itemId, receivedAt: BASE + step * 1000 });
      const older = await putOccurrence({ projectId, itemId, receivedAt: BASE + step * 1000 - 1 });
      expected.push(newer, older);
      pages.push({ seconds: step, uuids: previous ? [newer, older, previous] : [newer, older] });
      previous = newer;
    }
    await Promise.all(
      pages.map((page) =>
        putPage(occurrenceKeys.itemPage(itemId, BASE + page.seconds * 1000, 'step'), projectId, page.uuids),
      ),
    );
    expected.push(first);
    const item = { id: itemId, project_id: projectId, first_occurrence_id: first };
    expect((await occurrences.listByItem(item, { limit: 100 })).occurrences.map((o) => o.uuid)).toEqual(
      expected,
    );
    for (const limit of [7, 30]) {
      const { uuids } = await walk((cursor) => occurrences.listByItem(item, { limit, cursor }), limit);
      expect(uuids).toEqual(expected);
    }
  });

  it('are none for an item with no occurrence left', async () => {
    const { projectId, itemId } = freshIds();
    const page = await occurrences.listByItem(
      { id: itemId, project_id: projectId, first_occurrence_id: randomUUID() },
      { limit: 20 },
    );
    expect(page).toEqual({ occurrences: [], cursor: undefined });
  });
});

describe('rows that TTL has not deleted yet', () => {
  /** Expired an hour before NOW: DynamoDB deletes such rows days late, in no order. */
  const EXPIRED = Math.floor(NOW / 1000) - 3600;

  it('are left out of a listing once past their expiry, and pages still fill up', async () => {
    const { projectId, itemId } = freshIds();
    const at = (seconds: number) => BASE + seconds * 1000;
    const first = await putOccurrence({ projectId, itemId, receivedAt: at(0), expiresAt: EXPIRED });
    const [a, stale, b, c] = await Promise.all(
      [1, 1, 1, 1].map((seconds, index) =>
        putOccurrence({
          projectId,
          itemId,
          receivedAt: at(seconds),
          expiresAt: index === 1 ? EXPIRED : undefined,
        }),
      ),
    );
    await putPage(occurrenceKeys.itemPage(itemId, at(1), 'step'), projectId, [c!, b!, stale!, a!]);
    const item = { id: itemId, project_id: projectId, first_occurrence_id: first };
    expect((await occurrences.listByItem(item, { limit: 20 })).occurrences.map((o) => o.uuid)).toEqual([
      c,
      b,
      a,
    ]);
    const { uuids } = await walk((cursor) => occurrences.listByItem(item, { limit: 2, cursor }), 2);
    expect(uuids).toEqual([c, b, a]);
  });

  it('are not found by uuid once past their expiry, and are until then', async () => {
    const { projectId, itemId } = freshIds();
    const expiresAt = Math.floor(NOW / 1000) + 60;
    const uuid = await putOccurrence({ projectId, itemId, expiresAt });
    const at = (ms: number) =>
      new DynamoDBOccurrenceRepository(documents, dynamo.tableNames.occurrences, codec, () => ms);
    expect((await at(NOW).get(projectId, uuid))?.uuid).toBe(uuid);
    expect(await at(expiresAt * 1000).get(projectId, uuid)).toBeUndefined();
    expect(await at(NOW + 86_400_000).get(projectId, uuid)).toBeUndefined();
  });
});

describe('an occurrence whose payload cannot be read', () => {
  /** An item whose middle occurrence was deflated against a dictionary that is not in the table. */
  async function itemWithUnreadableOccurrence(expiresAt?: number) {
    const { projectId, itemId } = freshIds();
    const at = (seconds: number) => BASE + seconds * 1000;
    const first = await putOccurrence({ projectId, itemId, receivedAt: at(0) });
    const older = await putOccurrence({ projectId, itemId, receivedAt: at(1) });
    const unreadable = await putOccurrence({
      projectId,
      itemId,
      receivedAt: at(1),
      payload: new Uint8Array([1, 2, 3]),
      codec: 'deflate:2020-01-01',
      expiresAt,
    });
    const newer = await putOccurrence({ projectId, itemId, receivedAt: at(1) });
    await putPage(occurrenceKeys.itemPage(itemId, at(1), 'step'), projectId, [newer, unreadable, older]);
    const item = { id: itemId, project_id: projectId, first_occurrence_id: first };
    return { item, projectId, unreadable, readable: [newer, older, first] };
  }

  it('is left out of a listing and logged, and pages still fill up', async () => {
    const { item, projectId, unreadable, readable } = await itemWithUnreadableOccurrence();
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => {});
    const page = await occurrences.listByItem(item, { limit: 20 });
    expect(page.occurrences.map((o) => o.uuid)).toEqual(readable);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('cannot be read'),
      expect.objectContaining({ uuid: unreadable, projectId, error: expect.any(MissingDictionaryError) }),
    );
    const { uuids } = await walk((cursor) => occurrences.listByItem(item, { limit: 1, cursor }), 1);
    expect(uuids).toEqual(readable);
  });

  it('fails a read by its uuid while it has not expired: its dictionary should be there', async () => {
    const { projectId, unreadable } = await itemWithUnreadableOccurrence();
    await expect(occurrences.get(projectId, unreadable)).rejects.toThrow(MissingDictionaryError);
  });

  it('is not found by its uuid once expired, its dictionary gone with it', async () => {
    const { projectId, unreadable, item, readable } = await itemWithUnreadableOccurrence(
      Math.floor(NOW / 1000) - 60,
    );
    const warn = vi.spyOn(logger, 'warn');
    expect(await occurrences.get(projectId, unreadable)).toBeUndefined();
    expect((await occurrences.listByItem(item, { limit: 20 })).occurrences.map((o) => o.uuid)).toEqual(
      readable,
    );
    expect(warn).not.toHaveBeenCalled();
  });

  it('fails the listing when reading its dictionary fails: that is no fault of the row', async () => {
    const { item } = await itemWithUnreadableOccurrence();
    const throttled = new Error('Rate exceeded');
    const failing: PayloadCodec = {
      encode: (requests) => codec.encode(requests),
      decode: (projectId, payload, name) =>
        name?.startsWith('deflate:') ? Promise.reject(throttled) : codec.decode(projectId, payload, name),
    };
    const reader = new DynamoDBOccurrenceRepository(
      documents,
      dynamo.tableNames.occurrences,
      failing,
      () => NOW,
    );
    await expect(reader.listByItem(item, { limit: 20 })).rejects.toBe(throttled);
  });
});

describe("a person's occurrences", () => {
  it('are their pages newest first, each occurrence once, and no one else’s', async () => {
    const { projectId, itemId } = freshIds();
    const otherItem = itemId + 500_000;
    const at = (seconds: number) => BASE + seconds * 1000;
    const [p1, p2, p3, p4, p5] = await Promise.all(
      [1, 1, 2, 2, 3].map((seconds, index) =>
        putOccurrence({
          projectId,
          itemId: index % 2 === 0 ? itemId : otherItem,
          receivedAt: at(seconds),
          personId: 'alice',
        }),
      ),
    );
    const bobs = await putOccurrence({ projectId, itemId, receivedAt: at(3), personId: 'bob' });
    await Promise.all([
      putPage(occurrenceKeys.personPage(projectId, 'alice', at(3), 'step-c'), projectId, [p5!, p4!]),
      putPage(occurrenceKeys.personPage(projectId, 'alice', at(2), 'step-b'), projectId, [p4!, p3!]),
      putPage(occurrenceKeys.personPage(projectId, 'alice', at(1), 'step-a'), projectId, [p2!, p1!]),
      putPage(occurrenceKeys.personPage(projectId, 'bob', at(3), 'step-c'), projectId, [bobs]),
      // Another project's person of the same id.
      putPage(occurrenceKeys.personPage(projectId + 1, 'alice', at(3), 'step-c'), projectId + 1, [bobs]),
    ]);
    const expected = [p5, p4, p3, p2, p1];
    const page = await occurrences.listByPerson(projectId, 'alice', { limit: 20 });
    expect(page.occurrences.map((occurrence) => occurrence.uuid)).toEqual(expected);
    expect(page.occurrences.every((occurrence) => occurrence.person_id === 'alice')).toBe(true);
    for (const limit of [1, 2, 3]) {
      const { uuids } = await walk(
        (cursor) => occurrences.listByPerson(projectId, 'alice', { limit, cursor }),
        limit,
      );
      expect(uuids).toEqual(expected);
    }
    expect((await occurrences.listByPerson(projectId, 'carol', { limit: 20 })).occurrences).toEqual([]);
  });
});

describe('a page cursor', () => {
  it('that is not one of ours, or is another listing’s, is refused', async () => {
    const { item, projectId } = await itemWithOverlappingPages();
    const { cursor } = await occurrences.listByItem(item, { limit: 2 });
    expect(cursor).toBeDefined();
    const otherItem = { ...item, id: item.id + 1 };
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const refused = [
      () => occurrences.listByItem(item, { limit: 2, cursor: 'not a cursor' }),
      () => occurrences.listByItem(item, { limit: 2, cursor: forged(['a list']) }),
      () => occurrences.listByItem(item, { limit: 2, cursor: forged({ p: 'ITEM#1#OCCS', k: 'x', o: 0 }) }),
      () => occurrences.listByItem(otherItem, { limit: 2, cursor }),
      () => occurrences.listByPerson(projectId, 'alice', { limit: 2, cursor }),
    ];
    for (const attempt of refused) await expect(attempt()).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe('an occurrence read by its uuid', () => {
  it('has its gzip payload decoded, with or without a codec named', async () => {
    const { projectId, itemId } = freshIds();
    const data = { environment: 'production', body: { message: { body: 'hello' } }, custom: { n: 1 } };
    const named = await putOccurrence({ projectId, itemId, data, codec: 'gzip', codeVersion: 'v1.2' });
    const older = await putOccurrence({ projectId, itemId, data, codec: undefined, personId: 'alice' });
    expect(await occurrences.get(projectId, named)).toEqual({
      uuid: named,
      project_id: projectId,
      item_id: itemId,
      timestamp: Math.floor(BASE / 1000),
      received_at: BASE,
      environment: 'production',
      level: 'error',
      code_version: 'v1.2',
      person_id: null,
      payload_truncated: false,
      data,
    });
    expect(await occurrences.get(projectId, older)).toMatchObject({
      uuid: older,
      code_version: null,
      person_id: 'alice',
      data,
    });
  });

  it('has a payload deflated against its project’s dictionary decoded', async () => {
    const { projectId, itemId } = freshIds();
    const data = {
      environment: 'production',
      body: { message: { body: 'deflated' } },
      server: { host: 'a' },
    };
    const [encoded] = await codec.encode([
      { projectId, itemId, receivedAt: BASE, json: JSON.stringify(data) },
    ]);
    const uuid = await putOccurrence({ projectId, itemId, payload: encoded!.payload, codec: encoded!.codec });
    // A fresh codec: the dictionary comes from the table, not from the encoder's memory.
    const reader = new DynamoDBOccurrenceRepository(
      documents,
      dynamo.tableNames.occurrences,
      new DynamoDBPayloadCodec(documents, dynamo.tableNames.occurrences),
    );
    expect((await reader.get(projectId, uuid))?.data).toEqual(data);
  });

  it('is found however its uuid is spelled, and only in its project', async () => {
    const { projectId, itemId } = freshIds();
    const uuid = await putOccurrence({ projectId, itemId });
    expect((await occurrences.get(projectId, uuid.toUpperCase()))?.uuid).toBe(uuid);
    expect((await occurrences.get(projectId, uuid.replaceAll('-', '')))?.uuid).toBe(uuid);
    expect(await occurrences.get(projectId + 1, uuid)).toBeUndefined();
    expect(await occurrences.get(projectId, randomUUID())).toBeUndefined();
  });
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

describe('a change made by hand to an item the fold is writing', () => {
  /** A document client whose first `conflicts` UpdateItems fail as they do while a transaction holds the item. */
  function conflictingClient(conflicts: number) {
    const client = createDocumentClient(dynamo.client);
    const send = client.send.bind(client) as (command: object) => Promise<unknown>;
    let updates = 0;
    client.send = (async (command: object) => {
      if (command instanceof UpdateCommand && ++updates <= conflicts) {
        throw new TransactionConflictException({
          message: 'Transaction is ongoing for the item',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return send(command);
    }) as typeof client.send;
    return { client, updates: () => updates };
  }

  async function activeItem() {
    const { projectId, itemId } = freshIds();
    await put(dynamo.tableNames.items, {
      ...itemKeys.item(itemId),
      entity: 'item',
      id: itemId,
      project_id: projectId,
      environment: 'production',
      hash: 'h',
      status: 'active',
    });
    return { projectId, itemId };
  }

  it('goes through once the transaction is done, within five tries', async () => {
    const { projectId, itemId } = await activeItem();
    const conflicting = conflictingClient(4);
    const items = new DynamoDBItemRepository(conflicting.client, dynamo.tableNames.items);

    const changed = await items.applyUserChange(
      planUserChange(projectId, itemId, { status: 'resolved' }, NOW),
    );

    expect(changed).toMatchObject({ id: itemId, status: 'resolved', resolved_timestamp: NOW / 1000 });
    expect(conflicting.updates()).toBe(5);
    expect((await new DynamoDBItemRepository(documents, dynamo.tableNames.items).get(itemId))?.status).toBe(
      'resolved',
    );
  });

  it('fails after five conflicts, and changes nothing', async () => {
    const { projectId, itemId } = await activeItem();
    const conflicting = conflictingClient(5);
    const items = new DynamoDBItemRepository(conflicting.client, dynamo.tableNames.items);

    await expect(
      items.applyUserChange(planUserChange(projectId, itemId, { status: 'muted' }, NOW)),
    ).rejects.toBeInstanceOf(TransactionConflictException);
    expect(conflicting.updates()).toBe(5);
    expect((await new DynamoDBItemRepository(documents, dynamo.tableNames.items).get(itemId))?.status).toBe(
      'active',
    );
  });
});
