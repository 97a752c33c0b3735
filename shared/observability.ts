// One Powertools logger and metrics instance per container, shared by handlers and services: JSON
// lines in AWS, short human lines on the local stack.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

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

/** Runs a request's handler, gathering what it logs at info about the request into its note. */
export async function withRequestNote<T>(run: () => Promise<T>): Promise<{ result: T; note: RequestNote }> {
  const note: RequestNote = {};
  const result = await requestNotes.run(note, run);
  return { result, note };
}

// Every JSON line carries these; a terminal needs none of them (the function name is kept).
const contextKeys = new Set([
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

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Faultline',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'faultline',
});

/**
 * The local runtime's name for the invocation this code runs in (it registers the lookup): all
 * handlers share one logger in the local process, so the name injected last may be another's.
 */
function localRunningFunction(): string | undefined {
  const lookup = (globalThis as Record<symbol, unknown>)[Symbol.for('faultline.local.runningFunction')];
  return typeof lookup === 'function' ? (lookup() as string | undefined) : undefined;
}
