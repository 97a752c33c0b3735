// The occurrence and item tables on DynamoDB Local, with the worker's writer and the fold over the
// real stream, for the tests of the worker's writes, the fold's storage and the fold's service.
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { FoldEngine } from '#shared/fold/engine';
import type { FoldRecord } from '#shared/fold/records';
import { DynamoDBFoldStorage } from '#shared/store/fold-storage';
import { type ItemRow, parseItemRow } from '#shared/store/item-row';
import { DynamoDBItemRepository } from '#shared/store/items';
import { countBucket, itemKeys, occurrenceKeys, projectKeys } from '#shared/store/keys';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import type { PreparedOccurrence } from '#shared/storing/occurrence';
import { type Dynamo, startDynamoWithTables } from './emulators';
import { type OccurrenceStream, openOccurrenceStream } from './occurrence-stream';

export type FoldTables = Awaited<ReturnType<typeof openFoldTables>>;

export async function openFoldTables(name: string) {
  const dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> } =
    await startDynamoWithTables(name);
  const documents = createDocumentClient(dynamo.client);
  const projects = new DynamoDBProjectRepository(documents, dynamo.tableNames.projects);
  const items = new DynamoDBItemRepository(documents, dynamo.tableNames.items);
  const stream: OccurrenceStream = await openOccurrenceStream(
    dynamo.client,
    dynamo.streamsClient,
    dynamo.tableNames.occurrences,
  );

  function writer(client: DynamoDBDocumentClient = documents) {
    return new DynamoDBOccurrenceWriter(
      client,
      dynamo.tableNames.occurrences,
      new DynamoDBPayloadCodec(client, dynamo.tableNames.occurrences),
    );
  }

  /** The fold engine on DynamoDB, as the fold function builds it. */
  function folder(client: DynamoDBDocumentClient = documents, peopleInItemRow?: number) {
    return new FoldEngine(
      new DynamoDBFoldStorage(
        client,
        { items: dynamo.tableNames.items, occurrences: dynamo.tableNames.occurrences },
        new DynamoDBProjectRepository(client, dynamo.tableNames.projects),
      ),
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

  /** Stores the occurrences with the worker's writer; returns their records from the stream. */
  async function store(batch: PreparedOccurrence[]): Promise<FoldRecord[]> {
    const report = await writer().write(batch);
    expect(report.failed).toBe(0);
    return stream.readNewOccurrences(batch[0]!.projectId);
  }

  /** The item's row as stored, bookkeeping included (`seed_hours`, `people`, `created_by`). */
  async function itemRow(itemId: number): Promise<ItemRow & { raw: Record<string, unknown> }> {
    const result = await documents.send(
      new GetCommand({
        TableName: dynamo.tableNames.items,
        Key: itemKeys.item(itemId),
        ConsistentRead: true,
      }),
    );
    if (!result.Item) throw new Error(`item ${itemId} not found`);
    return { ...parseItemRow(result.Item), raw: result.Item };
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
    const counted = (await row(occurrenceKeys.itemCount(itemId, 'hour', bucket)))?.count as
      | number
      | undefined;
    return (counted ?? 0) + ((await itemRow(itemId)).seed_hours[bucket] ?? 0);
  }

  async function environmentCount(projectId: number, receivedAt: number): Promise<number | undefined> {
    return (
      await row(
        occurrenceKeys.environmentCount(projectId, 'production', 'day', countBucket(receivedAt, 'day')),
      )
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

  return {
    dynamo,
    documents,
    projects,
    items,
    stream,
    writer,
    folder,
    crashingOnTransactions,
    newProject,
    store,
    itemRow,
    row,
    hourlyTotal,
    environmentCount,
    itemCounter,
    stop: () => dynamo.stop(),
  };
}
