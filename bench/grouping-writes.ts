// What storing, counting and indexing occurrences costs: DynamoDB write units per occurrence, hot and
// distinct. The storing worker writes each occurrence (in SQS batches), the fold counts them from the
// occurrence table's real stream (in stream batches), then the search indexer reads the items table's
// real stream, all through the meter.
import { gzipSync } from 'node:zlib';
import { createDocumentClient } from '#shared/aws/clients';
import { FoldEngine } from '#shared/fold/engine';
import { logger } from '#shared/observability';
import { createSearchIndexer } from '#shared/search/indexer';
import { DynamoDBFoldStorage } from '#shared/store/fold-storage';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { prepareOccurrence } from '#shared/storing/occurrence';
import { functions } from '#shared/wiring/topology';
import { startDynamoWithTables } from '../test/support/emulators';
import { openItemsStream } from '../test/support/items-stream';
import { openOccurrenceStream } from '../test/support/occurrence-stream';
import { nodeErrorData, occurrenceMessage, seededRandom } from './payloads';
import { type MeterTotals, WriteMeter } from './write-units';

export const OCCURRENCES = 1_000;

export interface WriteScenario {
  name: string;
  /** How many distinct bugs the occurrences are spread over, round robin. */
  bugs: number;
  /** Records per stream batch the fold gets; undefined: the fold's declared batch size. */
  foldBatchSize?: number;
  /** The items exist before the measured occurrences arrive (one occurrence each, not counted). */
  itemsExist?: boolean;
}

export const SCENARIOS: readonly WriteScenario[] = [
  { name: 'hot', bugs: 10 },
  { name: 'distinct', bugs: OCCURRENCES },
  // The same hot bugs once their items exist: updates instead of creations.
  { name: 'hot_items_exist', bugs: 10, itemsExist: true },
  // Light traffic: the stream hands the fold few records at a time, so it aggregates less.
  { name: 'hot_fold_batches_of_100', bugs: 10, foldBatchSize: 100, itemsExist: true },
  { name: 'hot_fold_batches_of_20', bugs: 10, foldBatchSize: 20, itemsExist: true },
];

export interface WriteScenarioResult {
  scenario: WriteScenario;
  occurrences: number;
  items: number;
  totals: MeterTotals;
  /** Transactions the fold handed to `onTransaction`, to check the meter saw each one. */
  transactionsSeen: number;
  foldBatchSize: number;
  foldSteps: number;
  /** Items table stream records the search indexer read. */
  indexedRecords: number;
  /** Of `seconds`, the search indexer handler's (its stream batches, not the stream's reading; its writes through the meter, which reads each row around the write). */
  indexSeconds: number;
  retries: number;
  seconds: number;
  meanPayloadGzipBytes: number;
  meanPayloadStoredBytes: number;
}

function declaredBatchSize(name: 'storeOccurrences' | 'foldOccurrences' | 'indexSearch'): number {
  return functions[name].trigger.batchSize;
}

export async function measureGroupingWrites(): Promise<{
  batchSize: number;
  foldBatchSize: number;
  results: WriteScenarioResult[];
}> {
  // The indexer's log lines (one shared logger in this process) would bury the figures.
  logger.setLogLevel('ERROR');
  const batchSize = declaredBatchSize('storeOccurrences');
  const dynamo = await startDynamoWithTables('bench');
  try {
    const raw = createDocumentClient(dynamo.client);
    const meter = new WriteMeter(raw, dynamo.tableNames);
    const metered = meter.client();
    const projects = new DynamoDBProjectRepository(raw, dynamo.tableNames.projects);
    const stream = await openOccurrenceStream(
      dynamo.client,
      dynamo.streamsClient,
      dynamo.tableNames.occurrences,
    );
    const itemsStream = await openItemsStream(dynamo.client, dynamo.streamsClient, dynamo.tableNames.items);
    const indexBatchSize = declaredBatchSize('indexSearch');
    // The indexer as its handler builds it, its writes and reads through the meter (its reads of the
    // occurrences whose values it indexes too: a new error's is one read).
    const indexer = createSearchIndexer({
      engine: new DynamoDBSearchIndex(metered, dynamo.tableNames.search),
      occurrences: new DynamoDBOccurrenceRepository(
        metered,
        dynamo.tableNames.occurrences,
        new DynamoDBPayloadCodec(metered, dynamo.tableNames.occurrences),
      ),
    });
    /**
     * The items table's new records, indexed in the stream batches Lambda would hand over; the time
     * spent in the indexer's handler alone (reading the stream is Lambda's poller's work, not billed
     * as the function's) is added to `indexerSeconds`.
     */
    let indexerSeconds = 0;
    const index = async (projectId: number): Promise<number> => {
      const records = await itemsStream.readNew(projectId);
      for (let start = 0; start < records.length; start += indexBatchSize) {
        const started = performance.now();
        const response = await indexer(records.slice(start, start + indexBatchSize));
        indexerSeconds += (performance.now() - started) / 1000;
        if (response.batchItemFailures.length > 0) {
          throw new Error(`the search indexer failed the batch at ${start} of ${records.length}`);
        }
      }
      return records.length;
    };

    const results: WriteScenarioResult[] = [];
    for (const scenario of SCENARIOS) {
      const foldBatchSize = scenario.foldBatchSize ?? declaredBatchSize('foldOccurrences');
      const { projectId } = await projects.createProject({
        name: `bench-${scenario.name}`,
        groupingVersion: 1,
        now: Date.now(),
      });
      const random = seededRandom(scenario.bugs);
      const occurrences = Array.from({ length: OCCURRENCES }, (_, index) =>
        prepareOccurrence(occurrenceMessage(projectId, nodeErrorData(index % scenario.bugs, random))),
      );
      const writer = new DynamoDBOccurrenceWriter(
        metered,
        dynamo.tableNames.occurrences,
        new DynamoDBPayloadCodec(metered, dynamo.tableNames.occurrences),
      );
      let transactionsSeen = 0;
      const fold = new FoldEngine(
        new DynamoDBFoldStorage(
          metered,
          { items: dynamo.tableNames.items, occurrences: dynamo.tableNames.occurrences },
          new DynamoDBProjectRepository(metered, dynamo.tableNames.projects),
          { onTransaction: () => transactionsSeen++ },
        ),
      );

      if (scenario.itemsExist) {
        const warmUp = Array.from({ length: scenario.bugs }, (_, bug) =>
          prepareOccurrence(occurrenceMessage(projectId, nodeErrorData(bug, random))),
        );
        await writer.write(warmUp);
        await fold.fold(await stream.readNewOccurrences(projectId));
        await index(projectId);
        transactionsSeen = 0;
      }
      meter.take();
      const started = performance.now();
      for (let start = 0; start < occurrences.length; start += batchSize) {
        const report = await writer.write(occurrences.slice(start, start + batchSize));
        if (report.stored !== Math.min(batchSize, occurrences.length - start)) {
          throw new Error(`the ${scenario.name} batch at ${start} stored ${report.stored} occurrences`);
        }
      }
      const records = await stream.readNewOccurrences(projectId);
      if (records.length !== occurrences.length) {
        throw new Error(`the stream carried ${records.length} of ${occurrences.length} occurrences`);
      }
      let retries = 0;
      let foldSteps = 0;
      for (let start = 0; start < records.length; start += foldBatchSize) {
        const report = await fold.fold(records.slice(start, start + foldBatchSize));
        if (report.error || report.counted !== Math.min(foldBatchSize, records.length - start)) {
          throw new Error(`the fold of the ${scenario.name} batch at ${start} counted ${report.counted}`, {
            cause: report.error,
          });
        }
        retries += report.retries;
        foldSteps += report.steps;
      }
      indexerSeconds = 0;
      const indexedRecords = await index(projectId);
      const indexSeconds = indexerSeconds;
      const seconds = (performance.now() - started) / 1000;
      const totals = meter.take();
      if (totals.transactions !== transactionsSeen) {
        throw new Error(
          `the meter saw ${totals.transactions} transactions, the fold sent ${transactionsSeen}`,
        );
      }
      results.push({
        scenario,
        occurrences: occurrences.length,
        items: new Set(occurrences.map((occurrence) => occurrence.itemId)).size,
        totals,
        transactionsSeen,
        foldBatchSize,
        foldSteps,
        indexedRecords,
        indexSeconds,
        retries,
        seconds,
        meanPayloadGzipBytes: mean(
          occurrences.map((occurrence) => gzipSync(occurrence.payloadJson).byteLength),
        ),
        meanPayloadStoredBytes: totals.bytes['occurrence puts'] / totals.writes['occurrence puts'],
      });
    }
    return { batchSize, foldBatchSize: declaredBatchSize('foldOccurrences'), results };
  } finally {
    await dynamo.stop();
  }
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}
