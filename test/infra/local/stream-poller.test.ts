// The stream poller delivers DynamoDB Local's real stream records as Lambda would: in order, with retries.
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LoadedFunction } from '#infra/local/lambda-runtime';
import {
  latestStreamArn,
  type StreamPoller,
  type StreamRecordFilter,
  startStreamPoller,
} from '#infra/local/stream-poller';
import { createTables } from '#infra/local/tables';
import { type Dynamo, startDynamo } from '../../support/emulators';

let dynamo: Dynamo;
const pollers: StreamPoller[] = [];

beforeAll(async () => {
  dynamo = await startDynamo();
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((poller) => poller.stop()));
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A fresh items table (the declared one with a stream) and its stream ARN. */
async function freshItemsTable(prefix: string): Promise<{ table: string; streamArn: string }> {
  const { items } = await createTables(dynamo.client, prefix);
  return { table: items, streamArn: await latestStreamArn(dynamo.client, items) };
}

function fn(handler: (event: DynamoDBStreamEvent) => unknown): LoadedFunction {
  return {
    name: 'streamConsumer',
    entry: 'inline',
    timeoutSeconds: 5,
    memoryMb: 128,
    handler: async (e) => handler(e as DynamoDBStreamEvent),
  };
}

function poll(
  streamArn: string,
  handler: (event: DynamoDBStreamEvent) => unknown,
  startingPosition: 'TRIM_HORIZON' | 'LATEST' = 'TRIM_HORIZON',
  batchSize = 100,
  filter?: StreamRecordFilter,
) {
  const poller = startStreamPoller({
    client: dynamo.streamsClient,
    streamArn,
    function: fn(handler),
    batchSize,
    startingPosition,
    filter,
    pollIntervalMs: 50,
    logError: () => {},
  });
  pollers.push(poller);
  return poller;
}

async function writeItem(table: string, id: string, status: string): Promise<void> {
  await dynamo.client.send(
    new PutItemCommand({
      TableName: table,
      Item: { PK: { S: id }, SK: { S: 'ITEM' }, status: { S: status } },
    }),
  );
}

async function setStatus(table: string, id: string, status: string): Promise<void> {
  await dynamo.client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { PK: { S: id }, SK: { S: 'ITEM' } },
      UpdateExpression: 'SET #status = :status ADD occurrences :one',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': { S: status }, ':one': { N: '1' } },
    }),
  );
}

/** A fresh occurrences table (the declared one, streaming new images) and its stream ARN. */
async function freshOccurrencesTable(prefix: string): Promise<{ table: string; streamArn: string }> {
  const { occurrences } = await createTables(dynamo.client, prefix);
  return { table: occurrences, streamArn: await latestStreamArn(dynamo.client, occurrences) };
}

/** The fold's filter: new occurrence rows only. */
const occurrenceInserts: StreamRecordFilter = { eventNames: ['INSERT'], entities: ['occurrence'] };

async function writeRow(table: string, id: string, entity: string | undefined): Promise<void> {
  await dynamo.client.send(
    new PutItemCommand({
      TableName: table,
      Item: { PK: { S: id }, SK: { S: 'ROW' }, ...(entity === undefined ? {} : { entity: { S: entity } }) },
    }),
  );
}

async function touchRow(table: string, id: string): Promise<void> {
  await dynamo.client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { PK: { S: id }, SK: { S: 'ROW' } },
      UpdateExpression: 'ADD touched :one',
      ExpressionAttributeValues: { ':one': { N: '1' } },
    }),
  );
}

async function deleteRow(table: string, id: string): Promise<void> {
  await dynamo.client.send(
    new DeleteItemCommand({ TableName: table, Key: { PK: { S: id }, SK: { S: 'ROW' } } }),
  );
}

const keysOf = (event: DynamoDBStreamEvent): string[] =>
  event.Records.map((record) => record.dynamodb?.Keys?.PK?.S ?? '');

const summary = (record: DynamoDBRecord) => ({
  eventName: record.eventName,
  old: record.dynamodb?.OldImage?.status?.S,
  new: record.dynamodb?.NewImage?.status?.S,
});

describe('the stream poller', () => {
  it('delivers INSERT and MODIFY records in order, with old and new images', async () => {
    const { table, streamArn } = await freshItemsTable('order');
    const received: DynamoDBRecord[] = [];
    const poller = poll(streamArn, (event) => {
      received.push(...event.Records);
    });
    await writeItem(table, 'item-1', 'active');
    await setStatus(table, 'item-1', 'resolved');
    await setStatus(table, 'item-1', 'active');
    await vi.waitFor(() => expect(received).toHaveLength(3), { timeout: 10_000 });
    await poller.idle();

    expect(received.map(summary)).toEqual([
      { eventName: 'INSERT', old: undefined, new: 'active' },
      { eventName: 'MODIFY', old: 'active', new: 'resolved' },
      { eventName: 'MODIFY', old: 'resolved', new: 'active' },
    ]);
    const [first] = received;
    expect(first).toMatchObject({
      eventSource: 'aws:dynamodb',
      eventSourceARN: streamArn,
      awsRegion: 'us-east-1',
      eventVersion: '1.1',
      dynamodb: {
        Keys: { PK: { S: 'item-1' }, SK: { S: 'ITEM' } },
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        SequenceNumber: expect.any(String),
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
    expect(received[2]?.dynamodb?.NewImage?.occurrences).toEqual({ N: '2' });
    const sequence = received.map((record) => BigInt(record.dynamodb?.SequenceNumber ?? '0'));
    expect([...sequence].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequence);
  });

  it('retries a batch whose invocation threw until it succeeds', async () => {
    const { table, streamArn } = await freshItemsTable('retry');
    await writeItem(table, 'a', 'active');
    await writeItem(table, 'b', 'active');
    const invocations: string[][] = [];
    poll(streamArn, (event) => {
      invocations.push(event.Records.map((record) => record.dynamodb?.Keys?.PK?.S ?? ''));
      if (invocations.length < 3) throw new Error('not yet');
    });
    await vi.waitFor(() => expect(invocations).toHaveLength(3), { timeout: 10_000 });
    expect(invocations).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
  });

  it('resumes from the first reported batch item failure, not from the start of the batch', async () => {
    const { table, streamArn } = await freshItemsTable('partial');
    for (const id of ['a', 'b', 'c', 'd']) await writeItem(table, id, 'active');
    const invocations: string[][] = [];
    const poller = poll(streamArn, (event) => {
      invocations.push(event.Records.map((record) => record.dynamodb?.Keys?.PK?.S ?? ''));
      if (invocations.length > 1) return { batchItemFailures: [] };
      // c and b fail: the checkpoint is the lowest failure, so b, c and d come again and a does not.
      const bySequence = event.Records.map((record) => record.dynamodb?.SequenceNumber ?? '');
      return { batchItemFailures: [{ itemIdentifier: bySequence[2] }, { itemIdentifier: bySequence[1] }] };
    });
    await vi.waitFor(() => expect(invocations).toHaveLength(2), { timeout: 10_000 });
    await poller.idle();
    expect(invocations).toEqual([
      ['a', 'b', 'c', 'd'],
      ['b', 'c', 'd'],
    ]);
  });

  it('honours the batch size', async () => {
    const { table, streamArn } = await freshItemsTable('batches');
    for (const id of ['a', 'b', 'c', 'd', 'e']) await writeItem(table, id, 'active');
    const batches: number[] = [];
    const poller = poll(streamArn, (event) => void batches.push(event.Records.length), 'TRIM_HORIZON', 2);
    await vi.waitFor(() => expect(batches.reduce((sum, n) => sum + n, 0)).toBe(5), { timeout: 10_000 });
    await poller.idle();
    expect(batches).toEqual([2, 2, 1]);
  });

  it('still delivers what is written after many empty polls (DynamoDB Local then refuses the iterator)', async () => {
    const { table, streamArn } = await freshItemsTable('quiet');
    const delivered: string[] = [];
    const poller = poll(streamArn, (event) => {
      for (const record of event.Records) delivered.push(String(record.dynamodb?.NewImage?.PK?.S));
    });
    // Polled every 50 ms: twenty empty reads of the same shard before anything is written.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await writeItem(table, 'late', 'active');
    await vi.waitFor(() => expect(delivered).toEqual(['late']), { timeout: 10_000 });
    await poller.idle();
  });

  it('with a filter, delivers only matching records, in order, and moves past the others', async () => {
    const { table, streamArn } = await freshOccurrencesTable('filter');
    await writeRow(table, 'page-1', 'page');
    await writeRow(table, 'occurrence-1', 'occurrence');
    await touchRow(table, 'occurrence-1'); // MODIFY of an occurrence row
    await writeRow(table, 'no-entity', undefined);
    await writeRow(table, 'occurrence-2', 'occurrence');
    await deleteRow(table, 'occurrence-1'); // REMOVE
    await writeRow(table, 'count-1', 'count');
    await touchRow(table, 'page-1');
    await writeRow(table, 'occurrence-3', 'occurrence');
    const received: DynamoDBRecord[] = [];
    const poller = poll(
      streamArn,
      (event) => void received.push(...event.Records),
      'TRIM_HORIZON',
      100,
      occurrenceInserts,
    );
    await vi.waitFor(() => expect(received).toHaveLength(3), { timeout: 10_000 });
    await poller.idle();

    expect(received.map((record) => [record.eventName, record.dynamodb?.Keys?.PK?.S])).toEqual([
      ['INSERT', 'occurrence-1'],
      ['INSERT', 'occurrence-2'],
      ['INSERT', 'occurrence-3'],
    ]);
    expect(received[0]?.dynamodb).toMatchObject({
      StreamViewType: 'NEW_IMAGE',
      NewImage: { entity: { S: 'occurrence' } },
    });
  });

  it('with a filter, a batch filtered out whole invokes nothing and the shard still moves past it', async () => {
    const { table, streamArn } = await freshOccurrencesTable('filtered-batch');
    // With batches of two, the first two reads hold no occurrence at all.
    for (const id of ['page-1', 'page-2', 'page-3', 'page-4']) await writeRow(table, id, 'page');
    await writeRow(table, 'occurrence-1', 'occurrence');
    const invocations: string[][] = [];
    const poller = poll(
      streamArn,
      (event) => void invocations.push(keysOf(event)),
      'TRIM_HORIZON',
      2,
      occurrenceInserts,
    );
    await vi.waitFor(() => expect(invocations).toHaveLength(1), { timeout: 10_000 });
    await poller.idle();
    expect(invocations).toEqual([['occurrence-1']]);

    // Caught up past every filtered record: only what comes next is delivered.
    await writeRow(table, 'page-5', 'page');
    await writeRow(table, 'occurrence-2', 'occurrence');
    await vi.waitFor(() => expect(invocations).toHaveLength(2), { timeout: 10_000 });
    await poller.idle();
    expect(invocations).toEqual([['occurrence-1'], ['occurrence-2']]);
  });

  it('with a filter, retries a thrown batch and a reported failure with the matching records only', async () => {
    const { table, streamArn } = await freshOccurrencesTable('filtered-retry');
    await writeRow(table, 'page-1', 'page');
    await writeRow(table, 'occurrence-1', 'occurrence');
    await writeRow(table, 'page-2', 'page');
    await writeRow(table, 'occurrence-2', 'occurrence');
    await writeRow(table, 'page-3', 'page');
    await writeRow(table, 'occurrence-3', 'occurrence');
    const invocations: string[][] = [];
    const poller = poll(
      streamArn,
      (event) => {
        invocations.push(keysOf(event));
        if (invocations.length === 1) throw new Error('not yet');
        // The second attempt reports occurrence-2: the retry starts there, past page-2 and occurrence-1.
        if (invocations.length === 2) {
          return { batchItemFailures: [{ itemIdentifier: event.Records[1]?.dynamodb?.SequenceNumber }] };
        }
        return { batchItemFailures: [] };
      },
      'TRIM_HORIZON',
      100,
      occurrenceInserts,
    );
    await vi.waitFor(() => expect(invocations).toHaveLength(3), { timeout: 10_000 });
    await poller.idle();
    expect(invocations).toEqual([
      ['occurrence-1', 'occurrence-2', 'occurrence-3'],
      ['occurrence-1', 'occurrence-2', 'occurrence-3'],
      ['occurrence-2', 'occurrence-3'],
    ]);
  });

  it('starting at LATEST, skips what was written before it started', async () => {
    const { table, streamArn } = await freshItemsTable('latest');
    await writeItem(table, 'before', 'active');
    const received: string[] = [];
    const poller = poll(
      streamArn,
      (event) => void received.push(...event.Records.map((record) => record.dynamodb?.Keys?.PK?.S ?? '')),
      'LATEST',
    );
    await poller.idle();
    await writeItem(table, 'after', 'active');
    await vi.waitFor(() => expect(received).toEqual(['after']), { timeout: 10_000 });
  });
});
