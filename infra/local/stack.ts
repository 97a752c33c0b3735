// Plays the declared wiring on real emulators: DynamoDB Local, fauxqs, the HTTP adapter and the pollers.
import { statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildDashboard } from '#shared/dashboard/build';
import { DASHBOARD_DIR_VAR } from '#shared/dashboard/serving';
import { EMAIL_FROM_VAR } from '#shared/notifications/email/ses';
import { PUBLIC_URL_VAR } from '#shared/notifications/links';
import { generateSecretsKey, SECRETS_KEY_VAR } from '#shared/notifications/secrets';
import { OPERATIONS_REGIONS_VAR } from '#shared/operations/service';
import { functionsFor } from '#shared/wiring/regions';
import { type TableName, tables } from '#shared/wiring/tables';
import {
  commonEnvironment,
  type FunctionDeclaration,
  type FunctionName,
  functions,
  type QueueName,
  queues,
} from '#shared/wiring/topology';
import { localMetrics, startLocalCloudWatch } from './cloudwatch-local';
import { startDynamoDbLocal } from './dynamodb-local';
import { type HttpRoute, startHttpAdapter } from './http-adapter';
import {
  invocationsStarted,
  invoke,
  type LambdaFunction,
  type LoadedFunction,
  loadFunction,
} from './lambda-runtime';
import { type LocalQueues, startQueues } from './queues';
import { type LocalSes, startLocalSes } from './ses-local';
import { type SqsPoller, startSqsPoller } from './sqs-poller';
import { latestStreamArn, type StreamPoller, startStreamPoller } from './stream-poller';
import { createTables } from './tables';

export const LOCAL_REGION = 'us-east-1';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface LocalStackOptions {
  /** Port of the HTTP API; 3000 unless told, 0 picks a free one. */
  port?: number;
  /** Interface the HTTP API listens on; 127.0.0.1 unless told. */
  host?: string;
  /** Keep DynamoDB data in this directory across restarts; in memory otherwise. */
  dataDir?: string;
  /** Prefix of the local table and queue names; `faultline` unless told. */
  prefix?: string;
  /** Visibility timeouts in seconds that replace the declared ones (tests need quick retries). */
  visibilityTimeoutOverrides?: Partial<Record<QueueName, number>>;
  /**
   * Caps every trigger's batching window (seconds). End-to-end tests that send one occurrence at a time
   * set 0: Lambda's window only trades latency for fuller batches, and nothing they assert depends on it.
   */
  maxBatchingWindowSeconds?: number;
  /** No progress lines on stdout. */
  quiet?: boolean;
  /** Where notification links point; the stack's own URL unless told (the dashboard will be served there). */
  publicUrl?: string;
  /** Where handler and poller failures go; console.error unless told. */
  logError?: (message: string, error: unknown) => void;
}

export interface LocalStack {
  url: string;
  port: number;
  endpoints: { dynamodb: string; sqs: string; ses: string; cloudwatch: string };
  tableNames: Record<TableName, string>;
  queueUrls: Record<QueueName, string>;
  deadLetterQueueUrls: Record<QueueName, string>;
  /** Every environment variable the stack set for the handlers. */
  environment: Record<string, string>;
  /** The fauxqs server and queues, for inspection in tests. */
  queues: LocalQueues;
  /** The SES emulator the email channel sends to; its inbox page is `ses.inboxUrl`. */
  ses: LocalSes;
  /** Resolves once every queue is drained and every stream read to its end. */
  idle(options?: { timeoutMs?: number }): Promise<void>;
  /** Invokes a scheduled function now, as its schedule would (tests; the timer keeps running). */
  runScheduled(name: FunctionName): Promise<unknown>;
  /** Stops the pollers (waiting for their batches), the HTTP API and the emulators; restores process.env. */
  stop(): Promise<void>;
}

/**
 * Starts the whole local stack. Handlers are imported once per process (module scope builds their
 * clients from the environment, as a cold start does), so start one stack per process or test file.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const prefix = options.prefix ?? 'faultline';
  const say = options.quiet ? () => {} : (line: string) => console.log(line);
  const cleanups: Array<() => Promise<void>> = [];
  const savedEnvironment = new Map<string, string | undefined>();
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const [name, value] of savedEnvironment) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    savedEnvironment.clear();
  };

  try {
    // Fail before starting anything if a declared handler is missing (they are written in parallel).
    const declared = declaredFunctions();
    const missing = declared.filter((fn) => !fileExists(fn.entry));
    if (missing.length > 0) {
      throw new Error(
        `cannot start the local stack: missing handler files:\n${missing
          .map((fn) => `  ${fn.name}: ${fn.entry}`)
          .join('\n')}`,
      );
    }

    const dynamo = await startDynamoDbLocal({ dataDir: options.dataDir });
    cleanups.push(() => dynamo.stop());
    say(
      `DynamoDB Local on ${dynamo.endpoint}${options.dataDir ? ` (data in ${options.dataDir})` : ' (in memory)'}`,
    );
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials });
    cleanups.push(async () => dynamoClient.destroy());
    const tableNames = await createTables(dynamoClient, prefix);

    const localQueues = await startQueues({
      prefix,
      visibilityTimeoutOverrides: options.visibilityTimeoutOverrides,
    });
    cleanups.push(() => localQueues.stop());
    say(`fauxqs (SQS) on ${localQueues.endpoint} — in memory only: queued messages do not survive a restart`);

    const ses = await startLocalSes();
    cleanups.push(() => ses.stop());

    // The metrics the handlers and the local runtime produce, for the Operations page (docs/dashboard.md).
    const cloudwatch = await startLocalCloudWatch(localMetrics);
    cleanups.push(() => cloudwatch.stop());
    const emfSinkKey = Symbol.for('faultline.local.emfSink');
    (globalThis as Record<symbol, unknown>)[emfSinkKey] = (document: unknown) =>
      localMetrics.putEmf(LOCAL_REGION, document);
    cleanups.push(async () => {
      delete (globalThis as Record<symbol, unknown>)[emfSinkKey];
    });
    say(`aws-ses-v2-local (SES) on ${ses.endpoint} — sent email is shown at ${ses.inboxUrl}`);

    const queueNames = Object.keys(queues) as QueueName[];
    const queueUrls = mapValues(queueNames, (name) => localQueues.queues[name].url);
    // The dashboard's page and assets, built fresh each start (esbuild, well under a second) and served
    // by its declared function as in AWS.
    const dashboard = await buildDashboard();

    const environment: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: localQueues.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
      // One region, its functions named as the wiring names them (no stack name before them).
      [OPERATIONS_REGIONS_VAR]: JSON.stringify([{ region: LOCAL_REGION, role: 'single', stackName: '' }]),
      // The emulator sends from any address; in AWS this is the stack's verified SES identity.
      [EMAIL_FROM_VAR]: 'faultline@localhost',
      // Handlers log short human lines here (shared/observability.ts), JSON in AWS.
      FAULTLINE_LOCAL: '1',
      [DASHBOARD_DIR_VAR]: dashboard.outDir,
      // Seals channel credentials; kept beside the data when there is a data directory.
      [SECRETS_KEY_VAR]: await localSecretsKey(options.dataDir),
      ...commonEnvironment,
      ...Object.fromEntries(
        (Object.keys(tables) as TableName[]).map((name) => [tables[name].envVar, tableNames[name]]),
      ),
      ...Object.fromEntries(queueNames.map((name) => [queues[name].envVar, queueUrls[name]])),
    };
    for (const [name, value] of Object.entries(environment)) {
      if (!savedEnvironment.has(name)) savedEnvironment.set(name, process.env[name]);
      process.env[name] = value;
    }

    // Imported only now that the environment is set: handlers read it at module scope.
    const loaded = new Map<FunctionName, LoadedFunction>();
    for (const fn of declared) loaded.set(fn.name, await loadFunction(fn));

    const sqsClient = new SQSClient({ endpoint: localQueues.endpoint, region: LOCAL_REGION, credentials });
    const streamsClient = new DynamoDBStreamsClient({
      endpoint: dynamo.endpoint,
      region: LOCAL_REGION,
      credentials,
    });
    cleanups.push(async () => {
      sqsClient.destroy();
      streamsClient.destroy();
    });

    const routes: HttpRoute[] = [];
    const pollers: Array<SqsPoller | StreamPoller> = [];
    const batchingWindow = (declared: number) =>
      Math.min(declared, options.maxBatchingWindowSeconds ?? declared);
    const schedules = new Map<FunctionName, LocalSchedule>();
    for (const fn of declared) {
      const trigger = fn.declaration.trigger;
      const loadedFunction = loaded.get(fn.name)!;
      if (trigger.kind === 'http') {
        for (const routeKey of trigger.routes) routes.push({ routeKey, function: loadedFunction });
      } else if (trigger.kind === 'queue') {
        const queue = localQueues.queues[trigger.queue];
        pollers.push(
          startSqsPoller({
            client: sqsClient,
            queueUrl: queue.url,
            queueArn: queue.arn,
            function: loadedFunction,
            batchSize: trigger.batchSize,
            maxBatchingWindowSeconds: batchingWindow(trigger.maxBatchingWindowSeconds),
            region: LOCAL_REGION,
            logError: options.logError,
          }),
        );
      } else if (trigger.kind === 'schedule') {
        schedules.set(
          fn.name,
          startSchedule(loadedFunction, trigger.everyMinutes * 60_000, options.logError),
        );
      } else {
        pollers.push(
          startStreamPoller({
            client: streamsClient,
            streamArn: await latestStreamArn(dynamoClient, tableNames[trigger.table]),
            function: loadedFunction,
            batchSize: trigger.batchSize,
            startingPosition: trigger.startingPosition,
            maxBatchingWindowSeconds:
              trigger.maxBatchingWindowSeconds === undefined
                ? undefined
                : batchingWindow(trigger.maxBatchingWindowSeconds),
            filter: trigger.filter,
            region: LOCAL_REGION,
            logError: options.logError,
          }),
        );
      }
    }
    // A LATEST stream poller starts at the end of what its stream holds now, not after a later write.
    await Promise.all(pollers.map((poller) => ('ready' in poller ? poller.ready : undefined)));
    // Pollers stop before the emulators they read, and wait for the batch they are running.
    cleanups.push(async () => {
      await Promise.all([...pollers, ...schedules.values()].map((poller) => poller.stop()));
    });

    const http = await startHttpAdapter({
      routes,
      port: options.port ?? 3000,
      host: options.host,
      logError: options.logError,
      logRequest: options.quiet ? undefined : (line) => console.log(line),
    });
    cleanups.push(() => http.stop());
    // Links in notifications point at this stack; known only now that the port is (handlers read it per delivery).
    const publicUrl = options.publicUrl ?? http.url;
    if (!savedEnvironment.has(PUBLIC_URL_VAR))
      savedEnvironment.set(PUBLIC_URL_VAR, process.env[PUBLIC_URL_VAR]);
    process.env[PUBLIC_URL_VAR] = publicUrl;
    environment[PUBLIC_URL_VAR] = publicUrl;

    let stopping: Promise<void> | undefined;
    return {
      url: http.url,
      port: http.port,
      endpoints: {
        dynamodb: dynamo.endpoint,
        sqs: localQueues.endpoint,
        ses: ses.endpoint,
        cloudwatch: cloudwatch.endpoint,
      },
      tableNames,
      queueUrls,
      deadLetterQueueUrls: mapValues(queueNames, (name) => localQueues.queues[name].deadLetterUrl),
      environment,
      queues: localQueues,
      ses,
      async idle(idleOptions) {
        // Every poller drained at once, again until a round starts no invocation: a message can write
        // a streamed row, whose record queues a message, and so on (ingest → fold → fan-out → sender).
        for (;;) {
          const before = invocationsStarted();
          await Promise.all(pollers.map((poller) => poller.idle(idleOptions)));
          if (invocationsStarted() === before) return;
        }
      },
      runScheduled(name) {
        const schedule = schedules.get(name);
        if (!schedule) throw new Error(`${name} is not a scheduled function`);
        return schedule.runNow();
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

interface DeclaredFunction extends LambdaFunction {
  name: FunctionName;
  declaration: FunctionDeclaration;
}

function declaredFunctions(): DeclaredFunction[] {
  // Widened to the declaration type: the wiring may not use every trigger kind yet.
  const declarations: Record<FunctionName, FunctionDeclaration> = functions;
  // The one-region stack: every function but an edge region's forwarder (shared/wiring/regions.ts).
  return functionsFor('single', Object.keys(declarations) as FunctionName[]).map((name) => ({
    name,
    declaration: declarations[name],
    entry: join(repoRoot, declarations[name].entry),
    timeoutSeconds: declarations[name].timeoutSeconds,
    memoryMb: declarations[name].memoryMb,
  }));
}

function mapValues<K extends string, V>(keys: readonly K[], value: (key: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((key) => [key, value(key)])) as Record<K, V>;
}

function fileExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The secrets key of a persistent data directory (made once), or a fresh one for an in-memory stack. */
async function localSecretsKey(dataDir: string | undefined): Promise<string> {
  if (!dataDir) return generateSecretsKey();
  const file = join(dataDir, 'secrets.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = generateSecretsKey();
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${key}\n`, { mode: 0o600 });
    return key;
  }
}

interface LocalSchedule {
  runNow(): Promise<unknown>;
  stop(): Promise<void>;
}

/** A timer that invokes a scheduled function as EventBridge would, with a scheduled event; one run at a time. */
function startSchedule(
  fn: LoadedFunction,
  everyMs: number,
  logError: (message: string, error: unknown) => void = (message, error) => console.error(message, error),
): LocalSchedule {
  let running: Promise<unknown> = Promise.resolve();
  const run = (): Promise<unknown> => {
    const next = running.then(() =>
      invoke(fn, {
        version: '0',
        id: `local-${Date.now()}`,
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        time: new Date().toISOString(),
        region: LOCAL_REGION,
        resources: [],
        detail: {},
      }),
    );
    running = next.catch((error: unknown) => logError(`${fn.name} failed`, error));
    return next;
  };
  const timer = setInterval(() => void run().catch(() => {}), everyMs);
  timer.unref();
  return {
    runNow: run,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
