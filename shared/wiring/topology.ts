// The wiring, declared once: which function runs on which trigger with which tables and queues.
// The CDK stack and the local runtime both read this, so a laptop and AWS cannot drift apart; the
// handlers read it too (their routes, their queues' variables), hence shared/ rather than infra/.

import { RATE_LIMIT_HEADERS } from '#shared/rate-limits/headers';
import type { RegionRole } from './regions';
import type { TableName } from './tables';

export interface QueueDeclaration {
  logicalId: string;
  /** Environment variable through which functions receive the queue URL. */
  envVar: string;
  visibilityTimeoutSeconds: number;
  retentionDays: number;
  /** Rollbar accepts payloads up to 512 KiB; the envelope around one must fit in a message. */
  maxMessageSizeBytes: number;
  /** Receives after which a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  /** The queue's oldest message older than this means its consumer is down or behind: an alarm. */
  oldestMessageAlarmSeconds: number;
  deadLetter: { logicalId: string; retentionDays: number };
}

export const queues = {
  /** Accepted items, from ingest to the storing worker. */
  ingest: {
    logicalId: 'IngestQueue',
    envVar: 'INGEST_QUEUE_URL',
    // Six times the storing worker's timeout, as AWS advises for SQS event sources.
    visibilityTimeoutSeconds: 180,
    retentionDays: 14,
    maxMessageSizeBytes: 1_048_576,
    maxReceiveCount: 5,
    // The worker normally drains a message within seconds.
    oldestMessageAlarmSeconds: 300,
    deadLetter: { logicalId: 'IngestDeadLetterQueue', retentionDays: 14 },
  },
  /**
   * Deliveries, from the fan-out (and `rules test`) to the sender: one message per event and rule.
   * A delivery the vendor refuses for now is made visible again after its backoff (or the vendor's
   * Retry-After) by the sender itself; after the last attempt it moves to the dead-letter queue.
   */
  notifications: {
    logicalId: 'NotificationQueue',
    envVar: 'NOTIFICATION_QUEUE_URL',
    visibilityTimeoutSeconds: 360,
    retentionDays: 4,
    maxMessageSizeBytes: 1_048_576,
    maxReceiveCount: 10,
    // Retries wait up to 15 minutes between attempts (longer when a vendor says so): an hour-old
    // delivery means a channel has been failing for a while.
    oldestMessageAlarmSeconds: 3600,
    deadLetter: { logicalId: 'NotificationDeadLetterQueue', retentionDays: 14 },
  },
} as const satisfies Record<string, QueueDeclaration>;

export type QueueName = keyof typeof queues;

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** An API Gateway HTTP API route, `METHOD /path/{param}`; paths never end in `/`. */
export type RouteKey = `${HttpMethod} /${string}`;

export type Trigger =
  | {
      kind: 'http';
      routes: RouteKey[];
      /**
       * Also served on a Lambda function URL of its `live` alias (AuthType NONE: the access token is
       * the authentication, as on the API route; CORS as `httpApi.cors`), in every region that runs it.
       * The URL routes by method and path to the same routes (shared/http/router.ts) and costs nothing
       * beyond the invocation, where API Gateway bills each request.
       */
      functionUrl?: boolean;
    }
  | { kind: 'queue'; queue: QueueName; batchSize: number; maxBatchingWindowSeconds: number }
  | {
      kind: 'stream';
      table: TableName;
      batchSize: number;
      startingPosition: 'TRIM_HORIZON' | 'LATEST';
      maxBatchingWindowSeconds?: number;
      /**
       * Split a failing batch in two and retry the halves (default). A consumer whose exactly-once
       * bookkeeping relies on retries starting where a batch or a reported failure started says no.
       */
      bisectOnError?: boolean;
      /** Retries of a failing batch before it goes to the failure queue; undefined: until its records expire (24 h). */
      retryAttempts?: number;
      /** Only these records invoke the function: `eventName`s, and the `entity` of the new image. */
      filter?: { eventNames: readonly ('INSERT' | 'MODIFY' | 'REMOVE')[]; entities: readonly string[] };
    }
  /** Runs on a fixed schedule (an EventBridge rule in AWS, a timer locally), every so many minutes. */
  | { kind: 'schedule'; everyMinutes: number };

/**
 * A DynamoDB action a function sends to a table, as IAM names it (without `dynamodb:`). A transaction
 * is authorized item by item: its `Put`s need PutItem, its `Update`s UpdateItem, and so on.
 */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem'
  | 'DescribeTable';

/** An SQS action a function sends to a queue it does not consume, as IAM names it (without `sqs:`). */
export type QueueAction = 'SendMessage' | 'GetQueueAttributes';

/**
 * `consume`: the function is triggered by the queue (the event source mapping receives and deletes;
 * the grant also lets the function's code change a received message's visibility); otherwise the
 * actions the function's code sends to it.
 */
export type QueueAccess = 'consume' | readonly QueueAction[];

/**
 * Consumed, and sent to by the consumer's own code as well: a pipeline region's storing worker re-sends
 * a message that must wait for home to its own queue, delayed (shared/regions/forwarder.ts, `requeue`).
 * The stack grants what `consume` grants plus these actions.
 */
export interface ConsumeAndSend {
  consume: true;
  send: readonly QueueAction[];
}

export function isConsumeAndSend(access: QueueAccess | ConsumeAndSend): access is ConsumeAndSend {
  return typeof access === 'object' && 'consume' in access;
}

/** What a function sends to tables and queues: its grants. */
export interface FunctionAccess {
  tables: Partial<Record<TableName, readonly TableAction[]>>;
  queues: Partial<Record<QueueName, QueueAccess | ConsumeAndSend>>;
  /**
   * Sends what it does not store to the home region's ingest queue, in another region: the stack
   * grants `sqs:SendMessage` on the pipeline regions' ingest queues and sets FAULTLINE_PIPELINE_QUEUES.
   */
  forwardsToHome?: boolean;
}

export interface FunctionDeclaration {
  /** Handler file, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  trigger: Trigger;
  /**
   * Exactly the actions the function's code sends to each table: the stack grants these and no more
   * (Query also on the table's indexes), and test/infra/wiring.test.ts records what the handlers
   * send on the emulators and fails on any difference.
   */
  tables: Partial<Record<TableName, readonly TableAction[]>>;
  queues: Partial<Record<QueueName, QueueAccess>>;
  timeoutSeconds: number;
  memoryMb: number;
  /**
   * Outside services the code uses: `secretsKey` reads the key that seals channel credentials
   * (notification rules), `email` sends through SES from the stack's sender identity, `dashboard`
   * carries the built web dashboard in its bundle, `cloudwatch` reads the installation's metrics in
   * each of its regions (CloudWatch ListMetrics and GetMetricData, which IAM cannot scope to a
   * resource) for the Operations page, and is told the regions (`FAULTLINE_OPERATIONS_REGIONS`).
   */
  uses?: readonly ('secretsKey' | 'email' | 'dashboard' | 'cloudwatch')[];
  /**
   * In a plan of several regions (shared/wiring/regions.ts), what the function sends there in place of
   * `tables` and `queues`, by the part its region plays (`pipeline`: home and standbys); a part not
   * named sends what one region does. `accessOf` reads it.
   */
  severalRegions?: Partial<Record<'pipeline' | 'edge', FunctionAccess>>;
}

export const functions = {
  ingestItem: {
    entry: 'functions/ingest-item.ts',
    description: 'Validates Rollbar items and enqueues them for storing',
    // rollbar.js posts to the endpoint itself (`/api/1/`), the other SDKs to `/api/1/item/`. SDKs post
    // through the function URL (the `IngestUrl` output): API Gateway's $1 per million requests was most of
    // what a hot occurrence cost; the API routes stay for a custom domain (docs/operations.md).
    trigger: { kind: 'http', routes: ['POST /api/1/item', 'POST /api/1'], functionUrl: true },
    // The token and its project are read; the occurrence is sent on, never written here. The token's
    // calls are added to its rate-limit counter, once per batch of calls (shared/rate-limits/limiter.ts).
    tables: { projects: ['GetItem'], rateLimits: ['UpdateItem'] },
    queues: { ingest: ['SendMessage'] },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  ingestDeploy: {
    entry: 'functions/ingest-deploy.ts',
    description: 'Records deploys and updates their status',
    trigger: { kind: 'http', routes: ['POST /api/1/deploy', 'PATCH /api/1/deploy/{deployId}'] },
    // One counter update numbers the deploy; the token rows are only read; calls count against the
    // token's rate limit as items do.
    tables: {
      projects: ['GetItem', 'UpdateItem'],
      items: ['PutItem', 'UpdateItem'],
      rateLimits: ['UpdateItem'],
    },
    queues: {},
    timeoutSeconds: 10,
    memoryMb: 256,
    severalRegions: {
      // An edge has no items table: the deploy (or its status) goes through the ingest queue to home.
      // Its calls count against the edge's own rate-limit counters (regional in every plan).
      edge: {
        tables: { projects: ['GetItem'], rateLimits: ['UpdateItem'] },
        queues: { ingest: ['SendMessage'] },
      },
    },
  },
  readApi: {
    entry: 'functions/read-api.ts',
    description: 'Serves items, occurrences, counts and deploys in Rollbar shapes',
    trigger: {
      kind: 'http',
      routes: [
        'GET /api/1/items',
        'GET /api/1/item/{itemId}',
        'GET /api/1/item_by_counter/{counter}',
        'GET /api/1/item/{itemId}/instances',
        'GET /api/1/instance/{instanceId}',
        'GET /api/1/item/{itemId}/counts',
        'GET /api/1/counts',
        'GET /api/1/person/{personId}/instances',
        'GET /api/1/deploys',
        'GET /api/1/deploy/{deployId}',
        // The Operations page: the installation's metrics, read from CloudWatch per look.
        'GET /api/1/operations/metrics',
      ],
    },
    tables: {
      projects: ['GetItem'],
      items: ['GetItem', 'BatchGetItem', 'Query'],
      occurrences: ['GetItem', 'BatchGetItem', 'Query'],
      // A search reads the project's index versions (BatchGetItem) and the ranges of documents (and
      // facets when the query asks) changed since this container read them; a project too big for
      // the cache, its partitions or the few documents a facet qualifier selects.
      search: ['Query', 'BatchGetItem'],
    },
    queues: {},
    timeoutSeconds: 10,
    // A search matches a project's documents in memory: Lambda's CPU grows with its memory.
    memoryMb: 1024,
    uses: ['cloudwatch'],
  },
  updateItem: {
    entry: 'functions/update-item.ts',
    description: 'Resolves, reopens or mutes an item, or sets its level',
    trigger: { kind: 'http', routes: ['PATCH /api/1/item/{itemId}'] },
    // A conditional update that returns the new item: nothing else is read or written.
    tables: { projects: ['GetItem'], items: ['UpdateItem'] },
    queues: {},
    timeoutSeconds: 10,
    memoryMb: 256,
  },
  health: {
    entry: 'functions/health.ts',
    description: 'Answers 200 when the region reaches its tables and queue',
    trigger: { kind: 'http', routes: ['GET /health'] },
    // Reaching them is enough: it describes the table and reads the queue's attributes, nothing more.
    tables: { projects: ['DescribeTable'] },
    queues: { ingest: ['GetQueueAttributes'] },
    timeoutSeconds: 5,
    memoryMb: 256,
  },
  serveDashboard: {
    entry: 'functions/serve-dashboard.ts',
    description: 'Serves the web dashboard: its page at each of its paths, and its built assets',
    trigger: {
      kind: 'http',
      // The page answers at every path the app routes (notification links point at /items/{counter}).
      routes: [
        'GET /',
        'GET /items',
        'GET /items/{counter}',
        'GET /deploys',
        'GET /notifications',
        'GET /operations',
        'GET /assets/{file}',
      ],
    },
    // Static files bundled with the function: no table, no queue. The browser calls the API itself.
    tables: {},
    queues: {},
    timeoutSeconds: 5,
    memoryMb: 256,
    uses: ['dashboard'],
  },
  storeOccurrences: {
    entry: 'functions/store-occurrences.ts',
    description: 'Fingerprints occurrences and stores each once',
    trigger: { kind: 'queue', queue: 'ingest', batchSize: 100, maxBatchingWindowSeconds: 1 },
    // Conditional puts of occurrences and dictionaries, and reads of the day's dictionary.
    tables: { occurrences: ['GetItem', 'PutItem'] },
    queues: { ingest: 'consume' },
    timeoutSeconds: 30,
    memoryMb: 1024,
    severalRegions: {
      // The home row read (cached briefly); batches forwarded while another region is home, or held
      // while a promotion toward this one is under way, what must wait re-sent to its own queue with a
      // delay (SendMessage); deploys posted to an edge recorded: a message marker read, then the deploy
      // numbered (a counter update) and put with its marker in one transaction, or its status updated.
      pipeline: {
        tables: {
          occurrences: ['GetItem', 'PutItem'],
          projects: ['GetItem', 'UpdateItem'],
          items: ['GetItem', 'PutItem', 'UpdateItem'],
        },
        queues: { ingest: { consume: true, send: ['SendMessage'] } },
        forwardsToHome: true,
      },
    },
  },
  foldOccurrences: {
    entry: 'functions/fold-occurrences.ts',
    description: 'Counts stored occurrences into their items, counts, people and listings',
    trigger: {
      kind: 'stream',
      table: 'occurrences',
      // Big batches aggregate a hot item's occurrences into one update; see docs/grouping.md.
      batchSize: 1000,
      maxBatchingWindowSeconds: 2,
      startingPosition: 'TRIM_HORIZON',
      // The fold's ledger is keyed by the first record of each step it commits: retries must
      // start there (the batch's first record, or the failure it reports), never mid-batch.
      bisectOnError: false,
      filter: { eventNames: ['INSERT'], entities: ['occurrence'] },
    },
    tables: {
      // Numbers new items: one counter update per project per step.
      projects: ['UpdateItem'],
      items: ['BatchGetItem', 'PutItem', 'UpdateItem'],
      // The ledger is read by key and written in the step's transaction, with the count rows; pages
      // and people markers are puts, the markers read in batches.
      occurrences: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
    },
    queues: {},
    timeoutSeconds: 120,
    memoryMb: 1024,
    severalRegions: {
      // The home row read (cached briefly): a region counts its own rows only while it is home.
      pipeline: {
        tables: {
          projects: ['GetItem', 'UpdateItem'],
          items: ['BatchGetItem', 'PutItem', 'UpdateItem'],
          occurrences: ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'],
        },
        queues: {},
      },
    },
  },
  notificationRules: {
    entry: 'functions/notification-rules.ts',
    description: "Manages notification rules through Rollbar's notifications API, and their delivery logs",
    trigger: {
      kind: 'http',
      routes: [
        'GET /api/1/notifications/{channel}/rules',
        'POST /api/1/notifications/{channel}/rules',
        'GET /api/1/notifications/{channel}/rule/{ruleId}',
        'PUT /api/1/notifications/{channel}/rule/{ruleId}',
        'DELETE /api/1/notifications/{channel}/rule/{ruleId}',
        'GET /api/1/notifications/{channel}/rule/{ruleId}/log',
        'POST /api/1/notifications/{channel}/rule/{ruleId}/test',
      ],
    },
    // Rules are numbered by a counter update and written with their summary-list entry in a
    // transaction; `test` queues a sample delivery.
    tables: {
      projects: ['GetItem'],
      notifications: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'],
    },
    queues: { notifications: ['SendMessage'] },
    timeoutSeconds: 10,
    memoryMb: 256,
    uses: ['secretsKey'],
  },
  indexSearch: {
    entry: 'functions/index-search.ts',
    description: "Keeps the search index up to date with the items' changes",
    trigger: {
      kind: 'stream',
      table: 'items',
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      // Upserts are idempotent: a new index starts from what the stream still holds (24 h), and
      // `faultline search reindex` fills in the rest.
      startingPosition: 'TRIM_HORIZON',
      filter: { eventNames: ['INSERT', 'MODIFY'], entities: ['item'] },
      retryAttempts: 10,
    },
    // Documents and facets written whole in batches, the facets read first to merge, then the
    // project's index versions bumped (UpdateItem) so searches read again what changed; an item's
    // new occurrences read for the values they carry.
    tables: {
      search: ['BatchGetItem', 'BatchWriteItem', 'UpdateItem'],
      occurrences: ['GetItem'],
    },
    queues: {},
    timeoutSeconds: 60,
    memoryMb: 512,
  },
  fanOutNotifications: {
    entry: 'functions/fan-out-notifications.ts',
    description:
      "Reads item and deploy changes, evaluates each project's rules and queues one delivery per event and rule",
    trigger: {
      kind: 'stream',
      table: 'items',
      batchSize: 100,
      maxBatchingWindowSeconds: 0,
      // A fan-out added to a running installation must not replay a day of old changes as news.
      startingPosition: 'LATEST',
      // Items and deploys written or changed; TTL and other deletions tell nothing.
      filter: { eventNames: ['INSERT', 'MODIFY'], entities: ['item', 'deploy'] },
      // A record that keeps failing (its dependencies down for long) goes to the failure queue after
      // these retries, bisected down to itself, rather than holding its shard for 24 hours.
      retryAttempts: 10,
    },
    // Rules by query; noise state, rate windows and the daily summaries' tallies by conditional
    // updates and puts (nothing is read first); the last occurrence (and its payload's dictionary)
    // read for payload filters and webhook payloads.
    tables: {
      notifications: ['Query', 'PutItem', 'UpdateItem'],
      occurrences: ['GetItem'],
    },
    queues: { notifications: ['SendMessage'] },
    timeoutSeconds: 60,
    memoryMb: 512,
    uses: ['secretsKey'],
    severalRegions: {
      // The home row read (cached briefly): only the home region notifies.
      pipeline: {
        tables: {
          notifications: ['Query', 'PutItem', 'UpdateItem'],
          occurrences: ['GetItem'],
          projects: ['GetItem'],
        },
        queues: { notifications: ['SendMessage'] },
      },
    },
  },
  sendNotifications: {
    entry: 'functions/send-notifications.ts',
    description: 'Delivers notifications to their channels, once each, with retries',
    trigger: { kind: 'queue', queue: 'notifications', batchSize: 10, maxBatchingWindowSeconds: 0 },
    // The rule and a settled delivery record are read by key; records are claimed and settled and
    // pace slots reserved by conditional updates; log lines (and tracker links) are puts. Retries
    // and paced deliveries change the received message's visibility, which consuming grants.
    tables: { notifications: ['GetItem', 'PutItem', 'UpdateItem'] },
    queues: { notifications: 'consume' },
    timeoutSeconds: 60,
    memoryMb: 256,
    uses: ['secretsKey', 'email'],
  },
  forwardOccurrences: {
    entry: 'functions/forward-occurrences.ts',
    description:
      "An edge region's forwarder: moves accepted items from its ingest queue to the home region's",
    // Edge regions only (shared/wiring/regions.ts). Batches of ten: one SendMessageBatch each, split
    // further when their bodies pass the batch's size limit.
    trigger: { kind: 'queue', queue: 'ingest', batchSize: 10, maxBatchingWindowSeconds: 1 },
    // The home row, read from this region's replica of the projects table (cached briefly).
    tables: { projects: ['GetItem'] },
    // Its own queue consumed; the home's ingest queue, in another region, is granted by the stack
    // (sqs:SendMessage on the pipeline regions' ingest queues, nothing else).
    queues: { ingest: 'consume' },
    timeoutSeconds: 30,
    memoryMb: 256,
    severalRegions: {
      edge: { tables: { projects: ['GetItem'] }, queues: { ingest: 'consume' }, forwardsToHome: true },
    },
  },
  sendDailySummaries: {
    entry: 'functions/send-daily-summaries.ts',
    description: 'Every quarter hour, queues the daily summaries due then',
    trigger: { kind: 'schedule', everyMinutes: 15 },
    tables: { notifications: ['GetItem', 'Query', 'PutItem'], items: ['BatchGetItem'] },
    queues: { notifications: ['SendMessage'] },
    timeoutSeconds: 60,
    memoryMb: 256,
    uses: ['secretsKey'],
  },
} as const satisfies Record<string, FunctionDeclaration>;

export type FunctionName = keyof typeof functions;

/**
 * What a function sends in a region playing `role`: its `severalRegions` entry for that part, or
 * what it sends in one region. The stacks grant this, and the wiring tests hold the handlers to it.
 */
export function accessOf(name: FunctionName, role: RegionRole): FunctionAccess {
  const declaration: FunctionDeclaration = functions[name];
  const part = role === 'edge' ? 'edge' : role === 'single' ? undefined : 'pipeline';
  const regional = part ? declaration.severalRegions?.[part] : undefined;
  return regional ?? { tables: declaration.tables, queues: declaration.queues };
}

/**
 * The HTTP API's CORS, and the ingest function URL's: browser SDKs post items from any site, with the
 * token in a header and no cookies, so any origin may call. API Gateway and Lambda's function URLs
 * answer preflights and add the headers themselves.
 */
export const httpApi = {
  cors: {
    allowOrigins: ['*'],
    allowMethods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
    allowHeaders: ['content-type', 'x-rollbar-access-token'],
    // Browsers hide response headers a page did not ask for: browser SDKs read the rate limit's.
    exposeHeaders: [...RATE_LIMIT_HEADERS],
    maxAgeSeconds: 86_400,
  },
} as const satisfies {
  cors: {
    allowOrigins: string[];
    allowMethods: HttpMethod[];
    allowHeaders: string[];
    exposeHeaders: string[];
    maxAgeSeconds: number;
  };
};

/** Settings every function receives, besides its tables and queues. */
export const commonEnvironment = {
  POWERTOOLS_SERVICE_NAME: 'faultline',
  POWERTOOLS_METRICS_NAMESPACE: 'Faultline',
} as const;
