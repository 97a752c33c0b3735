// What the grouping worker's writes cost: DynamoDB write units per occurrence, hot and distinct.
import { brotliCompressSync, gunzipSync } from 'node:zlib';
import { functions } from '#infra/topology';
import { createDocumentClient } from '#shared/aws/clients';
import { type PreparedOccurrence, prepareOccurrence } from '#shared/grouping/occurrence';
import { DynamoDBGroupingStore } from '#shared/store/grouping-store';
import { DynamoDBItemRepository } from '#shared/store/items';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { startDynamoWithTables } from '../test/support/emulators';
import { nodeErrorData, occurrenceMessage, seededRandom } from './payloads';
import { type MeterTotals, WriteMeter } from './write-units';

export const OCCURRENCES = 1_000;

export interface WriteScenario {
  name: 'hot' | 'distinct';
  /** How many distinct bugs the occurrences are spread over, round robin. */
  bugs: number;
}

export const SCENARIOS: readonly WriteScenario[] = [
  { name: 'hot', bugs: 10 },
  { name: 'distinct', bugs: OCCURRENCES },
];

export interface WriteScenarioResult {
  scenario: WriteScenario;
  occurrences: number;
  items: number;
  totals: MeterTotals;
  /** Transactions the store handed to `onTransaction`, to check the meter saw each one. */
  transactionsSeen: number;
  retries: number;
  seconds: number;
  meanPayloadGzipBytes: number;
  meanPayloadBrotliBytes: number;
}

/** The SQS batch size the grouping worker is declared with: it decides how writes are grouped. */
export function groupingBatchSize(): number {
  const { trigger } = functions.groupOccurrences;
  if (trigger.kind !== 'queue') throw new Error('the grouping worker is no longer fed by a queue');
  return trigger.batchSize;
}

export async function measureGroupingWrites(): Promise<{
  batchSize: number;
  results: WriteScenarioResult[];
}> {
  const batchSize = groupingBatchSize();
  const dynamo = await startDynamoWithTables('bench');
  try {
    const raw = createDocumentClient(dynamo.client);
    const meter = new WriteMeter(raw, dynamo.tableNames);
    const metered = meter.client();
    const projects = new DynamoDBProjectRepository(raw, dynamo.tableNames.projects);

    const results: WriteScenarioResult[] = [];
    for (const scenario of SCENARIOS) {
      const { projectId } = await projects.createProject({
        name: `bench-${scenario.name}`,
        groupingVersion: 1,
        now: Date.now(),
      });
      const random = seededRandom(scenario.bugs);
      const occurrences = Array.from({ length: OCCURRENCES }, (_, index) =>
        prepareOccurrence(occurrenceMessage(projectId, nodeErrorData(index % scenario.bugs, random))),
      );
      let transactionsSeen = 0;
      const store = new DynamoDBGroupingStore(
        metered,
        { items: dynamo.tableNames.items, occurrences: dynamo.tableNames.occurrences },
        new DynamoDBItemRepository(metered, dynamo.tableNames.items),
        new DynamoDBProjectRepository(metered, dynamo.tableNames.projects),
        { onTransaction: () => transactionsSeen++ },
      );

      meter.take();
      const started = performance.now();
      let retries = 0;
      for (let start = 0; start < occurrences.length; start += batchSize) {
        const report = await store.write(occurrences.slice(start, start + batchSize));
        if (report.stored !== Math.min(batchSize, occurrences.length - start)) {
          throw new Error(`the ${scenario.name} batch at ${start} stored ${report.stored} occurrences`);
        }
        retries += report.retries;
      }
      const seconds = (performance.now() - started) / 1000;
      const totals = meter.take();
      if (totals.transactions !== transactionsSeen) {
        throw new Error(
          `the meter saw ${totals.transactions} transactions, the store sent ${transactionsSeen}`,
        );
      }
      results.push({
        scenario,
        occurrences: occurrences.length,
        items: new Set(occurrences.map((occurrence) => occurrence.itemId)).size,
        totals,
        transactionsSeen,
        retries,
        seconds,
        ...payloadSizes(occurrences),
      });
    }
    return { batchSize, results };
  } finally {
    await dynamo.stop();
  }
}

function payloadSizes(occurrences: PreparedOccurrence[]) {
  const mean = (sizes: number[]) => sizes.reduce((sum, size) => sum + size, 0) / sizes.length;
  return {
    meanPayloadGzipBytes: mean(occurrences.map((occurrence) => occurrence.payload.byteLength)),
    meanPayloadBrotliBytes: mean(
      occurrences.map((occurrence) => brotliCompressSync(gunzipSync(occurrence.payload)).byteLength),
    ),
  };
}
