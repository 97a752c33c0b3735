// The search indexer on DynamoDB Local: real occurrences stored and folded into items, the items
// table's real stream handed to the indexer, the DynamoDB engine read back. Writes to the search table
// are counted where they leave the document client.
import { randomUUID } from 'node:crypto';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ItemData } from '#shared/domain/payload';
import { planUserChange } from '#shared/items/rules';
import { emptyFacets, FACET_NAMES, LAST_SEEN_STEP_SECONDS } from '#shared/search/document';
import { createSearchIndexer, indexItems, MAX_OCCURRENCES_PER_ITEM } from '#shared/search/indexer';
import type { SearchQuery, SearchTerm } from '#shared/search/query';
import { toItemRecord } from '#shared/store/items';
import { itemKeys, occurrenceKeys, searchKeys } from '#shared/store/keys';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { itemSize, KILOBYTE } from '../../../bench/item-size';
import { type FoldTables, openFoldTables } from '../../support/fold-tables';
import { type ItemsStream, openItemsStream } from '../../support/items-stream';
import { errorData, occurrence } from '../../support/occurrences';

let tables: FoldTables;
let stream: ItemsStream;
let searchTable: string;
/**
 * Writes of items' rows in the search table since the last reset (the version row's bumps left out):
 * `ENTRY` for a row put whole (document and facets), `DOCUMENT` or `FACETS` for one part set alone.
 */
let searchWrites: Array<'ENTRY' | 'DOCUMENT' | 'FACETS'> = [];
/** Reads of items' entries in the search table since the last reset (keys asked for). */
let searchReads = 0;
/** When set, every write to the search table fails as a throttled or broken call would. */
let failWrites = false;

function countingClient(documents: DynamoDBDocumentClient): DynamoDBDocumentClient {
  return new Proxy(documents, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: unknown) => {
        if (command instanceof BatchWriteCommand || command instanceof UpdateCommand) {
          if (failWrites) return Promise.reject(new Error('the search table refused the write'));
        }
        if (command instanceof BatchGetCommand) {
          searchReads += command.input.RequestItems?.[searchTable]?.Keys?.length ?? 0;
        }
        if (command instanceof BatchWriteCommand) {
          const requests = (command.input as BatchWriteCommandInput).RequestItems?.[searchTable] ?? [];
          for (const request of requests) {
            const row = request.PutRequest?.Item ?? {};
            searchWrites.push(row.d !== undefined && row.f !== undefined ? 'ENTRY' : 'DOCUMENT');
          }
        }
        if (command instanceof UpdateCommand && !String(command.input.Key?.PK).endsWith('#VERSIONS')) {
          searchWrites.push(command.input.UpdateExpression?.includes('SET d ') ? 'DOCUMENT' : 'FACETS');
        }
        return target.send(command as never);
      };
    },
  });
}

let engine: DynamoDBSearchIndex;

beforeAll(async () => {
  tables = await openFoldTables('indexer');
  // Every declared table is created; the fold's helper names only its own.
  searchTable = (tables.dynamo.tableNames as Record<string, string>).search!;
  stream = await openItemsStream(
    tables.dynamo.client,
    tables.dynamo.streamsClient,
    tables.dynamo.tableNames.items,
  );
  engine = new DynamoDBSearchIndex(countingClient(tables.documents), searchTable);
}, 60_000);

afterAll(async () => {
  await tables?.stop();
});

beforeEach(() => {
  searchWrites = [];
  searchReads = 0;
  failWrites = false;
});

/** The indexer as its handler builds it. */
function indexer() {
  return createSearchIndexer({
    engine,
    occurrences: new DynamoDBOccurrenceRepository(
      tables.documents,
      tables.dynamo.tableNames.occurrences,
      new DynamoDBPayloadCodec(tables.documents, tables.dynamo.tableNames.occurrences),
    ),
  });
}

/** Stores and folds each payload as its own fold step; the items' records from the stream. */
async function steps(projectId: number, payloads: Array<{ data: ItemData; receivedAt?: number }>) {
  for (const { data, receivedAt } of payloads) {
    await tables.folder().fold(await tables.store([occurrence(projectId, data, { receivedAt })]));
  }
  return stream.readNew(projectId);
}

const term = (value: SearchTerm): SearchTerm => value;
const words = (...values: string[]): SearchQuery => ({
  terms: values.map((value) => term({ kind: 'word', value, negated: false })),
});

async function found(projectId: number, query: SearchQuery): Promise<number[]> {
  const { candidates } = await engine.candidates(projectId, query, { limit: 100 });
  return candidates.map((candidate) => candidate.item_id);
}

const itemIdOf = (records: DynamoDBRecord[]) => Number(records[0]!.dynamodb!.NewImage!.id!.N);

/** The search table's rows of a project, sorted: what a redelivery must leave as it was. */
async function searchRows(projectId: number) {
  const { Items = [] } = await tables.documents.send(
    new ScanCommand({ TableName: searchTable, ConsistentRead: true }),
  );
  // Items' entries: the project's version row is bumped by every write, the same rows or not.
  return Items.filter(
    (row) => String(row.PK).startsWith(`SEARCH#${projectId}#`) && !String(row.PK).endsWith('#VERSIONS'),
  ).sort((a, b) => `${a.PK}|${a.SK}`.localeCompare(`${b.PK}|${b.SK}`));
}

/** The start of the step before the current one, in milliseconds: times within it round to it. */
const stepStartMs = () =>
  (Math.floor(Date.now() / 1000 / LAST_SEEN_STEP_SECONDS) - 1) * LAST_SEEN_STEP_SECONDS * 1000;

describe('the search indexer', () => {
  it('a new error is found by a fragment of its class name, with its host', async () => {
    const projectId = await tables.newProject();
    const records = await steps(projectId, [
      {
        data: errorData({ className: 'UnicornEncodeError', server: { host: 'web-7' } } as Partial<ItemData>),
      },
    ]);
    expect(await indexer()(records)).toEqual({ batchItemFailures: [] });
    // A new item has no entry yet: the indexer writes it without reading the index first.
    expect(searchReads).toBe(0);

    const itemId = itemIdOf(records);
    expect(await found(projectId, words('unicorn'))).toEqual([itemId]);
    expect(await found(projectId, words('encode', 'error'))).toEqual([itemId]);
    expect(await found(projectId, words('zebra'))).toEqual([]);
    expect((await engine.readFacets(projectId, [itemId])).get(itemId)).toEqual({
      ...emptyFacets(),
      hosts: ['web-7'],
      files: ['/var/task/src/orders.js', '/var/task/src/server.js'],
    });
    expect(searchWrites).toEqual(['ENTRY']);
  });

  it("a new error's index entry is one row under 1 KB, written once, with everything its occurrence carried", async () => {
    const projectId = await tables.newProject();
    // A full occurrence: a host, a context, a code version, a person, eight frames of long paths.
    const files = [
      'router/layer',
      'router/route',
      'router/index',
      'application',
      'express',
      'view',
      'request',
      'response',
    ];
    const data = errorData({
      className: 'CheckoutTimeoutError',
      message: 'payment provider did not answer within 30000 ms',
      server: { host: 'ip-10-0-12-34.eu-west-1.compute.internal' },
      context: 'checkout#create',
      code_version: '3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39',
      person: { id: '4242', username: 'alice', email: 'alice@example.com' },
      body: {
        trace: {
          exception: { class: 'CheckoutTimeoutError', message: 'payment provider did not answer' },
          frames: files.map((file, at) => ({
            filename: `/var/task/node_modules/express/lib/${file}.js`,
            lineno: at + 1,
            method: 'handle',
          })),
        },
      },
    } as Partial<ItemData>);
    const records = await steps(projectId, [{ data }]);
    expect(await indexer()(records)).toEqual({ batchItemFailures: [] });

    const itemId = itemIdOf(records);
    const rows = await searchRows(projectId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual({
      PK: expect.any(String),
      SK: expect.any(String),
      d: expect.any(String),
      f: expect.any(String),
    });
    expect(itemSize(rows[0]!)).toBeLessThan(KILOBYTE);
    expect(searchWrites).toEqual(['ENTRY']);
    const facets = (await engine.readFacets(projectId, [itemId])).get(itemId)!;
    expect(facets.files).toHaveLength(8);
    expect(facets.hosts).toEqual(['ip-10-0-12-34.eu-west-1.compute.internal']);
    expect(facets.emails).toEqual(['alice@example.com']);
    const byHost: SearchQuery = {
      terms: [term({ kind: 'text', qualifier: 'host', value: 'ip-10-0-12', negated: false })],
    };
    expect(await found(projectId, byHost)).toEqual([itemId]);
  });

  it('resolving an item moves its document to resolved, for one write of its entry', async () => {
    const projectId = await tables.newProject();
    const records = await steps(projectId, [{ data: errorData({ className: 'ResolvableError' }) }]);
    await indexer()(records);
    const itemId = itemIdOf(records);
    const active: SearchQuery = { terms: [term({ kind: 'status', value: 'active', negated: false })] };
    const resolved: SearchQuery = { terms: [term({ kind: 'status', value: 'resolved', negated: false })] };
    expect(await found(projectId, active)).toEqual([itemId]);

    await tables.items.applyUserChange(planUserChange(projectId, itemId, { status: 'resolved' }, Date.now()));
    searchWrites = [];
    expect(await indexer()(await stream.readNew(projectId))).toEqual({ batchItemFailures: [] });

    expect(await found(projectId, active)).toEqual([]);
    expect(await found(projectId, resolved)).toEqual([itemId]);
    expect(searchWrites).toEqual(['ENTRY']);
  });

  it("a hot item's occurrences within the last-seen step write no document, and facets only when a value is new", async () => {
    const projectId = await tables.newProject();
    const start = stepStartMs();
    const data = errorData({ className: 'HotError', server: { host: 'web-1' } } as Partial<ItemData>);
    await indexer()(await steps(projectId, [{ data, receivedAt: start + 1_000 }]));
    searchWrites = [];

    // Ten more fold steps of the same error, seconds apart, all within the step.
    const hot = await steps(
      projectId,
      Array.from({ length: 10 }, (_, index) => ({ data, receivedAt: start + 10_000 + index * 20_000 })),
    );
    expect(hot).toHaveLength(10);
    expect(await indexer()(hot)).toEqual({ batchItemFailures: [] });
    expect(searchWrites).toEqual([]);

    // A new host is one facets write, merged into the entry it reads; the document still holds.
    const moved = errorData({ className: 'HotError', server: { host: 'web-2' } } as Partial<ItemData>);
    searchReads = 0;
    await indexer()(await steps(projectId, [{ data: moved, receivedAt: start + 300_000 }]));
    expect(searchWrites).toEqual(['FACETS']);
    expect(searchReads).toBe(1);

    // The next step moves the document's last-seen time: one write of the entry.
    searchWrites = [];
    await indexer()(
      await steps(projectId, [{ data: moved, receivedAt: start + LAST_SEEN_STEP_SECONDS * 1000 + 5_000 }]),
    );
    expect(searchWrites).toEqual(['ENTRY']);
    expect((await engine.readFacets(projectId, [itemIdOf(hot)])).get(itemIdOf(hot))?.hosts).toEqual([
      'web-2',
      'web-1',
    ]);
  });

  it('facets keep the newest values first, bounded, reading at most a few occurrences per item per batch', async () => {
    const projectId = await tables.newProject();
    const start = stepStartMs();
    const hostData = (host: number) =>
      errorData({ className: 'RovingError', server: { host: `web-${host}` } } as Partial<ItemData>);
    // Seven occurrences in one stream batch: only the newest five are read.
    const batch = await steps(
      projectId,
      Array.from({ length: 7 }, (_, index) => ({
        data: hostData(index + 1),
        receivedAt: start + index * 1_000,
      })),
    );
    await indexer()(batch);
    const itemId = itemIdOf(batch);
    const hosts = async () => (await engine.readFacets(projectId, [itemId])).get(itemId)?.hosts;
    expect(MAX_OCCURRENCES_PER_ITEM).toBe(5);
    expect(await hosts()).toEqual(['web-7', 'web-6', 'web-5', 'web-4', 'web-3']);

    // A later batch adds its host first; the oldest falls off at the limit of 5.
    await indexer()(await steps(projectId, [{ data: hostData(8), receivedAt: start + 10_000 }]));
    expect(await hosts()).toEqual(['web-8', 'web-7', 'web-6', 'web-5', 'web-4']);
    // A host seen again moves to the front.
    await indexer()(await steps(projectId, [{ data: hostData(5), receivedAt: start + 11_000 }]));
    expect(await hosts()).toEqual(['web-5', 'web-8', 'web-7', 'web-6', 'web-4']);
  });

  it('a batch delivered again changes nothing in the index', async () => {
    const projectId = await tables.newProject();
    const records = await steps(projectId, [
      { data: errorData({ className: 'TwiceError', person: { id: 'p-1' } } as Partial<ItemData>) },
      { data: errorData({ className: 'TwiceError', person: { id: 'p-2' } } as Partial<ItemData>) },
      { data: errorData({ className: 'OtherError' }) },
    ]);
    await indexer()(records);
    const before = await searchRows(projectId);
    // Two items, one row each.
    expect(before).toHaveLength(2);
    searchWrites = [];
    expect(await indexer()(records)).toEqual({ batchItemFailures: [] });
    expect(await searchRows(projectId)).toEqual(before);
    // The new items' entries are written again, the same rows: the facets found nothing new.
    expect(searchWrites).toEqual(['ENTRY', 'ENTRY']);
  });

  it('rewriting an item indexed before entries held facets carries its former facets into its entry, as a reindex does', async () => {
    const projectId = await tables.newProject();
    const records = await steps(projectId, [{ data: errorData({ className: 'FormerError' }) }]);
    await indexer()(records);
    const itemId = itemIdOf(records);
    // As the index was before: the entry without facets, and the facets in a row of their own.
    const former = { ...emptyFacets(), hosts: ['old-host'] };
    await tables.documents.send(
      new UpdateCommand({
        TableName: searchTable,
        Key: searchKeys.entry(projectId, itemId),
        UpdateExpression: 'REMOVE f',
      }),
    );
    await tables.documents.send(
      new PutCommand({
        TableName: searchTable,
        Item: {
          ...searchKeys.formerFacets(projectId, itemId),
          f: JSON.stringify(FACET_NAMES.map((name) => former[name])),
        },
      }),
    );
    const hostQuery: SearchQuery = {
      terms: [term({ kind: 'text', qualifier: 'host', value: 'old-host', negated: false })],
    };
    expect(await found(projectId, hostQuery)).toEqual([]);

    const item = toItemRecord(unmarshall(records.at(-1)!.dynamodb!.NewImage as never));
    await indexItems({ engine, occurrences: { get: async () => undefined } }, [
      { item, writeDocument: true, occurrenceIds: [] },
    ]);
    expect(await found(projectId, hostQuery)).toEqual([itemId]);
  });

  it('an item without its number yet is not indexed', async () => {
    const projectId = await tables.newProject();
    const itemId = 900_000_000 + Math.floor(Math.random() * 1_000_000);
    // A row as the fold wrote items before numbering them: no counter.
    await tables.documents.send(
      new PutCommand({
        TableName: tables.dynamo.tableNames.items,
        Item: {
          ...itemKeys.item(itemId),
          entity: 'item',
          id: itemId,
          project_id: projectId,
          environment: 'production',
          hash: 'h'.repeat(40),
          title: 'UnnumberedError: nobody sees me',
          level: 'error',
          status: 'active',
          first_occurrence_id: randomUUID(),
          last_occurrence_id: randomUUID(),
          first_occurrence_timestamp: 1_764_000_000,
          last_occurrence_timestamp: 1_764_000_000,
        },
      }),
    );
    const records = await stream.readNew(projectId);
    expect(records).toHaveLength(1);
    expect(await indexer()(records)).toEqual({ batchItemFailures: [] });
    expect(searchWrites).toEqual([]);
    expect(await engine.countDocuments(projectId)).toBe(0);
  });

  it('an occurrence that expired or cannot be read is left out; the item is indexed all the same', async () => {
    const projectId = await tables.newProject();
    const gone = await steps(projectId, [
      { data: errorData({ className: 'ExpiredError', server: { host: 'web-1' } } as Partial<ItemData>) },
    ]);
    const broken = await steps(projectId, [
      { data: errorData({ className: 'BrokenError', server: { host: 'web-2' } } as Partial<ItemData>) },
    ]);
    const image = (records: DynamoDBRecord[]) => records[0]!.dynamodb!.NewImage!;
    await tables.documents.send(
      new DeleteCommand({
        TableName: tables.dynamo.tableNames.occurrences,
        Key: occurrenceKeys.occurrence(projectId, image(gone).last_occurrence_id!.S!),
      }),
    );
    await tables.documents.send(
      new UpdateCommand({
        TableName: tables.dynamo.tableNames.occurrences,
        Key: occurrenceKeys.occurrence(projectId, image(broken).last_occurrence_id!.S!),
        UpdateExpression: 'SET codec = :codec',
        ExpressionAttributeValues: { ':codec': 'zstd-from-the-future' },
      }),
    );

    expect(await indexer()([...gone, ...broken])).toEqual({ batchItemFailures: [] });
    expect((await found(projectId, words('error'))).sort()).toEqual(
      [itemIdOf(gone), itemIdOf(broken)].sort(),
    );
    expect(searchWrites).toEqual(['ENTRY', 'ENTRY']);
  });

  it('a failed write hands the whole batch back from its first record, and the retry indexes it', async () => {
    const projectId = await tables.newProject();
    const records = await steps(projectId, [
      { data: errorData({ className: 'FlakyError' }) },
      { data: errorData({ className: 'SecondFlakyError' }) },
    ]);
    failWrites = true;
    expect(await indexer()(records)).toEqual({
      batchItemFailures: [{ itemIdentifier: records[0]!.dynamodb!.SequenceNumber }],
    });
    expect(await engine.countDocuments(projectId)).toBe(0);

    failWrites = false;
    expect(await indexer()(records)).toEqual({ batchItemFailures: [] });
    expect(await found(projectId, words('flaky'))).toHaveLength(2);
  });

  it('deploys and other rows of the items table are not indexed', async () => {
    const records: DynamoDBRecord[] = [
      {
        eventID: '1',
        eventName: 'INSERT',
        dynamodb: {
          SequenceNumber: '1',
          NewImage: { entity: { S: 'deploy' }, project_id: { N: '1' }, id: { N: '1' } },
        },
      },
      { eventID: '2', eventName: 'REMOVE', dynamodb: { SequenceNumber: '2' } },
    ];
    expect(await indexer()(records)).toEqual({ batchItemFailures: [] });
    expect(searchWrites).toEqual([]);
  });
});
