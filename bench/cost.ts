// The cost model: dollars per million occurrences at AWS list prices (bench/prices.ts), from what the
// bench measures, and the monthly cost of a deployed region with no traffic, from the stack's resources.
//
// Measured here, on the emulators, through the real handlers: each handler's duration per invocation
// (ingest per request, the storing worker per SQS batch, the fold per stream batch), what each writes
// to its log per invocation at the default level (its JSON lines and EMF metrics), and the size of each
// queued message. Measured by the write bench (grouping-writes.ts): DynamoDB write and read units per
// occurrence, and the search indexer's time. Derived: requests, invocations, GB-seconds, SQS requests
// in 64 KB chunks, log bytes, traces at the stack's sampling.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { APIGatewayProxyEventV2, DynamoDBRecord } from 'aws-lambda';
import { invoke, type LoadedFunction, loadDeclaredFunction } from '#infra/local/lambda-runtime';
import { httpApiAccessLogFields } from '#infra/stacks/http-api';
import { DEFAULT_TRACE_SAMPLING } from '#infra/stacks/monitoring';
import { RegionalStack } from '#infra/stacks/regional-stack';
import { createDocumentClient } from '#shared/aws/clients';
import { logger } from '#shared/observability';
import { discoveryRequests, plannedGraphs } from '#shared/operations/graphs';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { functionsFor } from '#shared/wiring/regions';
import { type FunctionName, functions, queues } from '#shared/wiring/topology';
import { pointHandlersAt, startDynamoWithTables, startQueues } from '../test/support/emulators';
import { openTableStream } from '../test/support/table-stream';
import { measureApart, measureIfChild } from './apart';
import type { WriteScenarioResult } from './grouping-writes';
import { nodeErrorData, seededRandom } from './payloads';
import { FREE_TIER, PRICES } from './prices';

/** Posts per measured scenario: enough for stable means, few enough for the bench's time. */
const POSTS = 300;
const SQS_CHUNK_BYTES = 64 * 1024;
const LOG_EVENT_OVERHEAD_BYTES = 26;
/** Lambda's poller receives at most 10 messages a call, and deletes in batches of 10. */
const SQS_RECEIVE_MAX = 10;
/** Traffic assumed for the sampling reservoir: hot and distinct sustained, light one post a second. */
const RATES_PER_SECOND = { hot: 100, distinct: 100, light: 1 } as const;

export type CostScenario = 'hot' | 'distinct' | 'light';

interface HandlerMeasure {
  /** Mean handler milliseconds per invocation. */
  ms: number;
  /** Handler milliseconds per occurrence it handled (its batches' time over their occurrences). */
  msPerOccurrence: number;
  /** Mean bytes written to stdout and stderr per invocation (its log events), and events per invocation. */
  logBytes: number;
  logEvents: number;
}

export interface CostMeasures {
  scenario: CostScenario;
  ingest: HandlerMeasure;
  worker: HandlerMeasure & { batchSize: number };
  fold: HandlerMeasure & { batchSize: number };
  meanMessageBytes: number;
  meanPostBytes: number;
}

export interface CostLine {
  part: string;
  usdPerMillion: number;
  detail: string;
}

export interface CostResult {
  scenario: CostScenario;
  lines: CostLine[];
  total: number;
  /** X-Ray at Lambda's own documented sampling (1 a second, then 5%), for comparison. */
  xrayAtLambdaDefault: number;
  /**
   * The total when SDKs post through the HTTP API instead of the function URL (a team with a custom
   * domain, `-c domain=`): API Gateway's requests and its access log line added.
   */
  throughApiGateway: number;
  measures: CostMeasures;
}

export interface IdleLine {
  part: string;
  /** At list price, no free tier. */
  usdPerMonth: number;
  /** Within the account's always-free allowances (FREE_TIER), were this region their only use. */
  usdPerMonthFreeTier: number;
  detail: string;
}

/**
 * Handler durations and log bytes, hot, distinct and light, on DynamoDB Local and fauxqs, in a process
 * of its own (bench/apart.ts): the benches after it start local stacks, which load the same handlers.
 */
export function measureHandlers(): Promise<CostMeasures[]> {
  return measureApart('cost', import.meta.url);
}

async function measureHandlersInThisProcess(): Promise<CostMeasures[]> {
  const [dynamo, sqs] = await Promise.all([startDynamoWithTables('cost'), startQueues({ prefix: 'cost' })]);
  const saved = { ...process.env };
  try {
    pointHandlersAt(dynamo, sqs, 'us-east-1');
    delete process.env.FAULTLINE_LOCAL;
    // The level handlers log at in AWS (the write bench turned the shared logger down).
    logger.setLogLevel('INFO');
    const projects = createProjectService({
      projects: new DynamoDBProjectRepository(
        createDocumentClient(dynamo.client),
        dynamo.tableNames.projects,
      ),
    });
    const stream = await openTableStream(dynamo.client, dynamo.streamsClient, dynamo.tableNames.occurrences);
    const loaded = new Map<FunctionName, LoadedFunction>();
    for (const name of ['ingestItem', 'storeOccurrences', 'foldOccurrences'] as const) {
      loaded.set(name, await loadDeclaredFunction(name));
    }

    const results: CostMeasures[] = [];
    for (const scenario of ['hot', 'distinct', 'light'] as const) {
      const { tokens } = await projects.createProject({ name: `cost-${scenario}` });
      const random = seededRandom(7);
      const bugs = scenario === 'distinct' ? POSTS : 10;
      const bodies = Array.from({ length: POSTS }, (_, index) =>
        JSON.stringify({ access_token: tokens.post_server_item, data: nodeErrorData(index % bugs, random) }),
      );
      // Warm: the first call of each handler pays module and connection set-up, as a cold start does.
      await measure([bodies[0]!], (body) => invoke(loaded.get('ingestItem')!, postEvent(body)));
      await drain(sqs.client, sqs.queues.ingest.url);
      await stream.readNew();

      const ingest = await measure(bodies.slice(1), (body) =>
        invoke(loaded.get('ingestItem')!, postEvent(body)),
      );
      const messages = await drain(sqs.client, sqs.queues.ingest.url);
      // Light traffic: a message at a time reaches the worker, and the fold's batches are small.
      const workerBatch = scenario === 'light' ? 1 : functions.storeOccurrences.trigger.batchSize;
      const workerBatches = chunks(messages, workerBatch);
      const worker = await measure(
        workerBatches,
        (batch) =>
          invoke(loaded.get('storeOccurrences')!, {
            Records: batch.map((message) => ({
              messageId: message.MessageId!,
              receiptHandle: message.ReceiptHandle!,
              body: message.Body!,
              attributes: { ApproximateReceiveCount: '1' },
            })),
          }),
        (batch) => batch.length,
      );
      const records = await stream.readNew();
      const foldBatch = scenario === 'light' ? 20 : functions.foldOccurrences.trigger.batchSize;
      const fold = await measure(
        chunks(records, foldBatch),
        (batch: DynamoDBRecord[]) => invoke(loaded.get('foldOccurrences')!, { Records: batch }),
        (batch) => batch.length,
      );
      results.push({
        scenario,
        ingest,
        worker: { ...worker, batchSize: workerBatch },
        // Billed per invocation of a full declared batch; measured on the batches this run had.
        fold: { ...fold, batchSize: foldBatch },
        meanMessageBytes: mean(messages.map((message) => Buffer.byteLength(message.Body ?? ''))),
        meanPostBytes: mean(bodies.map((body) => Buffer.byteLength(body))),
      });
    }
    return results;
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    logger.setLogLevel('ERROR');
    await Promise.all([dynamo.stop(), sqs.stop()]);
  }
}

/** Runs `call` on each input, timing it and counting what it writes to stdout and stderr. */
async function measure<T>(
  inputs: T[],
  call: (input: T) => Promise<unknown>,
  occurrencesOf: (input: T) => number = () => 1,
): Promise<HandlerMeasure> {
  let bytes = 0;
  let events = 0;
  const writes = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array) => {
      const text = String(chunk);
      bytes += Buffer.byteLength(text);
      events += text.split('\n').filter((line) => line.trim() !== '').length;
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = original as typeof stream.write;
    };
  });
  let ms = 0;
  try {
    for (const input of inputs) {
      const started = performance.now();
      await call(input);
      ms += performance.now() - started;
    }
  } finally {
    for (const restore of writes) restore();
  }
  const occurrences = inputs.reduce((sum, input) => sum + occurrencesOf(input), 0);
  return {
    ms: ms / inputs.length,
    msPerOccurrence: ms / Math.max(1, occurrences),
    logBytes: bytes / inputs.length,
    logEvents: events / inputs.length,
  };
}

async function drain(client: import('@aws-sdk/client-sqs').SQSClient, url: string) {
  const all: import('@aws-sdk/client-sqs').Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

/** A post as ingest's function URL delivers it (SDKs post there): no route key, the path as sent. */
function postEvent(body: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/api/1/item/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bench',
      domainName: 'bench.lambda-url.us-east-1.on.aws',
      domainPrefix: 'bench',
      http: {
        method: 'POST',
        path: '/api/1/item/',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.10',
        userAgent: 'bench',
      },
      requestId: 'bench',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: Date.now(),
    },
  };
}

/** The access log line of one accepted post, with typical values in the stack's format. */
export function accessLogLineBytes(): number {
  const typical: Record<string, string> = {
    '$context.requestId': 'Jd0aBhqXIAMEcSw=',
    '$context.identity.sourceIp': '203.0.113.10',
    '$context.routeKey': 'POST /api/1/item',
    '$context.status': '200',
    '$context.responseLatency': '23',
    '$context.integrationErrorMessage': '-',
  };
  const line = JSON.stringify(
    Object.fromEntries(
      Object.entries(httpApiAccessLogFields).map(([key, value]) => [key, typical[value] ?? value]),
    ),
  );
  return Buffer.byteLength(line);
}

/** Dollars per million occurrences, part by part. */
export function costPerMillion(measures: CostMeasures, writes: WriteScenarioResult): CostResult {
  const million = 1e6;
  const lines: CostLine[] = [];
  const add = (part: string, usdPerMillion: number, detail: string) =>
    lines.push({ part, usdPerMillion, detail });
  const gbSeconds = (fn: FunctionName, ms: number) => (functions[fn].memoryMb / 1024) * (ms / 1000);

  // SDKs post to ingest's function URL, which bills nothing beyond the invocation. Through the API (a
  // custom domain) each post would be a request, each 512 KB of it one more: `throughApiGateway`.
  const apiGatewayRequests =
    million * Math.ceil(measures.meanPostBytes / (512 * 1024)) * PRICES.apiGatewayHttpRequest.usd;
  add(
    'API Gateway requests',
    0,
    `none: SDKs post to the function URL (no charge beyond the invocation); through the API, ${apiGatewayRequests.toFixed(2)} (1 request per ${Math.round(measures.meanPostBytes)} B post)`,
  );
  const invocations = {
    ingestItem: 1,
    storeOccurrences: 1 / measures.worker.batchSize,
    foldOccurrences: 1 / measures.fold.batchSize,
    // The items stream's two readers: one batch each per fold step that changed items.
    indexSearch: writes.foldSteps / writes.occurrences,
    fanOutNotifications: writes.foldSteps / writes.occurrences,
  } satisfies Partial<Record<FunctionName, number>>;
  // Handler time per occurrence: a batch's time spread over what it handled (ingest: one each).
  const indexerMs = (writes.indexSeconds * 1000) / writes.occurrences;
  const msPerOccurrence: Record<keyof typeof invocations, number> = {
    ingestItem: Math.ceil(measures.ingest.ms),
    storeOccurrences: measures.worker.msPerOccurrence,
    foldOccurrences: measures.fold.msPerOccurrence,
    indexSearch: indexerMs,
    // Not measured here: taken as the indexer's (both read the same stream batch).
    fanOutNotifications: indexerMs,
  };
  const perOccurrence = Object.values(invocations).reduce((sum, count) => sum + count, 0);
  add(
    'Lambda invocations',
    million * perOccurrence * PRICES.lambdaRequest.usd,
    `${perOccurrence.toFixed(3)} per occurrence (ingest 1, worker 1/${measures.worker.batchSize}, fold 1/${measures.fold.batchSize}, indexer and fan-out ${invocations.indexSearch.toFixed(3)} each)`,
  );
  for (const fn of Object.keys(invocations) as Array<keyof typeof invocations>) {
    const ms = msPerOccurrence[fn];
    add(
      `Lambda GB-s: ${fn}`,
      million * gbSeconds(fn, ms) * PRICES.lambdaArmGbSecond.usd,
      `${functions[fn].memoryMb} MB x ${ms.toFixed(1)} ms per occurrence`,
    );
  }
  const chunksPerMessage = Math.ceil(measures.meanMessageBytes / SQS_CHUNK_BYTES);
  // The poller receives up to 10 a call and deletes in batches of 10; a lone message is a call of each.
  const perReceive = Math.min(SQS_RECEIVE_MAX, measures.worker.batchSize);
  const receiveChunks = Math.ceil((measures.meanMessageBytes * perReceive) / SQS_CHUNK_BYTES);
  const sqsRequests = chunksPerMessage + (receiveChunks + 1) / perReceive;
  add(
    'SQS requests',
    million * sqsRequests * PRICES.sqsRequest.usd,
    `${sqsRequests.toFixed(2)} per occurrence: send ${chunksPerMessage} chunk(s) of ${Math.round(measures.meanMessageBytes)} B, receive and delete ${perReceive} at a time (a forwarder sends none in one region)`,
  );
  const wru = Object.values(writes.totals.units).reduce((sum, units) => sum + units, 0) / writes.occurrences;
  add(
    'DynamoDB writes',
    million * wru * PRICES.dynamoWriteUnit.usd,
    `${wru.toFixed(2)} WRU per occurrence (the write bench)`,
  );
  const rru = writes.totals.readUnits / writes.occurrences;
  add(
    'DynamoDB reads',
    million * rru * PRICES.dynamoReadUnit.usd,
    `${rru.toFixed(2)} RRU per occurrence (the write bench's worker, fold and indexer)`,
  );

  // A function URL writes no access log; the API's stage writes one line per request.
  const access = accessLogLineBytes() + LOG_EVENT_OVERHEAD_BYTES;
  const perHandler = (handler: HandlerMeasure, count: number) =>
    count * (handler.logBytes + handler.logEvents * LOG_EVENT_OVERHEAD_BYTES);
  const logBytes =
    perHandler(measures.ingest, 1) +
    perHandler(measures.worker, invocations.storeOccurrences) +
    perHandler(measures.fold, invocations.foldOccurrences);
  const logUsd = (bytes: number) => (million * bytes * PRICES.logsIngestedGb.usd) / 1024 ** 3;
  add(
    'CloudWatch Logs',
    logUsd(logBytes),
    `${Math.round(logBytes)} B per occurrence: ingest ${Math.round(perHandler(measures.ingest, 1))} (its EMF line), worker and fold ${Math.round(perHandler(measures.worker, invocations.storeOccurrences) + perHandler(measures.fold, invocations.foldOccurrences))}; no access log (function URL; through the API, ${access} B more); no START/END/REPORT lines (system log level WARN)`,
  );

  const rate = RATES_PER_SECOND[measures.scenario];
  const tracesPerOccurrence = (reservoir: number, share: number) => {
    const invocationsPerSecond = rate * perOccurrence;
    const sampled =
      Math.min(reservoir, invocationsPerSecond) + share * Math.max(0, invocationsPerSecond - reservoir);
    return sampled / rate;
  };
  const traces = tracesPerOccurrence(DEFAULT_TRACE_SAMPLING.reservoir, DEFAULT_TRACE_SAMPLING.rate);
  add(
    'X-Ray traces',
    million * traces * PRICES.xrayTrace.usd,
    `${traces.toFixed(4)} per occurrence at ${rate}/s: reservoir ${DEFAULT_TRACE_SAMPLING.reservoir}/s, then ${DEFAULT_TRACE_SAMPLING.rate * 100}% of invocations`,
  );
  add(
    'EMF metrics',
    0,
    'their log bytes are in CloudWatch Logs above; the metrics themselves bill per month, not per occurrence (see the idle and monthly figures)',
  );
  const total = lines.reduce((sum, line) => sum + line.usdPerMillion, 0);
  return {
    scenario: measures.scenario,
    lines,
    total,
    xrayAtLambdaDefault: million * tracesPerOccurrence(1, 0.05) * PRICES.xrayTrace.usd,
    throughApiGateway: total + apiGatewayRequests + logUsd(access),
    measures,
  };
}

/**
 * A deployed region's monthly cost with no traffic, from the one-region stack's declared resources:
 * alarms, dashboards, secrets, health checks, the queue pollers' empty receives, the scheduled
 * function's runs, and metrics (none: EMF metrics bill only in the hours they are written). Each line
 * at list price and within the account's free tier (FREE_TIER).
 */
export function idleCostPerMonth(template: Template = oneRegionTemplate()): IdleLine[] {
  const count = (type: string) => Object.keys(template.findResources(type)).length;
  const lines: IdleLine[] = [];
  // AWS bills an alarm per metric it reads: a metric-math alarm (the API's and the function URL's
  // 5xx) is billed for each metric it reads.
  const alarmResources = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
  const alarms = alarmResources.length;
  const alarmMetrics = alarmResources.reduce((sum, alarm) => {
    const metrics = alarm.Properties.Metrics as Array<{ MetricStat?: unknown }> | undefined;
    return sum + (metrics ? metrics.filter((metric) => metric.MetricStat !== undefined).length : 1);
  }, 0);
  lines.push({
    part: 'CloudWatch alarms',
    usdPerMonth: alarmMetrics * PRICES.alarmMonth.usd,
    usdPerMonthFreeTier: Math.max(0, alarmMetrics - FREE_TIER.alarms) * PRICES.alarmMonth.usd,
    detail: `${alarms} alarms reading ${alarmMetrics} metrics (${FREE_TIER.alarms} alarm metrics free per account)`,
  });
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const metricsPerDashboard = dashboards.map((dashboard) => dashboardMetricCount(dashboard));
  // A dashboard of more metrics than the free tier allows is billed whatever the number of dashboards.
  const freeDashboards = Math.min(
    FREE_TIER.dashboards,
    metricsPerDashboard.filter((metrics) => metrics <= FREE_TIER.dashboardMetrics).length,
  );
  lines.push({
    part: 'CloudWatch dashboard',
    usdPerMonth: dashboards.length * PRICES.dashboardMonth.usd,
    usdPerMonthFreeTier: (dashboards.length - freeDashboards) * PRICES.dashboardMonth.usd,
    detail:
      dashboards.length === 0
        ? 'none (opt-in: -c cloudwatchDashboard=true); the Operations page reads CloudWatch only while someone looks'
        : `${dashboards.length} dashboard of ${metricsPerDashboard.join(', ')} metric lines (searches counted once; ${FREE_TIER.dashboards} free per account, of up to ${FREE_TIER.dashboardMetrics} metrics each)`,
  });
  const secrets = count('AWS::SecretsManager::Secret');
  lines.push({
    part: 'Secrets Manager',
    usdPerMonth: secrets * PRICES.secretMonth.usd,
    usdPerMonthFreeTier: secrets * PRICES.secretMonth.usd,
    detail: `${secrets} secret (no free tier past a 30-day trial)`,
  });
  const healthChecks = count('AWS::Route53::HealthCheck');
  lines.push({
    part: 'Route 53 health checks',
    usdPerMonth: healthChecks * PRICES.healthCheckMonth.usd,
    usdPerMonthFreeTier: healthChecks * PRICES.healthCheckMonth.usd,
    detail: `${healthChecks} in one region`,
  });
  // AWS does not publish how its pollers poll an empty queue: taken as 5 pollers each long-polling
  // 20 s, the commonly measured behaviour.
  const sqsMappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
    (mapping) => JSON.stringify(mapping.Properties.EventSourceArn ?? '').includes('Queue'),
  ).length;
  const emptyReceives = sqsMappings * 5 * 3 * 60 * 24 * 30;
  lines.push({
    part: 'SQS empty receives',
    usdPerMonth: emptyReceives * PRICES.sqsRequest.usd,
    usdPerMonthFreeTier: Math.max(0, emptyReceives - FREE_TIER.sqsRequests) * PRICES.sqsRequest.usd,
    detail: `${sqsMappings} queue event sources x 5 pollers x a 20 s long poll: ${(emptyReceives / 1e6).toFixed(2)} M requests (1 M free per account)`,
  });
  const scheduled = Object.values(functions).filter((fn) => fn.trigger.kind === 'schedule');
  let scheduleUsd = 0;
  let scheduleReadsUsd = 0;
  for (const fn of scheduled) {
    if (fn.trigger.kind !== 'schedule') continue;
    const runs = (30 * 24 * 60) / fn.trigger.everyMinutes;
    // A run that finds nothing due: about 200 ms, a query, a log line or two.
    const reads = runs * 0.5 * PRICES.dynamoReadUnit.usd;
    scheduleReadsUsd += reads;
    scheduleUsd +=
      runs * (PRICES.lambdaRequest.usd + (fn.memoryMb / 1024) * 0.2 * PRICES.lambdaArmGbSecond.usd) +
      reads +
      (runs * 300 * PRICES.logsIngestedGb.usd) / 1024 ** 3;
  }
  lines.push({
    part: 'Scheduled runs',
    usdPerMonth: scheduleUsd,
    // Lambda's free requests and GB-seconds and the free 5 GB of logs cover them; on-demand reads are not free.
    usdPerMonthFreeTier: scheduleReadsUsd,
    detail: `${scheduled.length} schedule(s): the daily summaries every 15 minutes (EventBridge schedules are free)`,
  });
  lines.push({
    part: 'Metrics, KMS, storage',
    usdPerMonth: 0,
    usdPerMonthFreeTier: 0,
    detail:
      'EMF metrics bill only in hours they are written; queues use SQS-managed keys (free); empty tables and log groups store nothing',
  });
  return lines;
}

/**
 * The one-region stack as `cdk deploy` makes it by default, or with the opt-in CloudWatch dashboard
 * (`-c cloudwatchDashboard=true`).
 */
export function oneRegionTemplate(options: { cloudwatchDashboard?: boolean } = {}): Template {
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      ...(options.cloudwatchDashboard ? { cloudwatchDashboard: 'true' } : {}),
    },
  });
  return Template.fromStack(new RegionalStack(app, 'Faultline-us-east-1', { env: { region: 'us-east-1' } }));
}

/**
 * The metric lines a dashboard declares: each named metric, and each metric math expression once
 * (a search draws one line per metric it finds, which only traffic tells).
 */
export function dashboardMetricCount(dashboard: Record<string, unknown>): number {
  const { DashboardBody: body } = dashboard.Properties as {
    DashboardBody: string | { 'Fn::Join': [string, unknown[]] };
  };
  // References (`Ref`, `Fn::GetAtt`) sit inside the body's JSON strings; any placeholder keeps it JSON.
  const text =
    typeof body === 'string'
      ? body
      : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'ref')).join('');
  const { widgets } = JSON.parse(text) as { widgets: Array<{ properties: { metrics?: unknown[] } }> };
  return widgets.reduce((sum, widget) => sum + (widget.properties.metrics?.length ?? 0), 0);
}

/**
 * What one look at the Operations page costs for a one-region installation: GetMetricData bills each
 * metric requested, ListMetrics each request. Every declared function and queue is taken as found (the
 * names CloudFormation gives them), and no refusal reason or delivery: each seen adds a line.
 */
export function operationsViewCost(regions = 1): {
  metricsRequested: number;
  listMetricsRequests: number;
  usd: number;
} {
  const stackName = 'Faultline-us-east-1';
  const region = { region: 'us-east-1', role: 'single', stackName, apiId: 'a1b2c3d4e5' };
  const capitalized = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
  const functionNames = functionsFor('single', Object.keys(functions) as FunctionName[]);
  const found = {
    lambda: functionNames.map((name) => ({
      namespace: 'AWS/Lambda',
      metricName: 'Invocations',
      dimensions: { FunctionName: `${stackName}-${capitalized(name)}FunctionA1B2C3D4-AbCdEfGhIjKl` },
    })),
    sqs: [
      ...Object.values(queues).flatMap((queue) => [queue.logicalId, queue.deadLetter.logicalId]),
      ...functionNames
        .filter((name) => functions[name].trigger.kind === 'stream')
        .map((name) => `${capitalized(name)}StreamFailureQueue`),
    ].map((logicalId) => ({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: `${stackName}-${logicalId}A1B2C3D4-AbCdEfGhIjKl` },
    })),
    faultline: [],
  };
  const perRegion = plannedGraphs(region, found).reduce((sum, graph) => sum + graph.series.length, 0);
  const metricsRequested = perRegion * regions;
  const listMetricsRequests = discoveryRequests(region).length * regions;
  return {
    metricsRequested,
    listMetricsRequests,
    usd:
      metricsRequested * PRICES.getMetricDataMetric.usd +
      listMetricsRequests * PRICES.cloudWatchApiRequest.usd,
  };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
}

await measureIfChild('cost', measureHandlersInThisProcess);
