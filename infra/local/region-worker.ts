// One simulated region's functions in a worker thread: its own environment and module instances, as
// its own Lambda containers would have. regions.ts starts one per region and steers it by messages.
import { parentPort, workerData } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { interceptLocalhostDns } from 'fauxqs';
import type { TableName } from '#shared/wiring/tables';
import type { FunctionDeclaration, FunctionName, QueueName } from '#shared/wiring/topology';
import { functions } from '#shared/wiring/topology';
import { type HttpAdapter, type HttpRoute, startHttpAdapter } from './http-adapter';
import { type LoadedFunction, loadDeclaredFunction } from './lambda-runtime';
import { type ControlledGate, createPollerGate } from './poller-gate';
import { type SqsPoller, startSqsPoller } from './sqs-poller';
import { latestStreamArn, type StreamPoller, startStreamPoller } from './stream-poller';

/** What the simulation hands a region's worker. */
export interface RegionWorkerData {
  region: string;
  functions: FunctionName[];
  environment: Record<string, string>;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** The longest batching window of a queue trigger; the declared one unless shorter. */
  maxBatchingWindowSeconds?: number;
  tableNames: Record<TableName, string>;
  queues: Record<QueueName, { url: string; arn: string }>;
}

/** What the simulation asks of a region's worker; each is answered `{ id, error? }`. */
export type RegionCommand =
  | { id: number; type: 'hold'; functions?: FunctionName[] }
  | { id: number; type: 'release'; functions?: FunctionName[] }
  | { id: number; type: 'stop' };

const data = workerData as RegionWorkerData;
const port = parentPort;
if (!port) throw new Error('region-worker.ts runs in a worker thread started by regions.ts');

const region = data.region;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
Object.assign(process.env, data.environment);
// Queue URLs are `http://sqs.<region>.localhost:PORT/…`: resolved to loopback in this thread too.
const restoreDns = interceptLocalhostDns();

// A forwarder reaches the other region's queue by its URL, whose host is that region's network link,
// not this region's SQS endpoint (AWS_ENDPOINT_URL_SQS): the SDK then warns on every send. In AWS the
// two agree (a client of the queue's region), so the warning says nothing about the code under test.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].includes('differs from SQSClient resolved endpoint')) return;
  warn(...args);
};

const declarations: Record<FunctionName, FunctionDeclaration> = functions;
const gates = new Map<FunctionName, ControlledGate>();
const pollers: Array<SqsPoller | StreamPoller> = [];
const routes: HttpRoute[] = [];
const dynamo = new DynamoDBClient({ endpoint: data.dynamodbEndpoint, region, credentials });
const streams = new DynamoDBStreamsClient({ endpoint: data.dynamodbEndpoint, region, credentials });
const sqs = new SQSClient({ endpoint: data.sqsEndpoint, region, credentials });
const logError = (message: string, error: unknown) => console.error(`[${region}] ${message}`, error);

// Imported only now that the environment is set: handlers read it at module scope.
for (const name of data.functions) {
  const declaration = declarations[name];
  const loaded: LoadedFunction = await loadDeclaredFunction(name);
  const trigger = declaration.trigger;
  const gate = createPollerGate();
  gates.set(name, gate);
  if (trigger.kind === 'http') {
    for (const routeKey of trigger.routes) routes.push({ routeKey, function: loaded });
  } else if (trigger.kind === 'queue') {
    const queue = data.queues[trigger.queue];
    pollers.push(
      startSqsPoller({
        client: sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        function: loaded,
        batchSize: trigger.batchSize,
        maxBatchingWindowSeconds: Math.min(
          trigger.maxBatchingWindowSeconds,
          data.maxBatchingWindowSeconds ?? trigger.maxBatchingWindowSeconds,
        ),
        region,
        gate,
        logError,
      }),
    );
  } else if (trigger.kind === 'stream') {
    pollers.push(
      startStreamPoller({
        client: streams,
        streamArn: await latestStreamArn(dynamo, data.tableNames[trigger.table]),
        function: loaded,
        batchSize: trigger.batchSize,
        startingPosition: trigger.startingPosition,
        filter: trigger.filter,
        region,
        gate,
        logError,
      }),
    );
  }
  // Scheduled functions (the daily summaries) are not run: no scenario of several regions needs them.
}
await Promise.all(pollers.map((poller) => ('ready' in poller ? poller.ready : undefined)));
const http: HttpAdapter = await startHttpAdapter({ routes, port: 0, logError });

const selected = (names: FunctionName[] | undefined) =>
  [...gates.entries()].filter(([name]) => !names || names.includes(name)).map(([, gate]) => gate);

port.on('message', (command: RegionCommand) => {
  const answer = (work: Promise<unknown>) =>
    work.then(
      () => port.postMessage({ id: command.id }),
      (error: unknown) => port.postMessage({ id: command.id, error: String(error) }),
    );
  if (command.type === 'hold') answer(Promise.all(selected(command.functions).map((gate) => gate.close())));
  else if (command.type === 'release') {
    for (const gate of selected(command.functions)) gate.open();
    answer(Promise.resolve());
  } else answer(stop());
});

async function stop(): Promise<void> {
  for (const gate of gates.values()) gate.dispose();
  await Promise.all(pollers.map((poller) => poller.stop()));
  await http.stop();
  dynamo.destroy();
  streams.destroy();
  sqs.destroy();
  restoreDns();
}

port.postMessage({ ready: true, httpPort: http.port });
