// The storing worker's one write per occurrence: a conditional put of its row.
//
// The row is the uuid's idempotency record: `attribute_not_exists(PK)` makes a redelivered or
// re-sent occurrence write nothing, so it also emits no stream record and the fold, which counts
// what the stream carries, can never count it twice. Nothing else is written here: items, counts,
// people and listings are the fold's (`shared/fold/engine.ts`).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PreparedOccurrence } from '#shared/storing/occurrence';
import { occurrenceRow } from './occurrence-rows';
import type { PayloadCodec } from './payload-codec';

/** What happened to one occurrence of a batch. */
export type WriteOutcome = 'stored' | 'duplicate' | { error: unknown };

export interface WriteReport {
  /** One outcome per occurrence, in the batch's order. */
  outcomes: WriteOutcome[];
  stored: number;
  duplicates: number;
  failed: number;
}

/** Puts in flight at once: a batch of 100 goes in a few round trips without a burst of throttling. */
const CONCURRENT_PUTS = 25;

export class DynamoDBOccurrenceWriter {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly codec: PayloadCodec,
    /** In several regions, this region: written on each row as `stored_in`, which its fold counts. */
    private readonly storedIn?: string,
  ) {}

  async write(batch: readonly PreparedOccurrence[]): Promise<WriteReport> {
    const encoded = await this.codec.encode(
      batch.map((occurrence) => ({
        projectId: occurrence.projectId,
        itemId: occurrence.itemId,
        receivedAt: occurrence.receivedAt,
        json: occurrence.payloadJson,
      })),
    );
    const outcomes: WriteOutcome[] = new Array(batch.length);
    let next = 0;
    const putNext = async (): Promise<void> => {
      while (next < batch.length) {
        const index = next++;
        outcomes[index] = await this.put(occurrenceRow(batch[index]!, encoded[index]!, this.storedIn));
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_PUTS, batch.length) }, putNext));
    return {
      outcomes,
      stored: outcomes.filter((outcome) => outcome === 'stored').length,
      duplicates: outcomes.filter((outcome) => outcome === 'duplicate').length,
      failed: outcomes.filter((outcome) => typeof outcome === 'object').length,
    };
  }

  private async put(row: Record<string, unknown>): Promise<WriteOutcome> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: row,
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return 'stored';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      return { error };
    }
  }
}
