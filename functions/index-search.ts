// DynamoDB Streams (items table) → the search index: placeholder until the indexer lands.
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  throw new Error(`the search indexer is not built yet (${event.Records.length} records)`);
}
