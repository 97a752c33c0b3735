// Reads a table's stream from DynamoDB Local as Lambda's event source mapping hands it to a function:
// every record since the last read, in shard order, with its keys, images and creation time.
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

export interface TableStream {
  /** Every record written since the last call. */
  readNew(): Promise<DynamoDBRecord[]>;
}

export async function openTableStream(
  client: DynamoDBClient,
  streams: DynamoDBStreamsClient,
  tableName: string,
): Promise<TableStream> {
  const streamArn = await latestStreamArn(client, tableName);
  const checkpoints = new Map<string, string>();

  return {
    async readNew() {
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
      // The SDK's images as read: the readers (the fold, the fan-out) never read binary attributes,
      // which Lambda would hand over as base64.
      NewImage: stream?.NewImage as Image,
      OldImage: stream?.OldImage as Image,
      SequenceNumber: stream?.SequenceNumber,
    },
  };
}
