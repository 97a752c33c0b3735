// A local CloudWatch for the metrics the local stack really produces: the handlers' EMF documents (as
// Powertools serializes them) and what the local Lambda runtime knows of each invocation (Invocations,
// Errors, Duration). It answers ListMetrics and GetMetricData over AWS's JSON 1.0 protocol, which
// @aws-sdk/client-cloudwatch speaks, and checks requests as CloudWatch's API reference documents them.
// Nothing else is made up: API Gateway's, SQS's and stream metrics are not recorded, so they are absent.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The service's JSON protocol target prefix (Smithy `serviceTarget`), as the SDK sends it. */
export const CLOUDWATCH_TARGET_PREFIX = 'GraniteServiceVersion20100801.';

interface Datapoint {
  timestampMs: number;
  value: number;
}

interface StoredMetric {
  region: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  points: Datapoint[];
}

const keyOf = (region: string, namespace: string, metricName: string, dimensions: Record<string, string>) =>
  JSON.stringify([
    region,
    namespace,
    metricName,
    Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)),
  ]);

/** The most points the local CloudWatch keeps of one metric: the older half goes past it. */
const MAX_POINTS_PER_METRIC = 100_000;

/** The datapoints written locally, by region, namespace, name and dimensions: CloudWatch's data model. */
export class LocalMetricStore {
  private readonly metrics = new Map<string, StoredMetric>();

  put(
    region: string,
    metric: { namespace: string; metricName: string; dimensions: Record<string, string> },
    point: Datapoint,
  ): void {
    const key = keyOf(region, metric.namespace, metric.metricName, metric.dimensions);
    let stored = this.metrics.get(key);
    if (!stored) {
      stored = { region, ...metric, dimensions: { ...metric.dimensions }, points: [] };
      this.metrics.set(key, stored);
    }
    stored.points.push(point);
    // A long-running local stack under load keeps the newest points only (CloudWatch keeps 15 days).
    if (stored.points.length > MAX_POINTS_PER_METRIC) stored.points.splice(0, MAX_POINTS_PER_METRIC / 2);
  }

  /**
   * An embedded metric format document, as CloudWatch Logs extracts it: each metric of each directive,
   * under each dimension set, valued by the document's member of the metric's name (a number or a list).
   */
  putEmf(region: string, document: unknown): void {
    const emf = document as {
      _aws?: {
        Timestamp?: number;
        CloudWatchMetrics?: Array<{
          Namespace?: string;
          Dimensions?: string[][];
          Metrics?: Array<{ Name?: string }>;
        }>;
      };
    } & Record<string, unknown>;
    const directives = emf._aws?.CloudWatchMetrics;
    if (!Array.isArray(directives)) return;
    const timestampMs = typeof emf._aws?.Timestamp === 'number' ? emf._aws.Timestamp : Date.now();
    for (const directive of directives) {
      if (!directive.Namespace) continue;
      for (const dimensionSet of directive.Dimensions ?? [[]]) {
        const dimensions: Record<string, string> = {};
        for (const name of dimensionSet) {
          if (typeof emf[name] === 'string') dimensions[name] = emf[name];
        }
        if (Object.keys(dimensions).length !== dimensionSet.length) continue;
        for (const { Name: name } of directive.Metrics ?? []) {
          if (!name) continue;
          const raw = emf[name];
          const values = Array.isArray(raw) ? raw : [raw];
          for (const value of values) {
            if (typeof value !== 'number' || !Number.isFinite(value)) continue;
            this.put(
              region,
              { namespace: directive.Namespace, metricName: name, dimensions },
              { timestampMs, value },
            );
          }
        }
      }
    }
  }

  list(
    region: string,
    filter: { namespace?: string; metricName?: string; dimensions?: Array<{ name: string; value?: string }> },
  ): StoredMetric[] {
    return [...this.metrics.values()].filter(
      (metric) =>
        metric.region === region &&
        (filter.namespace === undefined || metric.namespace === filter.namespace) &&
        (filter.metricName === undefined || metric.metricName === filter.metricName) &&
        (filter.dimensions ?? []).every(({ name, value }) =>
          value === undefined ? name in metric.dimensions : metric.dimensions[name] === value,
        ),
    );
  }

  /** One statistic per period from `startMs` to `endMs`, newest first (GetMetricData's default order). */
  statistics(
    region: string,
    metric: { namespace: string; metricName: string; dimensions: Record<string, string> },
    stat: string,
    periodSeconds: number,
    startMs: number,
    endMs: number,
  ): { timestamps: number[]; values: number[] } {
    const stored = this.metrics.get(keyOf(region, metric.namespace, metric.metricName, metric.dimensions));
    // Lambda's region-wide metrics (no dimension) aggregate every function's: so does this store.
    const sources =
      stored !== undefined
        ? [stored]
        : Object.keys(metric.dimensions).length === 0
          ? this.list(region, { namespace: metric.namespace, metricName: metric.metricName })
          : [];
    const periodMs = periodSeconds * 1000;
    const buckets = new Map<number, number[]>();
    for (const source of sources) {
      for (const point of source.points) {
        if (point.timestampMs < startMs || point.timestampMs >= endMs) continue;
        const bucket = Math.floor(point.timestampMs / periodMs) * periodMs;
        const values = buckets.get(bucket) ?? [];
        values.push(point.value);
        buckets.set(bucket, values);
      }
    }
    const ordered = [...buckets.entries()].sort(([a], [b]) => b - a);
    return {
      timestamps: ordered.map(([bucket]) => bucket / 1000),
      values: ordered.map(([, values]) => statisticOf(stat, values)),
    };
  }
}

function statisticOf(stat: string, values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  switch (stat) {
    case 'Sum':
      return values.reduce((sum, value) => sum + value, 0);
    case 'Average':
      return values.reduce((sum, value) => sum + value, 0) / values.length;
    case 'Maximum':
      return sorted[sorted.length - 1]!;
    case 'Minimum':
      return sorted[0]!;
    case 'SampleCount':
      return values.length;
    default: {
      // pNN: the nearest-rank percentile of the raw values.
      const percentile = Number(stat.slice(1));
      const rank = Math.max(1, Math.ceil((percentile / 100) * sorted.length));
      return sorted[rank - 1]!;
    }
  }
}

/** The local stack's one store (one stack per process, as the handlers are imported once per process). */
export const localMetrics = new LocalMetricStore();

/** A request CloudWatch refuses: its error code (the `__type` suffix and the awsQuery code) and message. */
class CloudWatchRequestError extends Error {
  constructor(
    readonly type:
      | 'InvalidParameterValueException'
      | 'MissingRequiredParameterException'
      | 'InvalidParameterCombinationException'
      | 'Throttling',
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const invalid = (message: string) =>
  new CloudWatchRequestError('InvalidParameterValueException', 'InvalidParameterValue', message);
const missing = (parameter: string) =>
  new CloudWatchRequestError(
    'MissingRequiredParameterException',
    'MissingParameter',
    `The parameter ${parameter} is required.`,
  );

const QUERY_ID = /^[a-z][a-zA-Z0-9_]*$/;
const STATISTICS = new Set(['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount']);
const PERCENTILE = /^p(\d{1,2}(\.\d{1,2})?|100)$/;
const LIST_PAGE = 500;

type Dimensions = Array<{ Name?: unknown; Value?: unknown }>;

function checkDimensions(dimensions: unknown, where: string): Record<string, string> {
  if (dimensions === undefined) return {};
  if (!Array.isArray(dimensions)) throw invalid(`${where}.Dimensions must be a list.`);
  if (dimensions.length > 30) throw invalid(`${where}.Dimensions has more than 30 members.`);
  const out: Record<string, string> = {};
  for (const [index, dimension] of (dimensions as Dimensions).entries()) {
    const { Name: name, Value: value } = dimension ?? {};
    if (typeof name !== 'string' || name.length < 1 || name.length > 255)
      throw invalid(`${where}.Dimensions.member.${index + 1}.Name must be 1 to 255 characters.`);
    if (typeof value !== 'string' || value.length < 1 || value.length > 1024)
      throw invalid(`${where}.Dimensions.member.${index + 1}.Value must be 1 to 1024 characters.`);
    out[name] = value;
  }
  return out;
}

/** GetMetricData, as the API reference describes its request and answer. */
function getMetricData(store: LocalMetricStore, region: string, input: Record<string, unknown>) {
  const queries = input.MetricDataQueries;
  if (queries === undefined) throw missing('MetricDataQueries');
  if (!Array.isArray(queries) || queries.length === 0 || queries.length > 500)
    throw invalid('MetricDataQueries must hold 1 to 500 queries.');
  if (input.StartTime === undefined) throw missing('StartTime');
  if (input.EndTime === undefined) throw missing('EndTime');
  if (typeof input.StartTime !== 'number' || typeof input.EndTime !== 'number')
    throw invalid('StartTime and EndTime are timestamps.');
  if (input.EndTime <= input.StartTime)
    throw invalid('The parameter EndTime must be greater than StartTime.');
  if (
    input.ScanBy !== undefined &&
    input.ScanBy !== 'TimestampDescending' &&
    input.ScanBy !== 'TimestampAscending'
  )
    throw invalid('ScanBy is TimestampDescending or TimestampAscending.');
  const ids = new Set<string>();
  const results = [];
  for (const [index, raw] of queries.entries()) {
    const where = `MetricDataQueries.member.${index + 1}`;
    const query = raw as {
      Id?: unknown;
      MetricStat?: Record<string, unknown>;
      Expression?: unknown;
      Label?: unknown;
    };
    if (typeof query.Id !== 'string') throw missing(`${where}.Id`);
    if (!QUERY_ID.test(query.Id) || query.Id.length > 255)
      throw invalid(
        `${where}.Id must start with a lowercase letter and hold only letters, digits and underscores.`,
      );
    if (ids.has(query.Id)) throw invalid(`The value ${query.Id} for ${where}.Id is not unique.`);
    ids.add(query.Id);
    if ((query.MetricStat === undefined) === (query.Expression === undefined))
      throw new CloudWatchRequestError(
        'InvalidParameterCombinationException',
        'InvalidParameterCombination',
        `${where} must have exactly one of MetricStat and Expression.`,
      );
    // Expressions (metric math, SEARCH) are not played here; Faultline's reader sends none.
    if (query.Expression !== undefined)
      throw invalid(`${where}.Expression is not supported by the local CloudWatch.`);
    const stat = query.MetricStat!;
    const metric = stat.Metric as
      | { Namespace?: unknown; MetricName?: unknown; Dimensions?: unknown }
      | undefined;
    if (!metric) throw missing(`${where}.MetricStat.Metric`);
    if (typeof metric.MetricName !== 'string' || metric.MetricName.length === 0)
      throw missing(`${where}.MetricStat.Metric.MetricName`);
    if (typeof metric.Namespace !== 'string' || metric.Namespace.length === 0)
      throw missing(`${where}.MetricStat.Metric.Namespace`);
    const dimensions = checkDimensions(metric.Dimensions, `${where}.MetricStat.Metric`);
    if (stat.Period === undefined) throw missing(`${where}.MetricStat.Period`);
    const period = stat.Period;
    if (
      typeof period !== 'number' ||
      !Number.isInteger(period) ||
      period < 1 ||
      (period > 60 ? period % 60 !== 0 : ![1, 5, 10, 20, 30, 60].includes(period))
    )
      throw invalid(`${where}.MetricStat.Period must be 1, 5, 10, 20, 30, 60 or a multiple of 60.`);
    if (typeof stat.Stat !== 'string') throw missing(`${where}.MetricStat.Stat`);
    if (!STATISTICS.has(stat.Stat) && !PERCENTILE.test(stat.Stat))
      throw invalid(`${where}.MetricStat.Stat ${stat.Stat} is not a statistic.`);
    const data = store.statistics(
      region,
      { namespace: metric.Namespace, metricName: metric.MetricName, dimensions },
      stat.Stat,
      period,
      input.StartTime * 1000,
      input.EndTime * 1000,
    );
    if (input.ScanBy === 'TimestampAscending') {
      data.timestamps.reverse();
      data.values.reverse();
    }
    results.push({
      Id: query.Id,
      Label: typeof query.Label === 'string' ? query.Label : metric.MetricName,
      Timestamps: data.timestamps,
      Values: data.values,
      StatusCode: 'Complete',
      Messages: [],
    });
  }
  return { MetricDataResults: results, Messages: [] };
}

/** ListMetrics: the metrics matching the filter, 500 a page. */
function listMetrics(store: LocalMetricStore, region: string, input: Record<string, unknown>) {
  const filters = input.Dimensions;
  if (filters !== undefined && (!Array.isArray(filters) || filters.length > 10))
    throw invalid('Dimensions holds at most 10 filters.');
  const dimensions = ((filters as Dimensions | undefined) ?? []).map(
    ({ Name: name, Value: value }, index) => {
      if (typeof name !== 'string' || name.length === 0) throw missing(`Dimensions.member.${index + 1}.Name`);
      return { name, value: typeof value === 'string' ? value : undefined };
    },
  );
  const all = store.list(region, {
    namespace: typeof input.Namespace === 'string' ? input.Namespace : undefined,
    metricName: typeof input.MetricName === 'string' ? input.MetricName : undefined,
    dimensions,
  });
  const from = typeof input.NextToken === 'string' ? Number(input.NextToken) : 0;
  if (!Number.isInteger(from) || from < 0) throw invalid('The NextToken is not valid.');
  const page = all.slice(from, from + LIST_PAGE);
  return {
    Metrics: page.map((metric) => ({
      Namespace: metric.namespace,
      MetricName: metric.metricName,
      Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
    })),
    ...(from + LIST_PAGE < all.length ? { NextToken: String(from + LIST_PAGE) } : {}),
  };
}

/** The region a signed request names in its SigV4 credential scope (`…/<date>/<region>/monitoring/aws4_request`). */
function signedRegion(request: IncomingMessage): string {
  const authorization = request.headers.authorization ?? '';
  const scope = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/monitoring\/aws4_request/.exec(authorization);
  if (!authorization.startsWith('AWS4-HMAC-SHA256 ') || !scope)
    throw new CloudWatchRequestError(
      'InvalidParameterValueException',
      'MissingAuthenticationToken',
      'Request is missing a SigV4 signature for the monitoring service.',
      403,
    );
  return scope[1]!;
}

export interface LocalCloudWatch {
  endpoint: string;
  /** Every request body the server answered, by operation (tests check what the reader asked). */
  readonly requests: Array<{ operation: string; region: string; input: Record<string, unknown> }>;
  /** Regions whose requests get CloudWatch's throttling answer (`Rate exceeded`), as a busy account would. */
  readonly throttledRegions: Set<string>;
  stop(): Promise<void>;
}

/** Starts the local CloudWatch on a free port of 127.0.0.1, answering from `store`. */
export async function startLocalCloudWatch(store: LocalMetricStore = localMetrics): Promise<LocalCloudWatch> {
  const requests: LocalCloudWatch['requests'] = [];
  const throttledRegions = new Set<string>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => answer(request, Buffer.concat(chunks).toString('utf8'), response));
  });
  const answer = (request: IncomingMessage, body: string, response: ServerResponse) => {
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
      response.end(JSON.stringify(payload));
    };
    try {
      if (request.method !== 'POST' || request.url !== '/')
        throw invalid(
          `${request.method} ${request.url} is not an operation: CloudWatch's JSON protocol posts to /`,
        );
      if (request.headers['content-type'] !== 'application/x-amz-json-1.0')
        throw invalid('Content-Type must be application/x-amz-json-1.0');
      const region = signedRegion(request);
      const target = String(request.headers['x-amz-target'] ?? '');
      if (!target.startsWith(CLOUDWATCH_TARGET_PREFIX))
        throw invalid(`X-Amz-Target ${target} is not CloudWatch's`);
      const operation = target.slice(CLOUDWATCH_TARGET_PREFIX.length);
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body || '{}') as Record<string, unknown>;
      } catch {
        throw invalid('The request body is not JSON.');
      }
      requests.push({ operation, region, input });
      if (throttledRegions.has(region))
        throw new CloudWatchRequestError('Throttling', 'Throttling', 'Rate exceeded');
      if (operation === 'GetMetricData') return reply(200, getMetricData(store, region, input));
      if (operation === 'ListMetrics') return reply(200, listMetrics(store, region, input));
      throw invalid(`The local CloudWatch does not play ${operation}.`);
    } catch (error) {
      if (!(error instanceof CloudWatchRequestError)) {
        reply(500, { __type: 'com.amazonaws.cloudwatch#InternalServiceFault', message: String(error) });
        return;
      }
      reply(
        error.status,
        { __type: `com.amazonaws.cloudwatch#${error.type}`, message: error.message },
        { 'x-amzn-query-error': `${error.queryCode};Sender` },
      );
    }
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    throttledRegions,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
