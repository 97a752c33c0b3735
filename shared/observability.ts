// One Powertools logger, metrics and tracer instance per container, shared by handlers and services:
// JSON lines and EMF metrics in AWS, short human lines (and no metrics) on the local stack.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import type { ClientError } from '#shared/errors';
import { MetricNames } from '#shared/metric-names';

export { MetricNames };

/**
 * What a request's handler logged about it, gathered on the local stack so the local HTTP API can
 * print one line per request (`POST /api/1/item/ 200 12ms project=1`) instead of the handler's own.
 */
export interface RequestNote {
  projectId?: string;
  /** Why a request was refused (its 4xx), or failed. */
  reason?: string;
}

const requestNotes = new AsyncLocalStorage<RequestNote>();

/** Names the request's project in its local line when the handler says so without logging at info. */
export function noteRequestProject(projectId: string | number): void {
  const note = requestNotes.getStore();
  if (note) note.projectId = String(projectId);
}

/** Runs a request's handler, gathering what it logs at info about the request into its note. */
export async function withRequestNote<T>(run: () => Promise<T>): Promise<{ result: T; note: RequestNote }> {
  const note: RequestNote = {};
  const result = await requestNotes.run(note, run);
  return { result, note };
}

// Powertools' context keys: every JSON line carries these, so a terminal needs none of them (the
// function name is kept) and a self-reported item's custom data neither.
export const contextKeys: ReadonlySet<string> = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
  'tenant_id',
]);

// Powertools' threshold of the ERROR level; CRITICAL is above it.
const ERROR_LEVEL = 20;

/** Where logged errors also go: Faultline's own API when self-reporting is on (shared/self-report/). */
let loggedErrorSink: ((entry: Record<string, unknown>) => void) | undefined;

/** Sends every entry logged at ERROR or above to `sink` too (undefined: stop). */
export function sendLoggedErrorsTo(sink: ((entry: Record<string, unknown>) => void) | undefined): void {
  loggedErrorSink = sink;
}

/**
 * The logger. Where the local stack runs it (`FAULTLINE_LOCAL=1`, set before handlers load), each
 * entry is one short line: time, level, function, message, its fields as `key=value`, and an error's
 * stack below it; an HTTP handler's info entries go into its request's line instead. In AWS it is
 * Powertools' JSON line, untouched: CloudWatch Logs Insights reads its fields.
 */
class FaultlineLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    if (loggedErrorSink && logLevel >= ERROR_LEVEL) loggedErrorSink({ ...log.getAttributes() });
    if (process.env.FAULTLINE_LOCAL !== '1') {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    const attributes = log.getAttributes();
    const level = String(attributes.level ?? '');
    const note = requestNotes.getStore();
    if (note) {
      if (attributes.project_id !== undefined) note.projectId = String(attributes.project_id);
      if (typeof attributes.reason === 'string') note.reason = attributes.reason;
      if (level === 'INFO' || level === 'DEBUG') return;
    }
    const fields: string[] = [];
    const stacks: string[] = [];
    for (const [key, value] of Object.entries(attributes)) {
      if (contextKeys.has(key) || value === undefined) continue;
      if (isLoggedError(value)) {
        fields.push(`${key}=${value.name}: ${value.message}`);
        if (value.stack) stacks.push(indent(value.stack));
        continue;
      }
      fields.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
    const time = new Date().toTimeString().slice(0, 8);
    const name = localRunningFunction() ?? attributes.function_name;
    const where = name ? ` ${name}` : '';
    const line = [`${time} ${level.padEnd(5)}${where} ${attributes.message}`, ...fields].join(' ');
    const stream =
      level === 'ERROR' || level === 'CRITICAL' || level === 'WARN' ? process.stderr : process.stdout;
    stream.write(`${[line, ...stacks].join('\n')}\n`);
  }
}

/** An error as Powertools formats it in a log entry. */
function isLoggedError(value: unknown): value is { name: string; message: string; stack?: string } {
  return (
    typeof value === 'object' && value !== null && 'name' in value && 'message' in value && 'stack' in value
  );
}

function indent(stack: string): string {
  return stack
    .split('\n')
    .slice(1, 6)
    .map((frame) => `    ${frame.trim()}`)
    .join('\n');
}

export const logger = new FaultlineLogger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'faultline',
});

/**
 * The tracer. It records nothing outside Lambda (Powertools turns itself off without
 * `AWS_EXECUTION_ENV`, which neither the local stack nor the tests set), so nothing tries to reach
 * X-Ray there; in Lambda it adds a subsegment per AWS SDK call to the traces Lambda samples.
 */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'faultline' });

/**
 * The metrics, as CloudWatch embedded metric format (EMF) lines in the function's log. Dimensions
 * are kept few (every distinct set is a metric CloudWatch bills by the month): `service` and
 * `region` on all, plus `reason` on refusals and `channel` and `outcome` on deliveries.
 */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Faultline',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'faultline',
});

/** Outcomes of a delivery attempt, as the `outcome` dimension names them. */
export type DeliveryMetricOutcome = 'sent' | 'skipped' | 'refused' | 'failed' | 'retrying' | 'dead_lettered';

/** What a refusal's `reason` dimension says, by the refusal's class: a handful of values, never client text. */
export function refusalReason(error: ClientError): string {
  switch (error.name) {
    case 'BadRequestError':
      return 'unreadable';
    case 'MissingTokenError':
      return 'missing_token';
    case 'AccessDeniedError':
      return 'unauthorized';
    case 'PayloadTooLargeError':
      return 'too_large';
    case 'ValidationError':
      return 'invalid';
    default:
      return error.statusCode === 429 ? 'rate_limited' : `status_${error.statusCode}`;
  }
}

// Counts under dimensions of their own, summed over an invocation and written when it ends: one EMF
// line per distinct set, rather than one per event.
const dimensioned = new Map<string, { name: string; dimensions: Record<string, string>; value: number }>();

function addDimensioned(name: string, dimensions: Record<string, string>): void {
  const key = JSON.stringify([name, dimensions]);
  const entry = dimensioned.get(key);
  if (entry) entry.value += 1;
  else dimensioned.set(key, { name, dimensions, value: 1 });
}

export function countAccepted(occurrences = 1): void {
  metrics.addMetric(MetricNames.accepted, MetricUnit.Count, occurrences);
}

export function countRefused(error: ClientError): void {
  addDimensioned(MetricNames.refused, { reason: refusalReason(error) });
}

export function countStored(occurrences: number): void {
  metrics.addMetric(MetricNames.stored, MetricUnit.Count, occurrences);
}

export function countCounted(occurrences: number): void {
  metrics.addMetric(MetricNames.counted, MetricUnit.Count, occurrences);
}

/** The fold's lag: now minus the newest folded record's approximate creation time (Unix seconds). */
export function recordFoldLag(newestCreatedAtSeconds: number, nowMs = Date.now()): void {
  metrics.addMetric(
    MetricNames.foldLag,
    MetricUnit.Seconds,
    Math.max(0, nowMs / 1000 - newestCreatedAtSeconds),
  );
}

export function countDelivery(channel: string, outcome: DeliveryMetricOutcome): void {
  addDimensioned(MetricNames.deliveries, { channel, outcome });
}

/** For the per-token rate limiter: one request refused with a 429. */
export function countRateLimited(): void {
  metrics.addMetric(MetricNames.rateLimited, MetricUnit.Count, 1);
}

/**
 * Writes what the invocation counted, once, as it ends; writes nothing when it counted nothing
 * (Powertools would log a warning per such invocation). The local stack prints no EMF (its console is
 * for people): it hands the same EMF documents to its local CloudWatch instead (`localEmfSink`).
 */
let regionDimension: string | undefined;

export function publishMetrics(): void {
  const local = process.env.FAULTLINE_LOCAL === '1';
  // Read when writing, not at import: Lambda sets it before, a test or a local run may set it after.
  // Set once: Powertools logs a warning each time a dimension is set again.
  const region = process.env.AWS_REGION ?? 'unknown';
  if (region !== regionDimension) {
    metrics.setDefaultDimensions({ region });
    regionDimension = region;
  }
  const sink = local ? localEmfSink() : undefined;
  for (const { name, dimensions, value } of dimensioned.values()) {
    if (local) {
      // A single metric publishes as it is added: locally, a metrics object of its own is serialized instead.
      if (!sink) continue;
      const single = new Metrics({
        namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Faultline',
        serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'faultline',
        defaultDimensions: { region },
      });
      single.addDimensions(dimensions);
      single.addMetric(name, MetricUnit.Count, value);
      sink(single.serializeMetrics());
      continue;
    }
    const single = metrics.singleMetric();
    single.addDimensions(dimensions);
    single.addMetric(name, MetricUnit.Count, value);
  }
  dimensioned.clear();
  if (!metrics.hasStoredMetrics()) return;
  if (local) {
    sink?.(metrics.serializeMetrics());
    metrics.clearMetrics();
    return;
  }
  metrics.publishStoredMetrics();
}

/**
 * The local stack's CloudWatch, where it runs one (it registers the sink): the EMF documents a handler
 * would have printed in Lambda. shared/ never imports infra/, hence a global.
 */
function localEmfSink(): ((document: unknown) => void) | undefined {
  const sink = (globalThis as Record<symbol, unknown>)[Symbol.for('faultline.local.emfSink')];
  return typeof sink === 'function' ? (sink as (document: unknown) => void) : undefined;
}

/** The middy middleware every handler uses: metrics written once per invocation, failed or not. */
export function metricsPublishing<E, R>(): MiddlewareObj<E, R> {
  return { after: publishMetrics, onError: publishMetrics };
}

/**
 * The local runtime's name for the invocation this code runs in (it registers the lookup): all
 * handlers share one logger in the local process, so the name injected last may be another's.
 */
function localRunningFunction(): string | undefined {
  const lookup = (globalThis as Record<symbol, unknown>)[Symbol.for('faultline.local.runningFunction')];
  return typeof lookup === 'function' ? (lookup() as string | undefined) : undefined;
}
