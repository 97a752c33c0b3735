// Reads the occurrence table's stream from DynamoDB Local, as Lambda's event source mapping
// would hand it to the fold: every record since the last read, in shard order.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { latestStreamArn } from '#infra/local/stream-poller';
import type { FoldRecord } from '#shared/fold/records';
import { foldRecordsOf } from '#shared/fold/service';

export interface OccurrenceStream {
  /** Every stream record written since the last call, as Lambda delivers them (images as read). */
  readNew(): Promise<DynamoDBRecord[]>;
  /** The occurrence INSERTs among them, as the fold takes them; `projectId` keeps one test's own. */
  readNewOccurrences(projectId?: number): Promise<FoldRecord[]>;
}

export async function openOccurrenceStream(
  client: DynamoDBClient,
  streams: DynamoDBStreamsClient,
  tableName: string,
): Promise<OccurrenceStream> {
  const streamArn = await latestStreamArn(client, tableName);
  const checkpoints = new Map<string, string>();

  async function readNew(): Promise<DynamoDBRecord[]> {
    const { StreamDescription: description } = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn }),
    );
    const records: DynamoDBRecord[] = [];
    for (const shard of description?.Shards ?? []) {
      const shardId = shard.ShardId!;
      const checkpoint = checkpoints.get(shardId);
      let { ShardIterator: iterator } = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: checkpoint ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
          SequenceNumber: checkpoint,
        }),
      );
      while (iterator) {
        const output = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        const batch = output.Records ?? [];
        if (batch.length === 0) break;
        records.push(...batch.map(toLambdaRecord));
        checkpoints.set(shardId, batch.at(-1)!.dynamodb!.SequenceNumber!);
        iterator = output.NextShardIterator;
      }
    }
    return records;
  }

  return {
    readNew,
    async readNewOccurrences(projectId) {
      const records = foldRecordsOf(await readNew());
      return projectId === undefined
        ? records
        : records.filter((record) => record.occurrence.projectId === projectId);
    },
  };
}

function toLambdaRecord(record: _Record): DynamoDBRecord {
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    dynamodb: {
      // unmarshall reads the SDK's images as they are; the fold never reads binary attributes.
      NewImage: record.dynamodb?.NewImage as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      SequenceNumber: record.dynamodb?.SequenceNumber,
    },
  };
}
