// Reading occurrences as the fold lists them, against DynamoDB Local: listings from pages (duplicates
// dropped, the first occurrence appended, cursors), payloads through their codec, rows past their
// expiry, and one occurrence read by its uuid.
// Over 400 lines on purpose: one repository's reads, whose cases share the pages they build and one
// DynamoDB Local; split by module, not by case.

import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { BadRequestError } from '#shared/errors';
import { logger } from '#shared/observability';
import { occurrenceKeys } from '#shared/store/keys';
import { DynamoDBOccurrenceRepository, type ListedItem } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec, MissingDictionaryError, type PayloadCodec } from '#shared/store/payload-codec';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';
import {
  BASE,
  freshIds,
  NOW,
  type OccurrenceRows,
  occurrenceRows,
  walk,
} from '../../support/occurrence-rows';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let codec: DynamoDBPayloadCodec;
let occurrences: DynamoDBOccurrenceRepository;
let rows: OccurrenceRows;

const putOccurrence: OccurrenceRows['putOccurrence'] = (row) => rows.putOccurrence(row);
const putPage: OccurrenceRows['putPage'] = (...args) => rows.putPage(...args);

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
  dynamo = await startDynamoWithTables('occurrences');
  documents = createDocumentClient(dynamo.client);
  rows = occurrenceRows(documents, dynamo.tableNames);
  codec = new DynamoDBPayloadCodec(documents, dynamo.tableNames.occurrences);
  occurrences = new DynamoDBOccurrenceRepository(documents, dynamo.tableNames.occurrences, codec, () => NOW);
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
