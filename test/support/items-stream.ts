// Reads the items table's stream from DynamoDB Local as Lambda's event source mapping hands it to
// the fan-out: every record since the last read, in shard order, with old and new images.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { openTableStream } from './table-stream';

export interface ItemsStream {
  /** Every record written since the last call; `projectId` keeps one test's own. */
  readNew(projectId?: number): Promise<DynamoDBRecord[]>;
}

export async function openItemsStream(
  client: DynamoDBClient,
  streams: DynamoDBStreamsClient,
  tableName: string,
): Promise<ItemsStream> {
  const stream = await openTableStream(client, streams, tableName);
  return {
    async readNew(projectId) {
      const records = await stream.readNew();
      return projectId === undefined
        ? records
        : records.filter(
            (record) =>
              Number((record.dynamodb?.NewImage ?? record.dynamodb?.OldImage)?.project_id?.N) === projectId,
          );
    },
  };
}
