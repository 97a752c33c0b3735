// The DynamoDB tables, declared once: the CDK stack and the local stack create them from this, and
// the runtime reads its table variables and index names here (which is why it lives in shared/, not infra/).

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyDeclaration {
  partitionKey: { name: string; type: AttributeType };
  sortKey?: { name: string; type: AttributeType };
}

export interface GlobalIndexDeclaration extends KeyDeclaration {
  indexName: string;
  /** KEYS_ONLY keeps index writes to key changes only: hot item updates do not pay for the index. */
  projection: 'KEYS_ONLY' | 'ALL';
}

export interface TableDeclaration extends KeyDeclaration {
  /** Logical id in the CDK stack and base of the local table name. */
  logicalId: string;
  /** Environment variable through which functions receive the table name. */
  envVar: string;
  globalIndexes: GlobalIndexDeclaration[];
  stream?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE';
  timeToLiveAttribute?: string;
}

const pkSk: KeyDeclaration = {
  partitionKey: { name: 'PK', type: 'S' },
  sortKey: { name: 'SK', type: 'S' },
};

export const tables = {
  /** Projects, hashed access tokens and per-project counters. Read in every region. */
  projects: {
    logicalId: 'ProjectsTable',
    envVar: 'PROJECTS_TABLE',
    ...pkSk,
    globalIndexes: [],
  },
  /**
   * Items and deploys. Its stream carries every change of an item's state (new, reactivated,
   * 10^n-th occurrence, resolved, reopened) and every deploy: the notification fan-out reads it
   * and the search indexer read it (two readers: AWS advises at most two per shard).
   */
  items: {
    logicalId: 'ItemsTable',
    envVar: 'ITEMS_TABLE',
    ...pkSk,
    // No index: the listing by counter is the search index's, which holds every numbered item
    // already (its `ByProject` index, dropped, cost each new item one more write unit; docs/DECISIONS.md).
    globalIndexes: [],
    stream: 'NEW_AND_OLD_IMAGES',
  },
  /**
   * Occurrences (the idempotency record of each uuid, with its payload), listing pages, people,
   * counts for graphs, compression dictionaries and the fold's ledger; all but daily counts and
   * people (an item's unique people are counted for its life) expire. Its stream feeds
   * the fold, which counts each occurrence row exactly once into its item and its counts.
   */
  occurrences: {
    logicalId: 'OccurrencesTable',
    envVar: 'OCCURRENCES_TABLE',
    ...pkSk,
    globalIndexes: [],
    stream: 'NEW_IMAGE',
    timeToLiveAttribute: 'expires_at',
  },
  /**
   * Notification rules (their credentials encrypted), delivery records (one per event and rule,
   * written conditionally so nothing posts twice) and logs, noise-control state, tracker links and
   * the daily summaries' tallies. All but rules and links expire.
   */
  notifications: {
    logicalId: 'NotificationsTable',
    envVar: 'NOTIFICATIONS_TABLE',
    ...pkSk,
    globalIndexes: [],
    timeToLiveAttribute: 'expires_at',
  },
  /**
   * The default search engine's index: one entry per numbered item (its own fields and the values its
   * occurrences carried, one row), in a few partitions per project that a search reads in parallel.
   * Also the plain item listing's and `item_by_counter`'s index. Written by the search indexer from
   * the items stream; rebuilt whole by `faultline search reindex` at any time.
   */
  search: {
    logicalId: 'SearchTable',
    envVar: 'SEARCH_TABLE',
    ...pkSk,
    globalIndexes: [],
  },
  /**
   * Per-token call counters, one row per access token and minute window, added to by ingest in
   * batches (shared/rate-limits/limiter.ts); each expires a minute after its window. Regional in
   * every plan, never a Global Table: each region limits the calls it receives, a counter added to in
   * several regions would conflict (last writer wins) and a replicated write costs one more write in
   * every replica region, for rows nobody reads after their minute.
   */
  rateLimits: {
    logicalId: 'RateLimitsTable',
    envVar: 'RATE_LIMITS_TABLE',
    ...pkSk,
    globalIndexes: [],
    timeToLiveAttribute: 'expires_at',
  },
} as const satisfies Record<string, TableDeclaration>;

export type TableName = keyof typeof tables;
