// The region's alarms (on its SNS topic), and its CloudWatch dashboard when asked for: what says that
// an occurrence is failing to be stored or counted, and one screen in the CloudWatch console. The
// default screen is the web dashboard's Operations page, which reads CloudWatch only while someone
// looks (docs/dashboard.md). Built in the stack's own scope, so the resources keep the logical ids they
// had inside the stack. Also the X-Ray sampling rule, which keeps what tracing records (and bills) to a
// low fixed rate.

import { Duration, type Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { CfnSamplingRule } from 'aws-cdk-lib/aws-xray';
import type { Construct } from 'constructs';
import { MetricNames } from '#shared/metric-names';
import { commonEnvironment, type FunctionName, type QueueName, queues } from '#shared/wiring/topology';
import type { FaultlineFunction } from '../constructs/faultline-function';
import { declared, functionDeclarations, pascalCase } from './declarations';

// Stream consumers (the fold, the notification fan-out, the search indexer) should be close to the
// stream's head; a minute behind is worth a look.
const iteratorAgeAlarmMs = 60_000;

/**
 * The one throttles alarm of a region: AWS/Lambda `Throttles` with no dimension, which Lambda
 * publishes for every function of the account in the region. One alarm metric ($0.10 a month) where
 * one per function cost $1.30; the dashboard and Lambda's own console still tell which function.
 */
export const REGION_THROTTLES_ALARM_ID = 'LambdaThrottlesAlarm';

/** What the alarms and the dashboard watch. */
export interface MonitoredParts {
  readonly alarmTopic: Topic;
  readonly api: HttpApi;
  // Partial: an edge region has only some of the functions, and its queue is watched by the edge stack.
  readonly queues: Partial<Record<QueueName, { readonly queue: Queue; readonly deadLetterQueue: Queue }>>;
  readonly streamFailureQueues: readonly Queue[];
  readonly functions: Partial<Record<FunctionName, FaultlineFunction>>;
}

export interface MonitoringOptions {
  /**
   * `-c cloudwatchDashboard=true`: also the `<stack name>` CloudWatch dashboard. $3 a month past an
   * account's first three dashboards, which is what kept idle above its goal; the Operations page of
   * the web dashboard draws the same graphs for nothing while nobody looks. @default false
   */
  readonly cloudwatchDashboard?: boolean;
}

/** The options as `cdk … -c key=value` gives them. */
export function monitoringOptionsFromContext(scope: Construct): MonitoringOptions {
  const value = scope.node.tryGetContext('cloudwatchDashboard') as string | boolean | undefined;
  if (value === undefined) return { cloudwatchDashboard: false };
  const text = String(value);
  if (text !== 'true' && text !== 'false')
    throw new Error(`-c cloudwatchDashboard is true or false, not ${text}`);
  return { cloudwatchDashboard: text === 'true' };
}

/**
 * The functions with an errors alarm of their own: every function but the HTTP ones. An HTTP function's
 * handled failure is a 500 its router answers (no Lambda error), and what its Errors metric does count
 * (a crash, a timeout, a failed start) reaches the caller as a 5xx of the API or the function URL, which
 * `Api5xxAlarm` reads and every HTTP function's release rolls back on (docs/operations.md, "Alarms").
 */
export function hasErrorsAlarm(name: FunctionName): boolean {
  return functionDeclarations[name].trigger.kind !== 'http';
}

export function addAlarmsAndDashboard(
  stack: Stack,
  parts: MonitoredParts,
  options: MonitoringOptions = {},
): void {
  const alarm = (id: string, metric: IMetric, threshold: number, description: string): Alarm => {
    const created = new Alarm(stack, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No data means nothing arrived (an idle queue, an unused function): not an incident.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    created.addAlarmAction(new SnsAction(parts.alarmTopic));
    return created;
  };
  const minute = Duration.minutes(1);
  const fiveMinutes = Duration.minutes(5);

  // Anything in a dead-letter or failure queue is an occurrence or event we failed to process.
  const lastStops = [
    ...declared(parts.queues).map(([, { deadLetterQueue }]) => deadLetterQueue),
    ...parts.streamFailureQueues,
  ];
  for (const queue of lastStops) {
    alarm(
      `${queue.node.id}DepthAlarm`,
      queue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
      0,
      `Messages in ${queue.node.id}: they failed every retry; inspect, fix, then redrive`,
    );
  }
  for (const [name, { queue }] of declared(parts.queues)) {
    const { logicalId, oldestMessageAlarmSeconds } = queues[name];
    alarm(
      `${logicalId}OldestMessageAlarm`,
      queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
      oldestMessageAlarmSeconds,
      `${logicalId} has a message older than ${oldestMessageAlarmSeconds} s: its consumer is down or behind`,
    );
  }
  for (const [name, fn] of declared<FunctionName, FaultlineFunction>(parts.functions)) {
    if (!hasErrorsAlarm(name)) continue;
    const id = pascalCase(name);
    alarm(`${id}ErrorsAlarm`, fn.metricErrors({ period: fiveMinutes }), 0, `${name} raised errors`);
  }
  // Throttling is a regional matter (the account's concurrency in the region, or a function's
  // reserved share), rare, and any throttled Faultline function also shows where it hurts: a queue's
  // age, a stream's iterator age, the API's 5xx. So one alarm watches every function of the region,
  // including functions that are not Faultline's (its description says so).
  alarm(
    REGION_THROTTLES_ALARM_ID,
    regionThrottles(fiveMinutes),
    0,
    'A Lambda function of this account in this region was throttled (any function, not only ' +
      "Faultline's): the Operations page's throttles line, and the Throttles metric by function name, say which",
  );
  const streamConsumers = declared<FunctionName, FaultlineFunction>(parts.functions).filter(
    ([name]) => functionDeclarations[name].trigger.kind === 'stream',
  );
  const iteratorAge = (fn: FaultlineFunction, label?: string): IMetric =>
    fn.metric('IteratorAge', { period: minute, statistic: 'Maximum', label });
  for (const [name, fn] of streamConsumers) {
    alarm(
      `${pascalCase(name)}IteratorAgeAlarm`,
      iteratorAge(fn),
      iteratorAgeAlarmMs,
      `${name} is more than a minute behind its table's stream`,
    );
  }
  // A function URL's 5xx (a handled 500 is no function error) count with the API's: SDKs post items
  // there, and a release of any HTTP function rolls back on this alarm. AWS bills it per metric it reads.
  const urlFunctions = declared<FunctionName, FaultlineFunction>(parts.functions).filter(([name]) => {
    const trigger = functionDeclarations[name].trigger;
    return trigger.kind === 'http' && trigger.functionUrl === true;
  });
  const api5xx = parts.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' });
  alarm(
    'Api5xxAlarm',
    urlFunctions.length === 0
      ? api5xx
      : new MathExpression({
          expression: ['FILL(api, 0)', ...urlFunctions.map((_, index) => `FILL(url${index}, 0)`)].join(' + '),
          usingMetrics: {
            api: api5xx,
            ...Object.fromEntries(
              urlFunctions.map(([, fn], index) => [
                `url${index}`,
                fn.metric('Url5xxCount', { period: fiveMinutes, statistic: 'Sum' }),
              ]),
            ),
          },
          period: fiveMinutes,
          label: 'API and function URL 5xx',
        }),
    0,
    urlFunctions.length === 0
      ? 'The API answered 5xx: clients may be retrying or losing items'
      : 'The API or the ingest function URL answered 5xx: clients may be retrying or losing items',
  );

  if (!options.cloudwatchDashboard) return;
  // One screen per region: is traffic arriving, is it being processed, is anything failing.
  const dashboard = new Dashboard(stack, 'Dashboard', { dashboardName: stack.stackName });
  const functionList = declared<FunctionName, FaultlineFunction>(parts.functions);
  dashboard.addWidgets(
    new GraphWidget({
      title: "API requests, 5xx and p99 latency, and the ingest function URL's",
      left: [
        parts.api.metricCount({ period: minute }),
        parts.api.metricServerError({ period: minute }),
        ...urlFunctions.flatMap(([name, fn]) => [
          fn.metric('UrlRequestCount', { period: minute, statistic: 'Sum', label: `${name} URL requests` }),
          fn.metric('Url5xxCount', { period: minute, statistic: 'Sum', label: `${name} URL 5xx` }),
        ]),
      ],
      right: [
        parts.api.metricLatency({ period: minute, statistic: 'p99' }),
        ...urlFunctions.map(([name, fn]) =>
          fn.metric('UrlRequestLatency', { period: minute, statistic: 'p99', label: `${name} URL p99` }),
        ),
      ],
    }),
    new GraphWidget({
      title: 'Oldest message age (s) and dead-letter depth',
      left: declared(parts.queues).map(([, { queue }]) =>
        queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
      ),
      right: lastStops.map((queue) =>
        queue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
      ),
    }),
    new GraphWidget({
      title: 'Function errors; throttles in the region (every function)',
      left: functionList.map(([name, fn]) => fn.metricErrors({ period: minute, label: `${name} errors` })),
      // The metric the throttles alarm watches: one line, not one per function, keeps the dashboard
      // within the free tier's 50 metrics (docs/benchmarks.md, "Idle").
      right: [regionThrottles(minute, 'throttles (region)')],
    }),
  );
  if (streamConsumers.length > 0) {
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Stream consumers: iterator age (ms)',
        left: streamConsumers.map(([name, fn]) => iteratorAge(fn, `${name} iterator age`)),
      }),
    );
  }
  dashboard.addWidgets(...faultlineMetricWidgets(stack.region));
}

/** AWS/Lambda `Throttles` across all functions of the account in this region (no dimension). */
function regionThrottles(period: Duration, label?: string): Metric {
  return new Metric({ namespace: 'AWS/Lambda', metricName: 'Throttles', statistic: 'Sum', period, label });
}

/**
 * The handlers' own metrics (shared/observability.ts), this region's: what arrives, is stored and
 * is counted, what is refused and why, how far the fold is behind, deliveries and rate limiting.
 */
function faultlineMetricWidgets(region: string): GraphWidget[] {
  const namespace = commonEnvironment.POWERTOOLS_METRICS_NAMESPACE;
  const dimensionsMap = { service: commonEnvironment.POWERTOOLS_SERVICE_NAME, region };
  const minute = Duration.minutes(1);
  const sum = (metricName: string, label: string) =>
    new Metric({ namespace, metricName, dimensionsMap, statistic: 'Sum', period: minute, label });
  // Refusal reasons and delivery channels are open-ended: a search draws every one that has data.
  const search = (metricName: string, extraDimensions: string[], label: string) =>
    new MathExpression({
      expression: `SEARCH('{${namespace},${['service', 'region', ...extraDimensions].join(',')}} MetricName="${metricName}" region="${region}"', 'Sum', 60)`,
      usingMetrics: {},
      label,
      period: minute,
    });
  return [
    new GraphWidget({
      title: 'Occurrences per minute: accepted, stored, counted',
      left: [
        sum(MetricNames.accepted, 'accepted'),
        sum(MetricNames.stored, 'stored'),
        sum(MetricNames.counted, 'counted'),
      ],
    }),
    new GraphWidget({
      title: 'Refused items by reason; rate-limited requests',
      left: [search(MetricNames.refused, ['reason'], '')],
      right: [sum(MetricNames.rateLimited, 'rate-limited')],
    }),
    new GraphWidget({
      title: 'Fold lag (s): the newest counted occurrence, from stored to counted',
      left: [
        new Metric({
          namespace,
          metricName: MetricNames.foldLag,
          dimensionsMap,
          statistic: 'Maximum',
          period: minute,
          label: 'fold lag',
        }),
      ],
    }),
    new GraphWidget({
      title: 'Deliveries by channel and outcome',
      left: [search(MetricNames.deliveries, ['channel', 'outcome'], '')],
    }),
  ];
}

/** What tracing records: a reservoir of traces per second, then a fixed share of the rest. */
export interface TraceSampling {
  /** Traces per second recorded before the rate applies. @default 0 */
  readonly reservoir?: number;
  /** The share of requests beyond the reservoir that are traced, 0 to 1. @default 0.01 */
  readonly rate?: number;
}

// No reservoir: X-Ray's reservoir records a trace every second whatever the traffic, which under light
// traffic is nearly every request (about $5 per million occurrences, more than everything else
// together: docs/benchmarks.md). 1% of invocations still gives a trace a minute from 2 requests a second.
export const DEFAULT_TRACE_SAMPLING = { reservoir: 0, rate: 0.01 } as const;

/**
 * The X-Ray sampling rule for this stack's functions (their X-Ray service names start with the stack's
 * name). X-Ray bills per trace recorded, so a low fixed rate keeps tracing a small part of the cost.
 */
export function addTraceSampling(stack: Stack, sampling: TraceSampling = {}): CfnSamplingRule {
  const reservoir = sampling.reservoir ?? DEFAULT_TRACE_SAMPLING.reservoir;
  const rate = sampling.rate ?? DEFAULT_TRACE_SAMPLING.rate;
  if (!Number.isInteger(reservoir) || reservoir < 0)
    throw new Error(`the trace reservoir is a whole number >= 0, not ${reservoir}`);
  if (!(rate >= 0 && rate <= 1)) throw new Error(`the trace rate is between 0 and 1, not ${rate}`);
  return new CfnSamplingRule(stack, 'TraceSamplingRule', {
    samplingRule: {
      // Rule names are unique per account and region, at most 32 characters.
      ruleName: stack.stackName.slice(0, 32),
      priority: 100,
      reservoirSize: reservoir,
      fixedRate: rate,
      serviceName: `${stack.stackName}-*`,
      serviceType: '*',
      host: '*',
      httpMethod: '*',
      urlPath: '*',
      resourceArn: '*',
      version: 1,
    },
  });
}
