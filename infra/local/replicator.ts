// Plays DynamoDB Global Table replication between the simulated regions' tables, from their streams.
// Each write a region makes to a replicated table is read from that table's stream and written to the
// same table of every other region, last writer wins; a write the replicator made itself is
// recognised when its own stream record comes back and is never replicated again. A region cut off
// neither sends nor receives: its records wait in its streams (24 hours, as in AWS) and the writes
// for it wait in the others', and both flow when it is reconnected.
//
// What it plays faithfully: the order of one key's writes, deletes, last writer wins by the time a
// record was written (the stream's ApproximateCreationDateTime, whole seconds), lag while cut off.
// What it does not: a write that lands in the destination after its own write was made but before
// the replicator read it is overwritten until that write is replicated back (real Global Tables
// compare hidden write timestamps at the destination); the design has no two regions writing one
// key except in a split brain (docs/regions.md).
import { createHash } from 'node:crypto';
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent, AttributeValue as LambdaAttributeValue } from 'aws-lambda';
import type { TableName } from '#shared/wiring/tables';
import type { LoadedFunction } from './lambda-runtime';
import { type ControlledGate, createPollerGate } from './poller-gate';
import { latestStreamArn, type StreamPoller, startStreamPoller } from './stream-poller';

export interface ReplicatorOptions {
  client: DynamoDBClient;
  streamsClient: DynamoDBStreamsClient;
  /** Each region's physical table names. */
  regions: Record<string, Partial<Record<TableName, string>>>;
  /** Which regions hold a replica of each replicated table (at least two to replicate anything). */
  replicas: Partial<Record<TableName, readonly string[]>>;
  logError?: (message: string, error: unknown) => void;
}

export interface Replicator {
  /** Stops replicating to and from `region`; resolves once no write to or from it is in flight. */
  cutOff(region: string): Promise<void>;
  reconnect(region: string): void;
  /** Resolves once every connected stream is read to its end and applied. */
  idle(options?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

interface Link {
  from: string;
  to: string;
  poller: StreamPoller;
  gate: ControlledGate;
}

const WRITE_BATCH = 25;

export async function startReplicator(options: ReplicatorOptions): Promise<Replicator> {
  const cutOff = new Set<string>();
  // Writes this replicator made, by region, table, key and image, until their stream record is seen.
  const echoes = new Map<string, number>();
  // The time of the newest write each region holds for a key, as far as the replicator knows.
  const newest = new Map<string, number>();
  const links: Link[] = [];

  const apply = async (from: string, to: string, table: TableName, records: DynamoDBRecord[]) => {
    const writes = new Map<string, { request: WriteRequest; echo: string }>();
    for (const record of records) {
      const keys = record.dynamodb?.Keys;
      if (!keys) continue;
      const key = canonical(keys);
      const image = record.eventName === 'REMOVE' ? undefined : record.dynamodb?.NewImage;
      const seen = `${from}|${table}|${key}|${image ? canonical(image) : 'REMOVE'}`;
      const pending = echoes.get(seen) ?? 0;
      if (pending > 0) {
        // The stream record of a write this replicator made: it came from elsewhere, send it nowhere.
        if (pending === 1) echoes.delete(seen);
        else echoes.set(seen, pending - 1);
        continue;
      }
      const time = (record.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000;
      const heldHere = `${from}|${table}|${key}`;
      newest.set(heldHere, Math.max(newest.get(heldHere) ?? 0, time));
      const heldThere = `${to}|${table}|${key}`;
      // Last writer wins: the destination wrote this key later, and that write travels the other way.
      if ((newest.get(heldThere) ?? 0) > time) continue;
      newest.set(heldThere, time);
      writes.set(key, {
        request: image
          ? { PutRequest: { Item: fromLambdaImage(image) } }
          : { DeleteRequest: { Key: fromLambdaImage(keys) } },
        echo: `${to}|${table}|${key}|${image ? canonical(image) : 'REMOVE'}`,
      });
    }
    const tableName = options.regions[to]?.[table];
    if (!tableName) throw new Error(`region ${to} has no ${table} table`);
    const all = [...writes.values()];
    for (const write of all) echoes.set(write.echo, (echoes.get(write.echo) ?? 0) + 1);
    for (let start = 0; start < all.length; start += WRITE_BATCH) {
      let requests = all.slice(start, start + WRITE_BATCH).map((write) => write.request);
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        const output = await options.client.send(
          new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }),
        );
        requests = output.UnprocessedItems?.[tableName] ?? [];
        if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
      }
    }
  };

  for (const [table, regions] of Object.entries(options.replicas) as Array<[TableName, string[]]>) {
    for (const from of regions) {
      const sourceTable = options.regions[from]?.[table];
      if (!sourceTable) throw new Error(`region ${from} has no ${table} table`);
      const streamArn = await latestStreamArn(options.client, sourceTable);
      for (const to of regions) {
        if (to === from) continue;
        const gate = createPollerGate();
        const replicate: LoadedFunction = {
          name: `replicate ${table} ${from} → ${to}`,
          entry: 'infra/local/replicator.ts',
          timeoutSeconds: 60,
          memoryMb: 128,
          handler: (event) => apply(from, to, table, (event as DynamoDBStreamEvent).Records),
        };
        const poller = startStreamPoller({
          client: options.streamsClient,
          streamArn,
          function: replicate,
          batchSize: 1000,
          startingPosition: 'TRIM_HORIZON',
          pollIntervalMs: 100,
          gate,
          logError: options.logError,
        });
        links.push({ from, to, poller, gate });
      }
    }
  }
  await Promise.all(links.map((link) => link.poller.ready));

  return {
    async cutOff(region) {
      cutOff.add(region);
      await Promise.all(
        links.filter((link) => link.from === region || link.to === region).map((link) => link.gate.close()),
      );
    },
    reconnect(region) {
      cutOff.delete(region);
      for (const link of links) {
        if (!cutOff.has(link.from) && !cutOff.has(link.to)) link.gate.open();
      }
    },
    async idle(idleOptions) {
      await Promise.all(
        links.filter((link) => !link.gate.closed).map((link) => link.poller.idle(idleOptions)),
      );
    },
    async stop() {
      for (const link of links) link.gate.dispose();
      await Promise.all(links.map((link) => link.poller.stop()));
    },
  };
}

/** One spelling of a key or an image whatever the order of its attributes and set members. */
function canonical(image: Record<string, LambdaAttributeValue>): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((name) => {
            const member = (value as Record<string, unknown>)[name];
            // String, number and binary sets have no order.
            const set = (name === 'SS' || name === 'NS' || name === 'BS') && Array.isArray(member);
            return [name, set ? [...(member as string[])].sort() : sorted(member)];
          }),
      );
    }
    return value;
  };
  return createHash('sha1')
    .update(JSON.stringify(sorted(image)))
    .digest('base64');
}

/** A stream image as Lambda delivers it (binary as base64) back to what DynamoDB takes. */
function fromLambdaImage(image: Record<string, LambdaAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, fromLambdaValue(value)]));
}

function fromLambdaValue(value: LambdaAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B, 'base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((binary) => Buffer.from(binary, 'base64')) };
  if (value.M !== undefined) return { M: fromLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(fromLambdaValue) };
  return value as AttributeValue;
}
