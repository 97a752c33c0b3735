// The Operations page's graphs, as CloudWatch queries: which metrics of a region each graph draws, from
// the names the region's metrics were found under. Plain code (no AWS import): the service asks
// CloudWatch, this decides what to ask for and how to read the answer.
import { MetricNames } from '#shared/metric-names';
import { commonEnvironment, type FunctionName, functions, queues } from '#shared/wiring/topology';

/** The windows the page offers, in hours, with the period of their points (seconds). */
export const WINDOWS = { 3: 60, 24: 300, 168: 3600 } as const;
export type WindowHours = keyof typeof WINDOWS;

/** A region the installation ingests in, as the stack tells the read function (`OPERATIONS_REGIONS_VAR`). */
export interface OperationsRegion {
  region: string;
  /** `single`, `home`, `standby` or `edge`. */
  role: string;
  /** The region's stack name: CloudFormation names its functions and queues `<stack name>-<logical id>-…`. */
  stackName: string;
  /** The region's HTTP API id, where known (the read function's own region). */
  apiId?: string;
  /**
   * The ingest queue's fixed name in a plan of several regions (`ingestQueueName`): it does not start
   * with the stack's name, as the names CloudFormation generates do.
   */
  ingestQueueName?: string;
}

/** One metric, as CloudWatch's ListMetrics answers and GetMetricData asks. */
export interface MetricName {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}

/** What ListMetrics found in a region: the names of its functions, queues and Faultline's own metrics. */
export interface FoundMetrics {
  lambda: MetricName[];
  sqs: MetricName[];
  faultline: MetricName[];
}

export type Axis = 'left' | 'right';

/** One line to draw: a metric and its statistic, its label and its axis. */
export interface PlannedSeries {
  metric: MetricName;
  stat: string;
  label: string;
  axis: Axis;
}

export interface PlannedGraph {
  id: string;
  title: string;
  /** What the left and right axes count. */
  units: { left: string; right?: string };
  series: PlannedSeries[];
}

/** The ListMetrics calls that find a region's open-ended names: one per namespace, filtered as narrowly as CloudWatch allows. */
export function discoveryRequests(region: OperationsRegion): Array<{
  key: keyof FoundMetrics;
  namespace: string;
  metricName?: string;
  dimensions?: Array<{ name: string; value?: string }>;
}> {
  return [
    // Every function invoked in the last two weeks publishes Invocations; its name says whose it is.
    {
      key: 'lambda',
      namespace: 'AWS/Lambda',
      metricName: 'Invocations',
      dimensions: [{ name: 'FunctionName' }],
    },
    { key: 'sqs', namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible' },
    {
      key: 'faultline',
      namespace: commonEnvironment.POWERTOOLS_METRICS_NAMESPACE,
      dimensions: [{ name: 'region', value: region.region }],
    },
  ];
}

const capitalized = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

/**
 * The declared function a deployed function name belongs to in `stackName`'s stack: CloudFormation
 * names it `<stack name>-<logical id><hash>-<suffix>` (the logical id cut short when the name would pass
 * 64 characters), the local stack by its declared name. Undefined for another stack's or application's.
 */
export function declaredFunctionOf(functionName: string, stackName: string): FunctionName | undefined {
  const names = Object.keys(functions) as FunctionName[];
  if (names.includes(functionName as FunctionName)) return functionName as FunctionName;
  const prefix = `${stackName}-`;
  if (!functionName.startsWith(prefix)) return undefined;
  const rest = functionName.slice(prefix.length);
  // The longest logical id that the rest starts with (or, cut short, that starts with the rest's first part).
  const head = rest.split('-')[0] ?? '';
  const candidates = names.filter((name) => {
    const logicalId = `${capitalized(name)}Function`;
    return head.startsWith(logicalId) || (head.length >= 8 && logicalId.startsWith(head));
  });
  return candidates.sort((a, b) => b.length - a.length)[0];
}

/** What a queue of the region's stack is: a source queue (its oldest message) or a last stop (its depth). */
export function queueKindOf(
  queueName: string,
  region: Pick<OperationsRegion, 'stackName' | 'ingestQueueName'>,
): { kind: 'source' | 'lastStop'; label: string } | undefined {
  if (queueName === region.ingestQueueName) return { kind: 'source', label: queues.ingest.logicalId };
  const sources = Object.values(queues).map((queue) => queue.logicalId as string);
  const lastStops = Object.values(queues).map((queue) => queue.deadLetter.logicalId as string);
  const prefix = `${region.stackName}-`;
  if (!queueName.startsWith(prefix)) return undefined;
  const head = queueName.slice(prefix.length).split('-')[0] ?? '';
  // Longest first: IngestDeadLetterQueue before IngestQueue would not matter, but a failure queue's name is long.
  const lastStop = lastStops.find((id) => head.startsWith(id));
  if (lastStop) return { kind: 'lastStop', label: lastStop };
  const failure = /^([A-Za-z]+StreamFailureQueue)/.exec(head);
  if (failure) return { kind: 'lastStop', label: failure[1]! };
  const source = sources.find((id) => head.startsWith(id));
  return source ? { kind: 'source', label: source } : undefined;
}

/**
 * The graphs of one region, as the CloudWatch dashboard drew them (infra/stacks/monitoring.ts, opt-in):
 * traffic, queues, function errors and throttles, stream consumers, and Faultline's own metrics.
 */
export function plannedGraphs(region: OperationsRegion, found: FoundMetrics): PlannedGraph[] {
  const sum = 'Sum';
  const lambda = (metricName: string, functionName: string): MetricName => ({
    namespace: 'AWS/Lambda',
    metricName,
    dimensions: { FunctionName: functionName },
  });
  const ours = new Map<FunctionName, string>();
  for (const metric of found.lambda) {
    const functionName = metric.dimensions.FunctionName;
    // A function's alias or version metrics carry more dimensions: the function's own line is enough.
    if (!functionName || Object.keys(metric.dimensions).length !== 1) continue;
    const declared = declaredFunctionOf(functionName, region.stackName);
    if (declared && !ours.has(declared)) ours.set(declared, functionName);
  }
  const ourFunctions = [...ours.entries()].sort(([a], [b]) => a.localeCompare(b));
  const withTrigger = (kind: string, urlOnly = false) =>
    ourFunctions.filter(([name]) => {
      const trigger = functions[name].trigger as { kind: string; functionUrl?: boolean };
      return trigger.kind === kind && (!urlOnly || trigger.functionUrl === true);
    });

  const traffic: PlannedSeries[] = [];
  if (region.apiId) {
    const api = (metricName: string): MetricName => ({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensions: { ApiId: region.apiId! },
    });
    traffic.push(
      { metric: api('Count'), stat: sum, label: 'API requests', axis: 'left' },
      { metric: api('5xx'), stat: sum, label: 'API 5xx', axis: 'left' },
      { metric: api('Latency'), stat: 'p99', label: 'API p99 (ms)', axis: 'right' },
    );
  }
  for (const [name, functionName] of withTrigger('http', true)) {
    traffic.push(
      {
        metric: lambda('UrlRequestCount', functionName),
        stat: sum,
        label: `${name} URL requests`,
        axis: 'left',
      },
      { metric: lambda('Url5xxCount', functionName), stat: sum, label: `${name} URL 5xx`, axis: 'left' },
      {
        metric: lambda('UrlRequestLatency', functionName),
        stat: 'p99',
        label: `${name} URL p99 (ms)`,
        axis: 'right',
      },
    );
  }

  const queueSeries: PlannedSeries[] = [];
  for (const metric of found.sqs) {
    const queueName = metric.dimensions.QueueName;
    if (!queueName) continue;
    const kind = queueKindOf(queueName, region);
    if (!kind) continue;
    queueSeries.push(
      kind.kind === 'source'
        ? {
            metric: {
              namespace: 'AWS/SQS',
              metricName: 'ApproximateAgeOfOldestMessage',
              dimensions: { QueueName: queueName },
            },
            stat: 'Maximum',
            label: `${kind.label} oldest message (s)`,
            axis: 'left',
          }
        : {
            metric: {
              namespace: 'AWS/SQS',
              metricName: 'ApproximateNumberOfMessagesVisible',
              dimensions: { QueueName: queueName },
            },
            stat: 'Maximum',
            label: `${kind.label} depth`,
            axis: 'right',
          },
    );
  }
  queueSeries.sort((a, b) => a.label.localeCompare(b.label));

  const namespace = commonEnvironment.POWERTOOLS_METRICS_NAMESPACE;
  const dimensions = { service: commonEnvironment.POWERTOOLS_SERVICE_NAME, region: region.region };
  const faultline = (metricName: string, extra: Record<string, string> = {}): MetricName => ({
    namespace,
    metricName,
    dimensions: { ...dimensions, ...extra },
  });
  // Refusal reasons and delivery channels are open-ended: a line for each one found.
  const foundWith = (metricName: string, extraNames: string[]) =>
    found.faultline
      .filter(
        (metric) =>
          metric.metricName === metricName &&
          metric.dimensions.service === dimensions.service &&
          Object.keys(metric.dimensions).length === 2 + extraNames.length &&
          extraNames.every((name) => metric.dimensions[name] !== undefined),
      )
      .sort((a, b) => JSON.stringify(a.dimensions).localeCompare(JSON.stringify(b.dimensions)));

  return [
    {
      id: 'traffic',
      title: 'API and function URL: requests, 5xx and p99 latency',
      units: { left: 'requests', right: 'ms' },
      series: traffic,
    },
    {
      id: 'queues',
      title: 'Queues: oldest message age (s); dead-letter and failure queue depth',
      units: { left: 'seconds', right: 'messages' },
      series: queueSeries,
    },
    {
      id: 'functions',
      title: 'Function errors; throttles in the region (every function)',
      units: { left: 'errors', right: 'throttles' },
      series: [
        ...ourFunctions.map(([name, functionName]) => ({
          metric: lambda('Errors', functionName),
          stat: sum,
          label: `${name} errors`,
          axis: 'left' as const,
        })),
        {
          metric: { namespace: 'AWS/Lambda', metricName: 'Throttles', dimensions: {} },
          stat: sum,
          label: 'throttles (region)',
          axis: 'right',
        },
      ],
    },
    {
      id: 'streams',
      title: 'Stream consumers: iterator age (ms)',
      units: { left: 'ms' },
      series: withTrigger('stream').map(([name, functionName]) => ({
        metric: lambda('IteratorAge', functionName),
        stat: 'Maximum',
        label: `${name} iterator age`,
        axis: 'left' as const,
      })),
    },
    {
      id: 'occurrences',
      title: 'Occurrences: accepted, stored, counted',
      units: { left: 'occurrences' },
      series: [
        { metric: faultline(MetricNames.accepted), stat: sum, label: 'accepted', axis: 'left' },
        { metric: faultline(MetricNames.stored), stat: sum, label: 'stored', axis: 'left' },
        { metric: faultline(MetricNames.counted), stat: sum, label: 'counted', axis: 'left' },
      ],
    },
    {
      id: 'refused',
      title: 'Refused items by reason; rate-limited requests',
      units: { left: 'items', right: 'requests' },
      series: [
        ...foundWith(MetricNames.refused, ['reason']).map((metric) => ({
          metric,
          stat: sum,
          label: `refused: ${metric.dimensions.reason}`,
          axis: 'left' as const,
        })),
        { metric: faultline(MetricNames.rateLimited), stat: sum, label: 'rate-limited', axis: 'right' },
      ],
    },
    {
      id: 'foldLag',
      title: 'Fold lag (s): the newest counted occurrence, from stored to counted',
      units: { left: 'seconds' },
      series: [{ metric: faultline(MetricNames.foldLag), stat: 'Maximum', label: 'fold lag', axis: 'left' }],
    },
    {
      id: 'deliveries',
      title: 'Deliveries by channel and outcome',
      units: { left: 'deliveries' },
      series: foundWith(MetricNames.deliveries, ['channel', 'outcome']).map((metric) => ({
        metric,
        stat: sum,
        label: `${metric.dimensions.channel} ${metric.dimensions.outcome}`,
        axis: 'left' as const,
      })),
    },
  ];
}
