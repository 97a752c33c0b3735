// Reads the items table's stream from DynamoDB Local as Lambda's event source mapping hands it to
// the fan-out: every record since the last read, in shard order, with old and new images.
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

export interface ItemsStream {
  /** Every record written since the last call; `projectId` keeps one test's own. */
  readNew(projectId?: number): Promise<DynamoDBRecord[]>;
}

export async function openItemsStream(
  client: DynamoDBClient,
  streams: DynamoDBStreamsClient,
  tableName: string,
): Promise<ItemsStream> {
  const streamArn = await latestStreamArn(client, tableName);
  const checkpoints = new Map<string, string>();

  async function readAll(): Promise<DynamoDBRecord[]> {
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
    async readNew(projectId) {
      const records = await readAll();
      return projectId === undefined
        ? records
        : records.filter(
            (record) =>
              Number((record.dynamodb?.NewImage ?? record.dynamodb?.OldImage)?.project_id?.N) === projectId,
          );
    },
  };
}

function toLambdaRecord(record: _Record): DynamoDBRecord {
  const stream = record.dynamodb;
  type Image = NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      ApproximateCreationDateTime: stream?.ApproximateCreationDateTime
        ? Math.floor(stream.ApproximateCreationDateTime.getTime() / 1000)
        : undefined,
      Keys: stream?.Keys as Image,
      // Item and deploy rows hold no binary attributes, so the SDK's images read as Lambda's JSON would.
      NewImage: stream?.NewImage as Image,
      OldImage: stream?.OldImage as Image,
      SequenceNumber: stream?.SequenceNumber,
    },
  };
}
