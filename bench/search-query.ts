// The search's answer time at 20,000 items on DynamoDB Local, as a user's session sees it: the search
// service (parse, the DynamoDB engine's candidates, the re-check against the items table, the page)
// for a few typical queries asked in turn, with new items and a status change indexed between searches
// (so the engine reads again the shards they touched); the first search of the project in a fresh
// engine (a new container: its cache cold); and where the time goes. Also the plain item listing and
// `item_by_counter`, which the index serves: their time and read units, warm and cold.
import { createDocumentClient } from '#shared/aws/clients';
import type { Level } from '#shared/domain/levels';
import type { ItemRecord, ItemStatus } from '#shared/items/item';
import { documentOf, emptyFacets, type Facets, LAST_SEEN_STEP_SECONDS } from '#shared/search/document';
import type { SearchIndexReader } from '#shared/search/engine';
import { createSearchService, type SearchService } from '#shared/search/service';
import { DynamoDBItemRepository } from '#shared/store/items';
import { SEARCH_SHARDS, searchKeys } from '#shared/store/keys';
import { queryAll } from '#shared/store/query-all';
import { DynamoDBSearchIndex } from '#shared/store/search-index';
import { startDynamoWithTables } from '../test/support/emulators';
import { anItem, indexItems, putItemRows } from '../test/support/search-items';
import { itemSize } from './item-size';
import { seededRandom } from './payloads';
import { WriteMeter } from './write-units';

export const SEARCHED_ITEMS = 20_000;
/** Rounds of the session: every query once a round, after one untimed round (the cold first search). */
const ROUNDS = 6;
/** Before each search of the session: new items indexed, and an item resolved, as a busy project's. */
const NEW_ITEMS_BETWEEN_SEARCHES = 3;
/** Cold searches of each query, each in a fresh engine. */
const COLD_RUNS = 2;
const PROJECT = 1;
const NOW = 1_764_000_000;

/** Typical searches: a word ~1% of titles hold, a qualifier, a negation, a facet qualifier. */
export const SEARCH_QUERIES = {
  bare_word: 'checkout',
  qualifier: 'level:critical',
  negation: 'error -status:resolved',
  facet: 'host:web-17',
} as const;
type QueryName = keyof typeof SEARCH_QUERIES;

export interface SearchQueryResult {
  items: number;
  /** Every timed search of the session (the container's cache warm), in milliseconds. */
  allMs: number[];
  byQuery: Record<QueryName, { ms: number[]; coldMs: number[]; found: number }>;
  /** Every first search of the project in a fresh engine (a new container), in milliseconds. */
  coldMs: number[];
  /**
   * Medians over the session's searches: the engine's candidates (the version row, the shards read
   * again, matching in memory), the rest (parsing the query, the re-check against the items table,
   * the page), the partitions read per search; the same for a cold search; and what reading the
   * project's whole index costs, nothing parsed (what a cold search cannot avoid).
   */
  breakdown: {
    engineMs: number;
    recheckMs: number;
    partitionsReadPerSearch: number;
    coldEngineMs: number;
    readWholeIndexMs: number;
  };
  /**
   * The project's whole index as a cold search reads it: its size (DynamoDB's item size rules) and
   * the consistent read units that bills (a Query by the started 4 KB of each page it returns); and
   * the same of the documents alone (each row less its facets), what a search read before the facets
   * shared the documents' rows.
   */
  wholeIndex: {
    kilobytes: number;
    readUnits: number;
    documentsKilobytes: number;
    documentsReadUnits: number;
  };
  /**
   * The plain listing (`GET /api/1/items`, page 1, no query) and `item_by_counter`, served by the
   * index since the items table has no index by counter: time and read units (index and items table,
   * as AWS bills them), in a warm container (3 new items and a status change indexed before each) and
   * a cold one; and a listing filtered by level (critical: 1 item in 8), which reads items from the
   * top until its page is full.
   */
  listing: Record<'plain' | 'filtered' | 'byCounter', ListingFigures>;
  seedSeconds: number;
}

export interface ListingFigures {
  warmMs: number;
  warmReadUnits: number;
  coldMs: number;
  coldReadUnits: number;
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

/** 40 hexadecimal characters, as a real item's fingerprint (a SHA-1). */
const fingerprintOf = (random: () => number) =>
  Array.from({ length: 40 }, () => Math.floor(random() * 16).toString(16)).join('');

/** The item at `at` of the project, as the fold leaves it. */
function itemAt(at: number, random: () => number, lastSeen: number): ItemRecord {
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const words = Array.from({ length: 3 + Math.floor(random() * 6) }, () => pick(WORDS));
  // About 1% of titles hold the searched word.
  if (at % 100 === 7) words.splice(1, 0, 'checkout');
  const status: ItemStatus = random() < 0.8 ? 'active' : random() < 0.75 ? 'resolved' : 'muted';
  return anItem({
    // 52 bits of a hash, as the fold makes them (two draws: one has 32 bits).
    id: Math.floor(random() * 2 ** 26) * 2 ** 26 + Math.floor(random() * 2 ** 26),
    project_id: PROJECT,
    counter: at + 1,
    title: `${pick(CLASSES)}: ${words.join(' ')} #${at}`,
    hash: fingerprintOf(random),
    level: pick(LEVELS),
    status,
    environment: random() < 0.7 ? 'production' : 'staging',
    total_occurrences: 1 + Math.floor(random() * 1000),
    first_occurrence_timestamp: lastSeen - Math.floor(random() * 60 * 86_400),
    last_occurrence_timestamp: lastSeen,
    last_code_version: random() < 0.5 ? fingerprintOf(random).slice(0, 12) : null,
  });
}

/** The fold's bookkeeping in an item row: its first hour's count and the first people it saw. */
function bookkeepingOf(item: ItemRecord): Record<string, unknown> {
  const hour = new Date(item.first_occurrence_timestamp * 1000).toISOString().slice(0, 13);
  const people = Array.from(
    { length: item.id % 17 },
    (_, at) => `p${((item.id * 31 + at) % 1e9).toString(36)}`,
  );
  return { seed_hours: { [hour]: 1 }, ...(people.length > 0 ? { people: new Set(people) } : {}) };
}

function corpus(): { items: ItemRecord[]; facets: Array<{ item_id: number; facets: Facets }> } {
  const random = seededRandom(20_000);
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const items: ItemRecord[] = [];
  const facets: Array<{ item_id: number; facets: Facets }> = [];
  for (let at = 0; at < SEARCHED_ITEMS; at++) {
    const item = itemAt(at, random, NOW - Math.floor(random() * 30 * 86_400));
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

/** The engine as the service sees it, timing its answers. */
function timed(engine: SearchIndexReader, spent: number[]): SearchIndexReader {
  return {
    candidates: async (projectId, query, options) => {
      const started = performance.now();
      try {
        return await engine.candidates(projectId, query, options);
      } finally {
        spent.push(performance.now() - started);
      }
    },
    countDocuments: (projectId) => engine.countDocuments(projectId),
    itemsByCounter: (projectId, options) => engine.itemsByCounter(projectId, options),
    itemIdOfCounter: (projectId, counter) => engine.itemIdOfCounter(projectId, counter),
  };
}

export async function measureSearchQueries(): Promise<SearchQueryResult> {
  const dynamo = await startDynamoWithTables('bench-search');
  try {
    const documents = createDocumentClient(dynamo.client);
    // Partitions read, counted as DynamoDB Local answers each Query page.
    let queries = 0;
    documents.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') queries++;
        return next(args);
      },
      { step: 'initialize', name: 'countQueries' },
    );
    const items = new DynamoDBItemRepository(documents, dynamo.tableNames.items);
    const writer = new DynamoDBSearchIndex(documents, dynamo.tableNames.search);

    const seedStarted = performance.now();
    const { items: seeded, facets } = corpus();
    // In slices written side by side: DynamoDB Local takes one batch at a time per connection.
    const slices = 8;
    const slice = Math.ceil(seeded.length / slices);
    // Each item's entry whole, its document and facets in one row, as the indexer writes a new item.
    const facetsOf = new Map(facets.map((entry) => [entry.item_id, entry.facets]));
    const entries = seeded.map((item) => ({
      document: documentOf(item, { lastSeenStep: LAST_SEEN_STEP_SECONDS }),
      facets: facetsOf.get(item.id) ?? emptyFacets(),
    }));
    await Promise.all([
      putItemRows(documents, dynamo.tableNames.items, seeded, bookkeepingOf),
      ...Array.from({ length: slices }, (_, at) =>
        writer.putEntries(entries.slice(at * slice, (at + 1) * slice)),
      ),
    ]);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const names = Object.keys(SEARCH_QUERIES) as QueryName[];
    const byQuery = Object.fromEntries(
      names.map((name) => [name, { ms: [] as number[], coldMs: [] as number[], found: 0 }]),
    ) as SearchQueryResult['byQuery'];

    // Cold: the first search of the project in a new container, each query in a fresh engine.
    const coldEngineMs: number[] = [];
    for (let run = 0; run < COLD_RUNS; run++) {
      for (const name of names) {
        const spent: number[] = [];
        const engine = timed(new DynamoDBSearchIndex(documents, dynamo.tableNames.search), spent);
        const service = createSearchService({ engine, items });
        const started = performance.now();
        await service.search(PROJECT, { query: SEARCH_QUERIES[name], page: 1 });
        byQuery[name].coldMs.push(performance.now() - started);
        coldEngineMs.push(spent.reduce((sum, ms) => sum + ms, 0));
      }
    }

    // A session: one container's engine, the queries asked in turn while the project changes.
    const spent: number[] = [];
    const session = new DynamoDBSearchIndex(documents, dynamo.tableNames.search);
    const service = createSearchService({ engine: timed(session, spent), items });
    const random = seededRandom(7);
    let next = SEARCHED_ITEMS;
    const engineMs: number[] = [];
    const searchMs: number[] = [];
    const partitionsRead: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      for (const name of names) {
        if (round > 0) await changeProject();
        spent.length = 0;
        queries = 0;
        const started = performance.now();
        const result = await service.search(PROJECT, { query: SEARCH_QUERIES[name], page: 1 });
        const elapsed = performance.now() - started;
        byQuery[name].found = result.items.length;
        // The first round fills the cache: its first search is cold, the others read the facets.
        if (round === 0) continue;
        byQuery[name].ms.push(elapsed);
        searchMs.push(elapsed);
        engineMs.push(spent.reduce((sum, ms) => sum + ms, 0));
        partitionsRead.push(queries);
      }
    }

    /** New items indexed and an item resolved, as the indexer writes them between two searches. */
    async function changeProject(): Promise<void> {
      const fresh = Array.from({ length: NEW_ITEMS_BETWEEN_SEARCHES }, () => itemAt(next++, random, NOW));
      const resolved = { ...seeded[Math.floor(random() * seeded.length)]!, status: 'resolved' as const };
      await putItemRows(documents, dynamo.tableNames.items, [...fresh, resolved], bookkeepingOf);
      await indexItems(writer, [...fresh, resolved]);
    }

    // The listing, metered: its engine and items on the meter's client (its reads billed as AWS bills them).
    const meter = new WriteMeter(documents, dynamo.tableNames);
    const metered = meter.client();
    const meteredItems = new DynamoDBItemRepository(metered, dynamo.tableNames.items);
    const listings = {
      plain: (listing: SearchService) => listing.listByCounter(PROJECT, { page: 1 }),
      filtered: (listing: SearchService) => listing.listByCounter(PROJECT, { page: 1, level: 'critical' }),
      byCounter: (listing: SearchService) => listing.itemByCounter(PROJECT, 1_234),
    } as const;
    const listing = {} as SearchQueryResult['listing'];
    const warmListing = createSearchService({
      engine: new DynamoDBSearchIndex(metered, dynamo.tableNames.search),
      items: meteredItems,
    });
    await listings.plain(warmListing);
    for (const [name, list] of Object.entries(listings) as Array<
      [keyof typeof listings, (service: SearchService) => Promise<unknown>]
    >) {
      const cold = { ms: [] as number[], units: [] as number[] };
      for (let run = 0; run < COLD_RUNS; run++) {
        const fresh = createSearchService({
          engine: new DynamoDBSearchIndex(metered, dynamo.tableNames.search),
          items: meteredItems,
        });
        meter.take();
        const started = performance.now();
        await list(fresh);
        cold.ms.push(performance.now() - started);
        cold.units.push(meter.take().readUnits);
      }
      const warm = { ms: [] as number[], units: [] as number[] };
      for (let round = 0; round < ROUNDS; round++) {
        await changeProject();
        meter.take();
        const started = performance.now();
        await list(warmListing);
        warm.ms.push(performance.now() - started);
        warm.units.push(meter.take().readUnits);
      }
      listing[name] = {
        warmMs: median(warm.ms),
        warmReadUnits: median(warm.units),
        coldMs: median(cold.ms),
        coldReadUnits: median(cold.units),
      };
    }

    const readWholeIndexMs: number[] = [];
    let wholeIndex: SearchQueryResult['wholeIndex'] | undefined;
    for (let run = 0; run < 2; run++) {
      const started = performance.now();
      wholeIndex = await readWholeIndex(documents, dynamo.tableNames.search);
      readWholeIndexMs.push(performance.now() - started);
    }
    const allMs = names.flatMap((name) => byQuery[name].ms);
    return {
      items: SEARCHED_ITEMS,
      allMs,
      byQuery,
      coldMs: names.flatMap((name) => byQuery[name].coldMs),
      breakdown: {
        engineMs: median(engineMs),
        recheckMs: Math.max(0, median(searchMs) - median(engineMs)),
        partitionsReadPerSearch: median(partitionsRead),
        coldEngineMs: median(coldEngineMs),
        readWholeIndexMs: median(readWholeIndexMs),
      },
      wholeIndex: wholeIndex!,
      listing,
      seedSeconds,
    };
  } finally {
    await dynamo.stop();
  }
}

/**
 * The project's entry partitions read whole, as a search no value narrows reads them, nothing parsed;
 * what that reads, in kilobytes and read units (see `SearchQueryResult['wholeIndex']`).
 */
async function readWholeIndex(
  documents: ReturnType<typeof createDocumentClient>,
  tableName: string,
): Promise<SearchQueryResult['wholeIndex']> {
  const shards = await Promise.all(
    Array.from({ length: SEARCH_SHARDS }, (_, shard) =>
      queryAll(documents, {
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': searchKeys.entryPartition(PROJECT, shard) },
        ConsistentRead: true,
      }),
    ),
  );
  // A Query page holds up to 1 MB: each shard's rows, billed per page, per started 4 KB.
  const billed = (sizes: number[]) => {
    let units = 0;
    let page = 0;
    for (const size of sizes) {
      if (page + size > 1024 * 1024) {
        units += Math.ceil(page / 4096);
        page = 0;
      }
      page += size;
    }
    return units + Math.max(1, Math.ceil(page / 4096));
  };
  const whole = shards.map((rows) => rows.map((row) => itemSize(row)));
  const alone = shards.map((rows) => rows.map(({ f: _facets, ...document }) => itemSize(document)));
  const sum = (sizes: number[][]) => sizes.flat().reduce((total, size) => total + size, 0) / 1024;
  const units = (sizes: number[][]) => sizes.reduce((total, shard) => total + billed(shard), 0);
  return {
    kilobytes: sum(whole),
    readUnits: units(whole),
    documentsKilobytes: sum(alone),
    documentsReadUnits: units(alone),
  };
}
