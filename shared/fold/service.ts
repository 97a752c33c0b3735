// The fold's service: turns a DynamoDB Streams batch of the occurrence table into fold records,
// has the fold engine count them, and says where Lambda must resume when it could not count them all.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { countCounted, logger, recordFoldLag } from '#shared/observability';
import type { HomeReader } from '#shared/regions/home';
import { occurrenceFacts } from '#shared/store/occurrence-rows';
import { STORED_IN_ATTRIBUTE } from '#shared/wiring/regions';
import type { FoldEngine } from './engine';
import type { FoldRecord } from './records';

/**
 * The occurrence INSERTs of a stream batch, in order. Other rows of the table (pages, counts,
 * people, ledger, dictionaries) and other events are not the fold's; the event source mapping's
 * filter leaves most of them out already.
 *
 * In several regions (`region` given), only the occurrences this region's worker stored: a row
 * replicated from another region (`stored_in` names it) is counted by that region's fold, whose
 * counts replicate too, or after a promotion by the reconciler. A row without `stored_in` was stored
 * by a one-region stack (before several regions) and is counted where it arrives, as it was.
 */
export function foldRecordsOf(records: readonly DynamoDBRecord[], region?: string): FoldRecord[] {
  const folded: FoldRecord[] = [];
  for (const record of records) {
    const image = record.dynamodb?.NewImage;
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    if (record.eventName !== 'INSERT' || !image || !sequenceNumber || !record.eventID) continue;
    const storedIn = image[STORED_IN_ATTRIBUTE]?.S;
    if (region !== undefined && storedIn !== undefined && storedIn !== region) continue;
    const occurrence = occurrenceFacts(unmarshall(image as Record<string, AttributeValue>));
    if (occurrence) folded.push({ eventId: record.eventID, sequenceNumber, occurrence });
    else if (image.entity?.S === 'occurrence') {
      // Our own worker wrote it, so this cannot happen short of a bug; counting it is impossible.
      logger.error('occurrence row without the facts the fold needs; not counted', {
        eventId: record.eventID,
      });
    }
  }
  return folded;
}

/** The approximate creation time (Unix seconds) of the batch's newest record: how far behind the fold is. */
function newestCreationSeconds(records: readonly DynamoDBRecord[]): number | undefined {
  let newest: number | undefined;
  for (const record of records) {
    const created = record.dynamodb?.ApproximateCreationDateTime;
    if (created !== undefined && (newest === undefined || created > newest)) newest = created;
  }
  return newest;
}

export function createFoldHandler(deps: {
  folder: Pick<FoldEngine, 'fold'>;
  /**
   * In several regions: this region (FAULTLINE_REGION), and which region is home now. The fold
   * counts what its worker stored, and only while its region is home (a promotion toward it
   * included). An old home that comes back after a promotion resumes its stream where it stopped:
   * the rows its worker stored before the outage are the promotion's recount's, which counted them
   * (or the next recount's, for rows that replicated late), so it counts none of them.
   */
  regional?: { region: string; home: HomeReader };
}) {
  return async function processStreamBatch(
    records: readonly DynamoDBRecord[],
    remainingTimeMs: () => number,
  ): Promise<DynamoDBBatchResponse> {
    if (deps.regional) {
      const home = await deps.regional.home.current();
      if (home.region !== deps.regional.region) {
        logger.info('not home: stream batch left to the home region and the reconciler', {
          home: home.region,
          records: records.length,
        });
        return { batchItemFailures: [] };
      }
    }
    const folded = foldRecordsOf(records, deps.regional?.region);
    if (folded.length === 0) return { batchItemFailures: [] };
    const report = await deps.folder.fold(folded, { remainingTimeMs });
    const { error, moves, ...figures } = report;
    countCounted(report.counted);
    const newest = newestCreationSeconds(records);
    if (report.counted > 0 && newest !== undefined) recordFoldLag(newest);
    for (const move of moves) {
      logger.warn('item id taken by another project; the occurrence is counted at its group’s next id', {
        uuid: move.uuid,
        project_id: move.projectId,
        taken_item_id: move.takenItemId,
        item_id: move.itemId,
      });
    }
    if (report.stoppedAt === undefined) {
      logger.info('stream batch folded', { ...figures, records: records.length });
      return { batchItemFailures: [] };
    }
    if (error) {
      // A failed invocation: Lambda counts it in the function's Errors (which alarm) and delivers
      // the whole batch again; the ledger skips the steps this one committed.
      logger.error('fold step failed; Lambda delivers the batch again', {
        ...figures,
        error: error as Error,
      });
      throw error;
    }
    logger.warn('out of time; Lambda delivers the batch again', figures);
    // From its first record, not from where the fold stopped: a batch that starts where this one
    // did holds every record an item created here remembers (`created_by`), and the ledger skips
    // the steps committed here.
    return { batchItemFailures: [{ itemIdentifier: folded[0]!.sequenceNumber }] };
  };
}
