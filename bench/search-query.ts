// The search's answer time at 20,000 items on DynamoDB Local: the search service (parse, the DynamoDB
// engine's candidates, the re-check against the items table, the page) for a few typical queries, and
// where the time goes (reading the index, parsing and matching its documents, the re-check).
import { createDocumentClient } from '#shared/aws/clients';
import type { Level } from '#shared/domain/levels';
import type { ItemRecord, ItemStatus } from '#shared/items/item';
import { emptyFacets, type Facets } from '#shared/search/document';
import { parseSearchQuery } from '#shared/search/query';
import { createSearchService } from '#shared/search/service';
import { DynamoDBItemRepository } from '#shared/store/items';
import { SEARCH_SHARDS, searchKeys } from '#shared/store/keys';
import { queryAll } from '#shared/store/query-all';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { startDynamoWithTables } from '../test/support/emulators';
import { anItem, indexItems, putItemRows } from '../test/support/search-items';
import { seededRandom } from './payloads';

export const SEARCHED_ITEMS = 20_000;
/** Timed runs of each query, after one untimed run. */
const RUNS = 4;
const PROJECT = 1;
const NOW = 1_764_000_000;

/** Typical searches: a word ~1% of titles hold, a qualifier, a negation, a facet qualifier. */
export const SEARCH_QUERIES = {
  bare_word: 'checkout',
  qualifier: 'level:critical',
  negation: 'error -status:resolved',
  facet: 'host:web-17',
} as const;

export interface SearchQueryResult {
  items: number;
  /** Every timed run of every query, in milliseconds. */
  allMs: number[];
  byQuery: Record<keyof typeof SEARCH_QUERIES, { ms: number[]; found: number }>;
  /**
   * Medians of the parts of one search: the engine's candidates (reading the index, parsing and
   * matching), the rest (parsing the query, the re-check against the items table, the page); and
   * what reading the project's whole index costs, nothing parsed (the floor of a search that no
   * value of the query narrows).
   */
  breakdown: { engineMs: number; recheckMs: number; readWholeIndexMs: number };
  seedSeconds: number;
}

const CLASSES = [
  'TypeError',
  'ReferenceError',
  'RangeError',
  'SyntaxError',
  'UnicodeEncodeError',
  'KeyError',
  'ValueError',
  'ActiveRecord::RecordNotFound',
  'NoMethodError',
  'java.lang.NullPointerException',
  'TimeoutError',
  'ConnectionRefusedError',
];
const WORDS = [
  'cannot',
  'read',
  'property',
  'of',
  'undefined',
  'user',
  'order',
  'invoice',
  'payment',
  'session',
  'token',
  'expired',
  'missing',
  'field',
  'price',
  'cart',
  'account',
  'profile',
  'not',
  'found',
  'invalid',
  'value',
  'for',
  'request',
];
const LEVELS: Level[] = ['error', 'error', 'error', 'warning', 'warning', 'info', 'critical', 'debug'];

function corpus(): { items: ItemRecord[]; facets: Array<{ item_id: number; facets: Facets }> } {
  const random = seededRandom(20_000);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const items: ItemRecord[] = [];
  const facets: Array<{ item_id: number; facets: Facets }> = [];
  for (let at = 0; at < SEARCHED_ITEMS; at++) {
    const words = Array.from({ length: 3 + Math.floor(random() * 6) }, () => pick(WORDS));
    // About 1% of titles hold the searched word.
    if (at % 100 === 7) words.splice(1, 0, 'checkout');
    const lastSeen = NOW - Math.floor(random() * 30 * 86_400);
    const status: ItemStatus = random() < 0.8 ? 'active' : random() < 0.75 ? 'resolved' : 'muted';
    const item = anItem({
      id: 1_000_000 + at,
      project_id: PROJECT,
      counter: at + 1,
      title: `${pick(CLASSES)}: ${words.join(' ')} #${at}`,
      level: pick(LEVELS),
      status,
      environment: random() < 0.7 ? 'production' : 'staging',
      total_occurrences: 1 + Math.floor(random() * 1000),
      first_occurrence_timestamp: lastSeen - Math.floor(random() * 60 * 86_400),
      last_occurrence_timestamp: lastSeen,
    });
    items.push(item);
    // A third of the items have facets, as items whose occurrences carried a host, a person, frames.
    if (at % 3 === 0) {
      facets.push({
        item_id: item.id,
        facets: {
          ...emptyFacets(),
          hosts: [`web-${at % 40}`, `worker-${at % 7}`],
          contexts: [`orders#${pick(WORDS)}`],
          files: [`app/models/${pick(WORDS)}.rb`, `app/controllers/${pick(WORDS)}_controller.rb`],
          person_ids: [String(at % 500)],
          emails: [`user${at % 500}@example.com`],
        },
      });
    }
  }
  return { items, facets };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

export async function measureSearchQueries(): Promise<SearchQueryResult> {
  const dynamo = await startDynamoWithTables('bench-search');
  try {
    const documents = createDocumentClient(dynamo.client);
    const index = new DynamoDBSearchIndex(documents, dynamo.tableNames.search);
    const items = new DynamoDBItemRepository(documents, dynamo.tableNames.items);
    const service = createSearchService({ engine: index, items });

    const seedStarted = performance.now();
    const { items: seeded, facets } = corpus();
    // In slices written side by side: DynamoDB Local takes one batch at a time per connection.
    const slices = 8;
    const slice = Math.ceil(seeded.length / slices);
    await Promise.all([
      putItemRows(documents, dynamo.tableNames.items, seeded),
      ...Array.from({ length: slices }, (_, at) =>
        indexItems(index, seeded.slice(at * slice, (at + 1) * slice)),
      ),
      index.putFacets(PROJECT, facets),
    ]);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const allMs: number[] = [];
    const byQuery = {} as SearchQueryResult['byQuery'];
    const engineMs: number[] = [];
    const searchMs: number[] = [];
    const readWholeIndexMs: number[] = [];
    for (const [name, query] of Object.entries(SEARCH_QUERIES) as Array<
      [keyof typeof SEARCH_QUERIES, string]
    >) {
      const ms: number[] = [];
      let found = 0;
      for (let run = 0; run <= RUNS; run++) {
        const started = performance.now();
        const result = await service.search(PROJECT, { query, page: 1 });
        const elapsed = performance.now() - started;
        found = result.items.length;
        if (run === 0) continue;
        ms.push(elapsed);
      }
      byQuery[name] = { ms, found };
      allMs.push(...ms);
      searchMs.push(median(ms));
      // The engine alone, asked as the service asks it first.
      const engineStarted = performance.now();
      await index.candidates(PROJECT, parseSearchQuery(query), { limit: 150 });
      engineMs.push(performance.now() - engineStarted);
    }
    for (let run = 0; run < 2; run++) {
      const started = performance.now();
      await readWholeIndex(documents, dynamo.tableNames.search);
      readWholeIndexMs.push(performance.now() - started);
    }
    return {
      items: SEARCHED_ITEMS,
      allMs,
      byQuery,
      breakdown: {
        engineMs: median(engineMs),
        recheckMs: Math.max(0, median(searchMs) - median(engineMs)),
        readWholeIndexMs: median(readWholeIndexMs),
      },
      seedSeconds,
    };
  } finally {
    await dynamo.stop();
  }
}

/** The project's document partitions read whole, as a search no value narrows reads them, nothing parsed. */
async function readWholeIndex(
  documents: ReturnType<typeof createDocumentClient>,
  tableName: string,
): Promise<void> {
  await Promise.all(
    Array.from({ length: SEARCH_SHARDS }, (_, shard) =>
      queryAll(documents, {
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': searchKeys.documentPartition(PROJECT, shard) },
        ProjectionExpression: 'SK, d',
      }),
    ),
  );
}
