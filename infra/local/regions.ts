// Two regions on one machine, to prove the multi-region design by simulation (docs/regions.md).
// Each region runs its part of the declared wiring in its own worker thread (its own environment and
// module instances, as its own Lambda containers), on its own tables in one DynamoDB Local (named
// per region) and its own fauxqs, behind network links that can be cut. A replicator plays Global
// Table replication between the regions' tables. `cut(region)` stops its processing, its network
// (its API and its queue unreachable) and its replication; `restore(region)` brings it back.

import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  type AttributeValue,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
  UpdateTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { buildDashboard } from '#shared/dashboard/build';
import { DASHBOARD_DIR_VAR } from '#shared/dashboard/serving';
import { EMAIL_FROM_VAR } from '#shared/notifications/email/ses';
import { PUBLIC_URL_VAR } from '#shared/notifications/links';
import { generateSecretsKey, SECRETS_KEY_VAR } from '#shared/notifications/secrets';
import { OPERATIONS_REGIONS_VAR } from '#shared/operations/service';
import type { RetrySchedule } from '#shared/regions/forwarder';
import { LOCAL_RETRY_SCHEDULE_VAR } from '#shared/regions/settings';
import {
  functionsFor,
  pipelineRegions,
  type RegionPlan,
  type RegionRole,
  regionEnvironment,
  roleOf,
} from '#shared/wiring/regions';
import { type TableName, tables } from '#shared/wiring/tables';
import {
  commonEnvironment,
  type FunctionName,
  functions,
  type QueueName,
  queues,
} from '#shared/wiring/topology';
import { startDynamoDbLocal } from './dynamodb-local';
import { type NetworkLink, startNetworkLink } from './network-link';
import { type LocalQueues, startQueues } from './queues';
import type { RegionCommand, RegionWorkerData } from './region-worker';
import { startReplicator } from './replicator';
import { createTables } from './tables';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface RegionsSimulationOptions {
  /** The home region as deployed (`-c home=`). */
  home: string;
  /** The standby region (`-c standby=`): the whole pipeline, dormant while it is not home. */
  standby: string;
  /** Prefix of every table and queue name; each region adds its name. `faultline` unless told. */
  prefix?: string;
  /** A DynamoDB Local already running (several simulations may share one); one is started otherwise. */
  dynamodbEndpoint?: string;
  /** Visibility timeouts in seconds that replace the declared ones (tests need quick retries). */
  visibilityTimeoutOverrides?: Partial<Record<QueueName, number>>;
  /**
   * The longest batching window of any queue trigger (the declared one when shorter), as the local
   * stack's option: a test that waits for its messages gains nothing from fuller batches.
   */
  maxBatchingWindowSeconds?: number;
  /**
   * The forwarders' back-off in place of the deployed one (10 s doubling to 5 minutes), so a test's
   * short cut drains soon after the return; the figures it prints say which schedule it used.
   */
  retrySchedule?: RetrySchedule;
}

export interface SimulatedRegion {
  name: string;
  role: RegionRole;
  /** Its API, through its network link: what clients of this region post to. */
  url: string;
  tableNames: Record<TableName, string>;
  /** Its queues as its own functions reach them. */
  queueUrls: Record<QueueName, string>;
  deadLetterQueueUrls: Record<QueueName, string>;
  /** Its ingest queue as other regions reach it, through its network link (a forwarder's target). */
  ingestQueueUrl: string;
  /** Its SQS endpoint, for inspecting its queues. */
  sqsEndpoint: string;
}

export interface RegionsSimulation {
  plan: RegionPlan;
  regions: Record<string, SimulatedRegion>;
  endpoints: { dynamodb: string };
  /** Stops the region's processing, cuts its network and its replication; resolves once nothing of it runs. */
  cut(region: string): Promise<void>;
  /** Brings a cut region back: replication first (as a region's tables return with it), then its network and functions. */
  restore(region: string): Promise<void>;
  /** Holds some of a region's functions between batches (a fold behind, say); all of them unless named. */
  hold(region: string, functions?: FunctionName[]): Promise<void>;
  release(region: string, functions?: FunctionName[]): Promise<void>;
  /** Resolves once replication has caught up between the regions that are not cut. */
  replicated(options?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** The tables replicated as Global Tables, and where (shared/wiring/regions.ts): search stays regional. */
function replicas(plan: RegionPlan): Partial<Record<TableName, readonly string[]>> {
  const pipeline = pipelineRegions(plan);
  return { projects: plan.regions, items: pipeline, occurrences: pipeline, notifications: pipeline };
}

export async function startRegionsSimulation(options: RegionsSimulationOptions): Promise<RegionsSimulation> {
  const prefix = options.prefix ?? 'faultline';
  const plan: RegionPlan = {
    regions: [options.home, options.standby],
    home: options.home,
    standbys: [options.standby],
  };
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  };
  try {
    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      // Tests of several engineers may share the machine: the JVM gets longer than usual to start.
      const dynamo = await startDynamoDbLocal({ startTimeoutMs: 120_000 });
      cleanups.push(() => dynamo.stop());
      dynamodbEndpoint = dynamo.endpoint;
    }
    const client = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: plan.home, credentials });
    const streamsClient = new DynamoDBStreamsClient({
      endpoint: dynamodbEndpoint,
      region: plan.home,
      credentials,
    });
    cleanups.push(async () => {
      client.destroy();
      streamsClient.destroy();
    });
    const replicated = replicas(plan);

    // Tables, queues and links of each region, before any function runs: every region must be able
    // to name every other region's ingest queue (FAULTLINE_PIPELINE_QUEUES) from its first start.
    interface Built {
      tableNames: Record<TableName, string>;
      queues: LocalQueues;
      queueLink: NetworkLink;
      apiLink: NetworkLink;
      ingestQueueUrl: string;
    }
    const built = new Map<string, Built>();
    for (const region of plan.regions) {
      const tableNames = await createTables(client, `${prefix}-${region}`);
      for (const [table, holders] of Object.entries(replicated) as Array<[TableName, string[]]>) {
        if (holders.includes(region)) await replicaStream(client, tableNames[table]);
      }
      const regionQueues = await startQueues({
        prefix: `${prefix}-${region}`,
        visibilityTimeoutOverrides: options.visibilityTimeoutOverrides,
      });
      cleanups.push(() => regionQueues.stop());
      const sqsOrigin = new URL(regionQueues.endpoint);
      const queueLink = await startNetworkLink({
        targetPort: Number(sqsOrigin.port),
        hostname: sqsOrigin.hostname,
        rewriteOrigin: true,
      });
      cleanups.push(() => queueLink.stop());
      const apiLink = await startNetworkLink({});
      cleanups.push(() => apiLink.stop());
      const ingestQueueUrl = regionQueues.queues.ingest.url.replace(sqsOrigin.origin, queueLink.origin);
      built.set(region, { tableNames, queues: regionQueues, queueLink, apiLink, ingestQueueUrl });
    }

    const replicator = await startReplicator({
      client,
      streamsClient,
      regions: Object.fromEntries(plan.regions.map((region) => [region, built.get(region)!.tableNames])),
      replicas: replicated,
    });
    cleanups.push(() => replicator.stop());

    const dashboard = await buildDashboard();
    // Channel credentials sealed in one region are read in another (the notifications table is
    // replicated): every region has the same key, as a replicated secret would give them.
    const secretsKey = generateSecretsKey();
    const pipelineQueues = Object.fromEntries(
      pipelineRegions(plan).map((region) => [region, built.get(region)!.ingestQueueUrl]),
    );

    const workers = new Map<string, RegionWorker>();
    const regions: Record<string, SimulatedRegion> = {};
    const queueNames = Object.keys(queues) as QueueName[];
    // Started side by side: loading every handler is most of a region's start.
    const started = await Promise.allSettled(
      plan.regions.map(async (region) => {
        const parts = built.get(region)!;
        const worker = await startRegionWorker({
          region,
          functions: functionsFor(roleOf(plan, region), Object.keys(functions) as FunctionName[]),
          environment: {
            AWS_REGION: region,
            AWS_DEFAULT_REGION: region,
            AWS_ACCESS_KEY_ID: credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
            AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamodbEndpoint,
            AWS_ENDPOINT_URL_SQS: parts.queues.endpoint,
            // No email in these scenarios: a closed port, so a stray send fails rather than leaves.
            AWS_ENDPOINT_URL_SESV2: 'http://127.0.0.1:9',
            [EMAIL_FROM_VAR]: 'faultline@localhost',
            // No metrics either: the Operations page would show each region as not answering.
            AWS_ENDPOINT_URL_CLOUDWATCH: 'http://127.0.0.1:9',
            [OPERATIONS_REGIONS_VAR]: JSON.stringify(
              plan.regions.map((planned) => ({
                region: planned,
                role: roleOf(plan, planned),
                stackName: '',
              })),
            ),
            FAULTLINE_LOCAL: '1',
            [DASHBOARD_DIR_VAR]: dashboard.outDir,
            [SECRETS_KEY_VAR]: secretsKey,
            [PUBLIC_URL_VAR]: parts.apiLink.origin,
            [regionEnvironment.self]: region,
            [regionEnvironment.pipelineQueues]: JSON.stringify(pipelineQueues),
            [regionEnvironment.initialHome]: plan.home,
            ...(options.retrySchedule
              ? {
                  [LOCAL_RETRY_SCHEDULE_VAR]: `${options.retrySchedule.firstSeconds},${options.retrySchedule.longestSeconds}`,
                }
              : {}),
            ...commonEnvironment,
            ...Object.fromEntries(
              (Object.keys(tables) as TableName[]).map((name) => [
                tables[name].envVar,
                parts.tableNames[name],
              ]),
            ),
            ...Object.fromEntries(
              queueNames.map((name) => [queues[name].envVar, parts.queues.queues[name].url]),
            ),
          },
          dynamodbEndpoint,
          sqsEndpoint: parts.queues.endpoint,
          ...(options.maxBatchingWindowSeconds === undefined
            ? {}
            : { maxBatchingWindowSeconds: options.maxBatchingWindowSeconds }),
          tableNames: parts.tableNames,
          queues: Object.fromEntries(
            queueNames.map((name) => [
              name,
              { url: parts.queues.queues[name].url, arn: parts.queues.queues[name].arn },
            ]),
          ) as RegionWorkerData['queues'],
        });
        cleanups.push(() => worker.stop());
        parts.apiLink.connect(worker.httpPort);
        workers.set(region, worker);
      }),
    );
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    for (const region of plan.regions) {
      const parts = built.get(region)!;
      regions[region] = {
        name: region,
        role: roleOf(plan, region),
        url: parts.apiLink.origin,
        tableNames: parts.tableNames,
        queueUrls: Object.fromEntries(
          queueNames.map((name) => [name, parts.queues.queues[name].url]),
        ) as Record<QueueName, string>,
        deadLetterQueueUrls: Object.fromEntries(
          queueNames.map((name) => [name, parts.queues.queues[name].deadLetterUrl]),
        ) as Record<QueueName, string>,
        ingestQueueUrl: parts.ingestQueueUrl,
        sqsEndpoint: parts.queues.endpoint,
      };
    }

    const regionParts = (region: string) => {
      const parts = built.get(region);
      const worker = workers.get(region);
      if (!parts || !worker) throw new Error(`${region} is not one of the simulated regions`);
      return { parts, worker };
    };
    const cutRegions = new Set<string>();
    let stopping: Promise<void> | undefined;
    return {
      plan,
      regions,
      endpoints: { dynamodb: dynamodbEndpoint },
      async cut(region) {
        const { parts, worker } = regionParts(region);
        cutRegions.add(region);
        parts.apiLink.sever();
        parts.queueLink.sever();
        await Promise.all([worker.send({ type: 'hold' }), replicator.cutOff(region)]);
      },
      async restore(region) {
        const { parts, worker } = regionParts(region);
        cutRegions.delete(region);
        replicator.reconnect(region);
        parts.queueLink.restore();
        parts.apiLink.restore();
        await worker.send({ type: 'release' });
      },
      hold: (region, names) => regionParts(region).worker.send({ type: 'hold', functions: names }),
      release: (region, names) => regionParts(region).worker.send({ type: 'release', functions: names }),
      async replicated({ timeoutMs = 60_000 } = {}) {
        const deadline = Date.now() + timeoutMs;
        const connected = plan.regions.filter((region) => !cutRegions.has(region));
        // A stream shows a write a moment after it is made: idle streams are not enough, the replicas
        // must hold the same rows.
        for (;;) {
          await replicator.idle({ timeoutMs });
          if (await replicasAgree(client, replicated, connected, (region) => built.get(region)!.tableNames))
            return;
          if (Date.now() > deadline) throw new Error(`replication did not converge within ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      },
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Whether every replicated table holds the same rows in each of `regions`. */
async function replicasAgree(
  client: DynamoDBClient,
  replicated: Partial<Record<TableName, readonly string[]>>,
  regions: readonly string[],
  tableNamesOf: (region: string) => Record<TableName, string>,
): Promise<boolean> {
  for (const [table, holders] of Object.entries(replicated) as Array<[TableName, string[]]>) {
    const present = holders.filter((region) => regions.includes(region));
    const digests = await Promise.all(
      present.map((region) => tableDigest(client, tableNamesOf(region)[table])),
    );
    if (digests.some((digest) => digest !== digests[0])) return false;
  }
  return true;
}

/** The rows of a table as one string, whatever the order the scan returns them in. */
async function tableDigest(client: DynamoDBClient, tableName: string): Promise<string> {
  const rows: string[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    for (const row of page.Items ?? []) rows.push(JSON.stringify(unmarshall(row), sortedKeys));
    start = page.LastEvaluatedKey;
  } while (start);
  return createHash('sha1').update(rows.sort().join('\n')).digest('base64');
}

/** JSON.stringify replacer: an object's keys in one order; sets (as arrays of Set) sorted. */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value instanceof Set) return [...value].map(String).sort();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return value;
}

/** A Global Table's replica has a stream of new and old images; the simulation's replicator reads it. */
async function replicaStream(client: DynamoDBClient, tableName: string): Promise<void> {
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (table?.StreamSpecification?.StreamEnabled) return;
  await client.send(
    new UpdateTableCommand({
      TableName: tableName,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await waitUntilTableExists(
    { client, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 },
    { TableName: tableName },
  );
}

interface RegionWorker {
  httpPort: number;
  send(command: DistributiveOmit<RegionCommand, 'id'>): Promise<void>;
  stop(): Promise<void>;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

async function startRegionWorker(data: RegionWorkerData): Promise<RegionWorker> {
  const worker = new Worker(new URL('./region-worker-boot.mjs', import.meta.url), { workerData: data });
  const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const httpPort = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`region ${data.region}'s worker exited (${code}) while starting`)),
    );
    worker.once('message', (message: { ready?: boolean; httpPort?: number }) => {
      if (message.ready && message.httpPort) resolve(message.httpPort);
      else reject(new Error(`region ${data.region}'s worker said ${JSON.stringify(message)}`));
    });
  });
  worker.removeAllListeners('exit');
  worker.removeAllListeners('error');
  worker.on('error', (error) => {
    console.error(`region ${data.region}'s worker failed`, error);
    for (const pending of waiting.values()) pending.reject(error);
    waiting.clear();
  });
  worker.on('message', (message: { id: number; error?: string }) => {
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.error) pending.reject(new Error(`region ${data.region}: ${message.error}`));
    else pending.resolve();
  });
  const send = (command: DistributiveOmit<RegionCommand, 'id'>) =>
    new Promise<void>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...command, id });
    });
  let stopped: Promise<void> | undefined;
  return {
    httpPort,
    send,
    stop() {
      stopped ??= send({ type: 'stop' })
        .catch(() => {})
        .then(async () => {
          await worker.terminate();
        });
      return stopped;
    },
  };
}
