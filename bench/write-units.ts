// Counting DynamoDB write units the way AWS bills them, for every write a document client sends.
//
// DynamoDB Local reports consumed capacity, but not as AWS bills it (transactions are not doubled,
// index writes are missing), so the meter computes the bill itself from before- and after-images of
// every item written, fetched around each write with the unmetered client:
// - a write bills 1 unit per started KB of the larger of the item's size before and after it (each
//   put or delete inside a BatchWriteItem too, as AWS bills them);
// - inside TransactWriteItems, 2 units per started KB;
// - each global index whose entry the write creates, removes or (keys changed) replaces bills a
//   standard write per started KB of the index entry (KEYS_ONLY: the table's and the index's keys),
//   two when an entry is replaced by one under other keys.
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '#shared/store/batch-get';
import type { Key } from '#shared/store/keys';
import { type TableDeclaration, type TableName, tables } from '#shared/wiring/tables';
import { itemSize, startedKilobytes } from './item-size';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Image = Record<string, unknown> | undefined;

export const WRITE_CATEGORIES = [
  'occurrence puts',
  'compression dictionaries',
  'item creations',
  'item updates',
  'item count rows',
  'environment count rows',
  'people',
  'item listing pages',
  'person listing pages',
  'fold ledger',
  'index writes',
  'project counter',
  'search entries',
  'search versions',
] as const;
export type WriteCategory = (typeof WRITE_CATEGORIES)[number];

interface PlannedWrite {
  table: string;
  key: Key;
  kind: 'put' | 'update' | 'delete';
  /** What a Put writes: its after-image needs no read. */
  item?: Record<string, unknown>;
}

export interface MeterTotals {
  units: Record<WriteCategory, number>;
  /** Index write units by index name. */
  indexUnits: Record<string, number>;
  /** Writes counted per category (an index write counted once per entry written or removed). */
  writes: Record<WriteCategory, number>;
  /** Billed bytes per category: the larger of each item's sizes before and after, summed. */
  bytes: Record<WriteCategory, number>;
  transactions: number;
  transactionActions: number;
  singleWrites: number;
  /** What DynamoDB Local itself reported, summed over every write: tables, and indexes apart. */
  reported: { writeUnits: number; indexWriteUnits: number };
  /**
   * Read request units as AWS bills them on demand: per item read, 1 per started 4 KB when strongly
   * consistent, half when eventually; a Query per started 4 KB of all it returned; an absent item
   * still 1 (or half).
   */
  readUnits: number;
  /** The same by table and command (`items BatchGetCommand`), to tell where the reads go. */
  readUnitsBy: Record<string, number>;
}

const zeroByCategory = () =>
  Object.fromEntries(WRITE_CATEGORIES.map((category) => [category, 0])) as Record<WriteCategory, number>;

export class WriteMeter {
  private totals: MeterTotals = WriteMeter.empty();
  private readonly declarations = new Map<string, TableDeclaration>();

  constructor(
    /** The client that does the work; its own reads and writes are never counted. */
    private readonly raw: DynamoDBDocumentClient,
    tableNames: Record<TableName, string>,
  ) {
    for (const [logical, name] of Object.entries(tableNames) as [TableName, string][]) {
      this.declarations.set(name, tables[logical]);
    }
  }

  static empty(): MeterTotals {
    return {
      units: zeroByCategory(),
      indexUnits: {},
      writes: zeroByCategory(),
      bytes: zeroByCategory(),
      transactions: 0,
      transactionActions: 0,
      singleWrites: 0,
      reported: { writeUnits: 0, indexWriteUnits: 0 },
      readUnits: 0,
      readUnitsBy: {},
    };
  }

  /** The totals since the last reset, and a fresh start. */
  take(): MeterTotals {
    const totals = this.totals;
    this.totals = WriteMeter.empty();
    return totals;
  }

  /** A client that behaves like the raw one, with every command it sends counted. */
  client(): DynamoDBDocumentClient {
    const send = async (command: { input: Record<string, unknown> }) => {
      command.input.ReturnConsumedCapacity = 'INDEXES';
      let planned = this.plan(command);
      const before = planned ? await this.images(planned) : undefined;
      const output = (await this.raw.send(command as never)) as {
        ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
        UnprocessedItems?: BatchWriteCommandInput['RequestItems'];
      };
      this.addReported(command, output.ConsumedCapacity);
      const read = readUnitsOf(command, output);
      if (read > 0) {
        this.totals.readUnits += read;
        const by = `${this.logicalOf(command)} ${command.constructor.name}`;
        this.totals.readUnitsBy[by] = (this.totals.readUnitsBy[by] ?? 0) + read;
      }
      if (planned && before) {
        // What a BatchWriteItem left unprocessed was not written (its retry is billed then).
        const unprocessed = new Set(
          plannedBatch(output.UnprocessedItems ?? {}).map((write) => identity(write.table, write.key)),
        );
        planned = planned.filter((write) => !unprocessed.has(identity(write.table, write.key)));
        const after = await this.images(planned.filter((write) => write.kind === 'update'));
        this.charge(planned, before, after, command instanceof TransactWriteCommand);
      }
      return output;
    };
    return new Proxy(this.raw, {
      get(target, property, receiver) {
        return property === 'send' ? send : Reflect.get(target, property, receiver);
      },
    });
  }

  /** The declared table a read names (`items`, `search`…), for the breakdown of read units. */
  private logicalOf(command: { input: Record<string, unknown> }): string {
    const name =
      typeof command.input.TableName === 'string'
        ? command.input.TableName
        : Object.keys((command.input.RequestItems as Record<string, unknown> | undefined) ?? {})[0];
    const declaration = name === undefined ? undefined : this.declarations.get(name);
    const logical = Object.entries(tables).find(([, table]) => table === declaration)?.[0];
    return logical ?? 'other';
  }

  /** The items a write command changes, or undefined for a read. */
  private plan(command: object): PlannedWrite[] | undefined {
    if (command instanceof TransactWriteCommand) {
      return (command.input.TransactItems ?? []).map(plannedAction);
    }
    if (command instanceof PutCommand) {
      const { TableName, Item } = command.input;
      return [{ table: TableName!, key: keyOf(Item), kind: 'put', item: Item }];
    }
    if (command instanceof UpdateCommand) {
      return [{ table: command.input.TableName!, key: keyOf(command.input.Key), kind: 'update' }];
    }
    if (command instanceof DeleteCommand) {
      return [{ table: command.input.TableName!, key: keyOf(command.input.Key), kind: 'delete' }];
    }
    if (command instanceof BatchWriteCommand) {
      return plannedBatch(command.input.RequestItems ?? {});
    }
    const name = command.constructor.name;
    if (/Write|Put|Update|Delete|Execute/.test(name)) {
      throw new Error(`the write meter does not count ${name}; teach it before benchmarking with it`);
    }
    return undefined;
  }

  private async images(writes: PlannedWrite[]): Promise<Map<string, Record<string, unknown>>> {
    const byTable = new Map<string, Key[]>();
    for (const write of writes) byTable.set(write.table, [...(byTable.get(write.table) ?? []), write.key]);
    const images = new Map<string, Record<string, unknown>>();
    for (const [table, keys] of byTable) {
      const unique = [...new Map(keys.map((key) => [identity(table, key), key])).values()];
      for (const row of await batchGetAll(this.raw, table, unique, { consistent: true })) {
        images.set(identity(table, keyOf(row)), row);
      }
    }
    return images;
  }

  private charge(
    writes: PlannedWrite[],
    before: Map<string, Record<string, unknown>>,
    after: Map<string, Record<string, unknown>>,
    transactional: boolean,
  ): void {
    if (transactional) {
      this.totals.transactions++;
      this.totals.transactionActions += writes.length;
    } else {
      this.totals.singleWrites += writes.length;
    }
    for (const write of writes) {
      const id = identity(write.table, write.key);
      const old: Image = before.get(id);
      const next: Image =
        write.kind === 'put' ? write.item : write.kind === 'update' ? after.get(id) : undefined;
      const bytes = Math.max(old ? itemSize(old) : 0, next ? itemSize(next) : 0);
      const category = this.categoryOf(write, transactional);
      this.totals.units[category] += startedKilobytes(bytes) * (transactional ? 2 : 1);
      this.totals.writes[category]++;
      this.totals.bytes[category] += bytes;
      this.chargeIndexes(write.table, old, next);
    }
  }

  private chargeIndexes(table: string, old: Image, next: Image): void {
    const declaration = this.declarations.get(table);
    if (!declaration) throw new Error(`table ${table} is not one of the declared tables`);
    for (const index of declaration.globalIndexes) {
      const entryOf = (image: Image) => (image ? indexEntry(declaration, index, image) : undefined);
      const was = entryOf(old);
      const is = entryOf(next);
      const entries: Record<string, unknown>[] = [];
      if (was && is) {
        const sameKeys = indexKeyNames(index).every((name) => sameValue(was[name], is[name]));
        if (!sameKeys) entries.push(was, is);
        else if (index.projection === 'ALL' && !sameValue(was, is)) entries.push(is);
      } else if (was) entries.push(was);
      else if (is) entries.push(is);
      for (const entry of entries) {
        const bytes = itemSize(entry);
        const units = startedKilobytes(bytes);
        this.totals.units['index writes'] += units;
        this.totals.writes['index writes']++;
        this.totals.bytes['index writes'] += bytes;
        this.totals.indexUnits[index.indexName] = (this.totals.indexUnits[index.indexName] ?? 0) + units;
      }
    }
  }

  /** Which part of the worker's or the fold's work a write is, from its table and key layout (shared/store/keys.ts). */
  private categoryOf(write: PlannedWrite, transactional: boolean): WriteCategory {
    const declaration = this.declarations.get(write.table);
    if (declaration === tables.projects) return 'project counter';
    if (declaration === tables.items) return transactional ? 'item updates' : 'item creations';
    if (declaration === tables.search) {
      if (write.key.PK.endsWith('#VERSIONS')) return 'search versions';
      if (write.key.PK.includes('#DOCS#')) return 'search entries';
    }
    if (write.key.SK === 'OCC') return 'occurrence puts';
    if (write.key.SK === 'PERSON') return 'people';
    if (write.key.SK === 'DICT') return 'compression dictionaries';
    if (write.key.SK === 'FOLD') return 'fold ledger';
    if (write.key.PK.startsWith('ITEM#') && write.key.PK.endsWith('#OCCS')) return 'item listing pages';
    if (write.key.PK.startsWith('PROJECT#') && write.key.PK.endsWith('#OCCS')) return 'person listing pages';
    if (write.key.PK.startsWith('COUNT#ITEM#')) return 'item count rows';
    if (write.key.PK.startsWith('COUNT#PROJECT#')) return 'environment count rows';
    throw new Error(`the write meter does not know the row ${write.key.PK} / ${write.key.SK}`);
  }

  private addReported(command: object, consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): void {
    if (!/Write|Put|Update|Delete/.test(command.constructor.name)) return;
    for (const entry of consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed]) {
      const indexes = Object.values(entry.GlobalSecondaryIndexes ?? {}).reduce(
        (sum, index) => sum + (index.WriteCapacityUnits ?? index.CapacityUnits ?? 0),
        0,
      );
      this.totals.reported.writeUnits += entry.CapacityUnits ?? 0;
      this.totals.reported.indexWriteUnits += indexes;
    }
  }
}

const READ_UNIT_BYTES = 4096;

/** What a GetItem, BatchGetItem or Query bills, from what it returned. */
function readUnitsOf(command: object, output: Record<string, unknown>): number {
  const perItem = (item: Record<string, unknown> | undefined, consistent: boolean | undefined) =>
    Math.max(1, Math.ceil((item ? itemSize(item) : 0) / READ_UNIT_BYTES)) * (consistent ? 1 : 0.5);
  if (command instanceof GetCommand) {
    return perItem(output.Item as Record<string, unknown> | undefined, command.input.ConsistentRead);
  }
  if (command instanceof BatchGetCommand) {
    const unprocessed = (output.UnprocessedKeys ?? {}) as Record<string, { Keys?: unknown[] }>;
    const responses = (output.Responses ?? {}) as Record<string, Record<string, unknown>[]>;
    let units = 0;
    for (const [table, request] of Object.entries(command.input.RequestItems ?? {})) {
      const found = responses[table] ?? [];
      const asked = (request.Keys?.length ?? 0) - (unprocessed[table]?.Keys?.length ?? 0);
      for (const item of found) units += perItem(item, request.ConsistentRead);
      // Keys that found nothing bill the minimum each.
      units += Math.max(0, asked - found.length) * perItem(undefined, request.ConsistentRead);
    }
    return units;
  }
  if (command instanceof QueryCommand) {
    const items = (output.Items ?? []) as Record<string, unknown>[];
    const bytes = items.reduce((sum, item) => sum + itemSize(item), 0);
    return Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * (command.input.ConsistentRead ? 1 : 0.5);
  }
  return 0;
}

function plannedAction(action: TransactItem): PlannedWrite {
  if (action.Put)
    return { table: action.Put.TableName!, key: keyOf(action.Put.Item), kind: 'put', item: action.Put.Item };
  if (action.Update)
    return { table: action.Update.TableName!, key: keyOf(action.Update.Key), kind: 'update' };
  if (action.Delete)
    return { table: action.Delete.TableName!, key: keyOf(action.Delete.Key), kind: 'delete' };
  throw new Error(
    'the write meter does not count ConditionCheck actions; teach it before benchmarking with them',
  );
}

/** Each put and delete of a BatchWriteItem is billed as a standalone one. */
function plannedBatch(requests: NonNullable<BatchWriteCommandInput['RequestItems']>): PlannedWrite[] {
  return Object.entries(requests).flatMap(([table, writes]) =>
    writes.map((write): PlannedWrite => {
      if (write.PutRequest) {
        return { table, key: keyOf(write.PutRequest.Item), kind: 'put', item: write.PutRequest.Item };
      }
      return { table, key: keyOf(write.DeleteRequest?.Key), kind: 'delete' };
    }),
  );
}

function keyOf(attributes: Record<string, unknown> | undefined): Key {
  return { PK: String(attributes?.PK), SK: String(attributes?.SK) };
}

function identity(table: string, key: Key): string {
  return `${table}|${key.PK}|${key.SK}`;
}

function indexKeyNames(index: TableDeclaration['globalIndexes'][number]): string[] {
  return [index.partitionKey.name, ...(index.sortKey ? [index.sortKey.name] : [])];
}

/** The entry an item has in an index, or undefined when the item lacks the index's keys (sparse index). */
function indexEntry(
  table: TableDeclaration,
  index: TableDeclaration['globalIndexes'][number],
  image: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const names = indexKeyNames(index);
  if (names.some((name) => image[name] === undefined)) return undefined;
  if (index.projection === 'ALL') return image;
  const tableKeys = [table.partitionKey.name, ...(table.sortKey ? [table.sortKey.name] : [])];
  return Object.fromEntries([...tableKeys, ...names].map((name) => [name, image[name]]));
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
