// Plays Lambda's DynamoDB Streams event source mapping: records in order per shard, parents first,
// filters, retries. It never bisects a failing batch: it retries from the batch's first record, or
// from the first failure the function reports, as a mapping with bisecting turned off does.
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  type AttributeValue,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent, AttributeValue as LambdaAttributeValue } from 'aws-lambda';
import { invoke, type LoadedFunction } from './lambda-runtime';
import type { PollerGate } from './poller-gate';

/** Which records invoke the function, as the mapping's filter criteria say: both fields must match. */
export interface StreamRecordFilter {
  eventNames: readonly string[];
  /** Values of the new image's `entity` string attribute. */
  entities: readonly string[];
}

export interface StreamPollerOptions {
  client: DynamoDBStreamsClient;
  streamArn: string;
  function: LoadedFunction;
  batchSize: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /**
   * Accepted for parity with the declaration, not played: a batch is what one GetRecords returns (up
   * to `batchSize`). Waiting for the window to fill a short batch would make every `idle()` after a
   * write wait that long, and batch sizes change no outcome the local stack is there to show.
   */
  maxBatchingWindowSeconds?: number;
  /** Records that do not match are never delivered; the shard moves past them all the same. */
  filter?: StreamRecordFilter;
  pollIntervalMs?: number;
  region?: string;
  logError?: (message: string, error: unknown) => void;
  /** Holds reading between batches while closed; the shards' checkpoints are kept (a region cut off). */
  gate?: PollerGate;
}

export interface StreamPoller {
  /** Resolves once the poller knows where it starts: for LATEST, the end of what each shard holds now. */
  ready: Promise<void>;
  /** Resolves once every shard has been read to its current end with no batch failing or running. */
  idle(options?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** The ARN of a table's current stream, which the event source mapping reads. */
export async function latestStreamArn(client: DynamoDBClient, tableName: string): Promise<string> {
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (!table?.LatestStreamArn) throw new Error(`table ${tableName} has no stream`);
  return table.LatestStreamArn;
}

interface ShardState {
  shardId: string;
  parentShardId: string | undefined;
  iterator: string | undefined;
  /** Sequence number of the last record handed over successfully, to resume after an expired iterator. */
  checkpoint: string | undefined;
  /** Sequence number to retry from after a failed batch. */
  retryFrom: string | undefined;
  retryAt: number;
  failures: number;
  /** Discovered when the poller started: LATEST applies to these only; later shards start at their beginning. */
  initial: boolean;
  done: boolean;
  /** The last GetRecords reached the end of what the shard holds now. */
  caughtUp: boolean;
}

export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const { client, streamArn } = options;
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const shards = new Map<string, ShardState>();
  let stopped = false;
  let firstDescribe = true;
  let wake: (() => void) | undefined;

  async function describeShards(): Promise<Shard[]> {
    const found: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription: description } = await client.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      found.push(...(description?.Shards ?? []));
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return found;
  }

  async function refreshShards(): Promise<void> {
    for (const shard of await describeShards()) {
      if (!shard.ShardId || shards.has(shard.ShardId)) continue;
      const closed = Boolean(shard.SequenceNumberRange?.EndingSequenceNumber);
      shards.set(shard.ShardId, {
        shardId: shard.ShardId,
        parentShardId: shard.ParentShardId,
        iterator: undefined,
        checkpoint: undefined,
        retryFrom: undefined,
        retryAt: 0,
        failures: 0,
        initial: firstDescribe,
        // Reading from LATEST, a shard already closed at start holds nothing new.
        done: firstDescribe && closed && options.startingPosition === 'LATEST',
        caughtUp: false,
      });
    }
    firstDescribe = false;
  }

  async function iteratorFor(shard: ShardState): Promise<string | undefined> {
    let type: ShardIteratorType;
    let sequenceNumber: string | undefined;
    if (shard.retryFrom) [type, sequenceNumber] = ['AT_SEQUENCE_NUMBER', shard.retryFrom];
    else if (shard.checkpoint) [type, sequenceNumber] = ['AFTER_SEQUENCE_NUMBER', shard.checkpoint];
    else type = 'TRIM_HORIZON';
    const output = await client.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.shardId,
        ShardIteratorType: type,
        SequenceNumber: sequenceNumber,
      }),
    );
    return output.ShardIterator;
  }

  /** Reads one batch from the shard and hands it to the function; false when there was nothing to read. */
  async function pollShard(shard: ShardState): Promise<boolean> {
    shard.iterator ??= await iteratorFor(shard);
    if (!shard.iterator) {
      shard.done = true;
      return false;
    }
    let output: { Records?: _Record[]; NextShardIterator?: string };
    try {
      output = await client.send(
        new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: options.batchSize }),
      );
    } catch (error) {
      // DynamoDB Local refuses an iterator that has polled an empty shard a few times with
      // TrimmedDataAccessException: like an expired one, it is replaced from the checkpoint.
      if (!(error instanceof ExpiredIteratorException || error instanceof TrimmedDataAccessException))
        throw error;
      shard.iterator = undefined;
      return true;
    }
    const records = output.Records ?? [];
    if (records.length === 0) {
      shard.iterator = output.NextShardIterator;
      // No next iterator: the shard is closed and read to its end, so its children may start.
      if (!output.NextShardIterator) shard.done = true;
      shard.caughtUp = true;
      return false;
    }
    shard.caughtUp = false;
    const delivered = records
      .map((record) => toLambdaRecord(record, options))
      .filter((record) => matches(record, options.filter));
    // A batch filtered out whole invokes nothing, and counts as handed over.
    const firstFailed = delivered.length > 0 ? await deliver({ Records: delivered }) : undefined;
    if (firstFailed === undefined) {
      shard.checkpoint = records.at(-1)?.dynamodb?.SequenceNumber ?? shard.checkpoint;
      shard.iterator = output.NextShardIterator;
      if (!output.NextShardIterator) shard.done = true;
      shard.retryFrom = undefined;
      shard.failures = 0;
      return true;
    }
    // Checkpoint before the first failure and read again from it, as Lambda does; back off meanwhile.
    const index = records.findIndex((record) => record.dynamodb?.SequenceNumber === firstFailed);
    if (index > 0) shard.checkpoint = records[index - 1]?.dynamodb?.SequenceNumber ?? shard.checkpoint;
    shard.retryFrom = firstFailed;
    shard.iterator = undefined;
    shard.failures += 1;
    shard.retryAt = Date.now() + Math.min(pollIntervalMs * 2 ** shard.failures, 10_000);
    return true;
  }

  /** Invokes the function; the sequence number to retry from, or undefined when the batch succeeded. */
  async function deliver(event: DynamoDBStreamEvent): Promise<string | undefined> {
    const sequenceNumbers = event.Records.map((record) => record.dynamodb?.SequenceNumber ?? '');
    let result: unknown;
    try {
      result = await invoke(options.function, event);
    } catch (error) {
      logError(`${options.function.name}: batch of ${event.Records.length} stream records failed`, error);
      return sequenceNumbers[0];
    }
    if (typeof result !== 'object' || result === null || !('batchItemFailures' in result)) return undefined;
    const failures: unknown = result.batchItemFailures;
    if (failures === null || failures === undefined) return undefined;
    // A malformed response fails the whole batch, as Lambda treats it.
    if (!Array.isArray(failures)) return sequenceNumbers[0];
    let first: number | undefined;
    for (const failure of failures as unknown[]) {
      const id =
        typeof failure === 'object' && failure !== null && 'itemIdentifier' in failure
          ? failure.itemIdentifier
          : undefined;
      const index = typeof id === 'string' ? sequenceNumbers.indexOf(id) : -1;
      if (index < 0) return sequenceNumbers[0];
      first = first === undefined ? index : Math.min(first, index);
    }
    return first === undefined ? undefined : sequenceNumbers[first];
  }

  function ready(shard: ShardState): boolean {
    if (shard.done || shard.retryAt > Date.now()) return false;
    const parent = shard.parentShardId ? shards.get(shard.parentShardId) : undefined;
    // A child waits until its parent is read to the end; a parent already trimmed away does not hold it.
    return !parent || parent.done;
  }

  /**
   * LATEST as a position, not an iterator: each shard open at the start is read to its end once and
   * its last sequence number kept, so reading resumes after it. A LATEST iterator would be lost when
   * DynamoDB Local refuses an iterator that polled an empty shard a few times, and taking LATEST
   * again then would skip what was written in between (a new item's first record, say).
   */
  async function skipToEnd(shard: ShardState): Promise<void> {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    while (iterator) {
      const output = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      const records = output.Records ?? [];
      if (records.length === 0) break;
      shard.checkpoint = records.at(-1)?.dynamodb?.SequenceNumber ?? shard.checkpoint;
      iterator = output.NextShardIterator;
    }
  }

  const started = (async () => {
    await refreshShards();
    if (options.startingPosition !== 'LATEST') return;
    for (const shard of shards.values()) if (!shard.done) await skipToEnd(shard);
  })();

  const loop = (async () => {
    try {
      await started;
    } catch (error) {
      logError(`${options.function.name}: finding the end of stream ${streamArn} failed`, error);
    }
    while (!stopped) {
      let busy = false;
      const round = async () => {
        await refreshShards();
        for (const shard of shards.values()) {
          if (stopped) break;
          if (ready(shard) && (await pollShard(shard))) busy = true;
        }
      };
      try {
        if (options.gate) await options.gate.run(round);
        else await round();
      } catch (error) {
        if (stopped) break;
        logError(`${options.function.name}: reading stream ${streamArn} failed`, error);
      }
      // Keep going without a pause while there are records to read.
      if (!busy && !stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollIntervalMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  })();

  return {
    ready: started.catch(() => {}),
    async idle({ timeoutMs = 20_000 } = {}) {
      await started.catch(() => {});
      const deadline = Date.now() + timeoutMs;
      // Caught up on two consecutive looks, so a write made just before the call has been read.
      let quietLooks = 0;
      while (quietLooks < 2) {
        const quiet =
          shards.size > 0 &&
          [...shards.values()].every(
            (shard) => shard.done || (shard.caughtUp && shard.retryFrom === undefined),
          );
        quietLooks = quiet ? quietLooks + 1 : 0;
        if (Date.now() > deadline)
          throw new Error(`stream ${streamArn} was not drained within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs + 10));
      }
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}

/** Lambda's filter criteria `{ eventName: [...], dynamodb: { NewImage: { entity: { S: [...] } } } }`. */
function matches(record: DynamoDBRecord, filter: StreamRecordFilter | undefined): boolean {
  if (!filter) return true;
  const entity = record.dynamodb?.NewImage?.entity?.S;
  return (
    record.eventName !== undefined &&
    filter.eventNames.includes(record.eventName) &&
    entity !== undefined &&
    filter.entities.includes(entity)
  );
}

/** The record as Lambda delivers it: JSON, so binary values are base64 and the time is epoch seconds. */
function toLambdaRecord(record: _Record, options: StreamPollerOptions): DynamoDBRecord {
  const stream = record.dynamodb;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: options.region ?? 'us-east-1',
    eventSourceARN: options.streamArn,
    dynamodb: stream && {
      ApproximateCreationDateTime: stream.ApproximateCreationDateTime
        ? Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000)
        : undefined,
      Keys: stream.Keys && toLambdaImage(stream.Keys),
      NewImage: stream.NewImage && toLambdaImage(stream.NewImage),
      OldImage: stream.OldImage && toLambdaImage(stream.OldImage),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
  };
}

function toLambdaImage(image: Record<string, AttributeValue>): Record<string, LambdaAttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaValue(value)]));
}

function toLambdaValue(value: AttributeValue): LambdaAttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((binary) => Buffer.from(binary).toString('base64')) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  return value as LambdaAttributeValue;
}
