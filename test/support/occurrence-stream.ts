// Reads the occurrence table's stream from DynamoDB Local, as Lambda's event source mapping
// would hand it to the fold: every record since the last read, in shard order.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import type { FoldRecord } from '#shared/fold/records';
import { foldRecordsOf } from '#shared/fold/service';
import { openTableStream } from './table-stream';

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
  const stream = await openTableStream(client, streams, tableName);
  return {
    readNew: () => stream.readNew(),
    async readNewOccurrences(projectId) {
      const records = foldRecordsOf(await stream.readNew());
      return projectId === undefined
        ? records
        : records.filter((record) => record.occurrence.projectId === projectId);
    },
  };
}
