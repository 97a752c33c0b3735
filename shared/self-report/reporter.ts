// Faultline reporting its own logged errors to its own API as Rollbar items: opt-in, bounded per
// container, and never recursive (a failure to report is only logged, at warn, which reports nothing).
import { createHash, randomUUID } from 'node:crypto';
import { contextKeys } from '#shared/observability';

/** The variables that turn self-reporting on in a function (set by infra/stacks/releases.ts). */
export const selfReportEnvironment = {
  /** The item endpoint of the stack's own API: `https://…/api/1/item`. */
  endpoint: 'FAULTLINE_SELF_REPORT_URL',
  /** The Secrets Manager secret (name or ARN) holding a `post_server_item` access token. */
  tokenSecret: 'FAULTLINE_SELF_REPORT_TOKEN_SECRET',
  /** The Rollbar environment of the items (and of the recorded releases). */
  environment: 'FAULTLINE_SELF_REPORT_ENVIRONMENT',
} as const;

/** What a logged entry carries that a report reads: Powertools' attributes of one log line. */
export type LoggedEntry = Record<string, unknown>;

export interface SelfReporterOptions {
  /** Where items are posted: the stack's own `/api/1/item`. */
  endpoint: string;
  /** The access token, read when the first report is sent (and again after a failed read). */
  accessToken: () => Promise<string>;
  environment: string;
  /** The reporting function (the item's `server.host`). */
  functionName: string;
  /** Items a container sends per minute at most; the rest are dropped and counted. @default 10 */
  itemsPerMinute?: number;
  /** How long one post may take before it is given up. @default 3000 ms */
  timeoutMs?: number;
  /** Where a failure to report goes: never the error path that reports (a warn line). */
  warn: (message: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

/** An error as Powertools formats it in a log entry. */
interface LoggedError {
  name: string;
  message: string;
  stack?: string;
}

function isLoggedError(value: unknown): value is LoggedError {
  return typeof value === 'object' && value !== null && 'name' in value && 'message' in value;
}

/**
 * The Rollbar item for one logged error. Grouped by function, log message and error class (an
 * explicit fingerprint): the error's own message often carries ids that would split one failure into
 * many items.
 */
export function itemForLoggedError(
  entry: LoggedEntry,
  options: Pick<SelfReporterOptions, 'environment' | 'functionName'>,
): { data: Record<string, unknown> } {
  const logMessage = typeof entry.message === 'string' && entry.message !== '' ? entry.message : 'error';
  const error = Object.values(entry).find(isLoggedError);
  const custom: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (!contextKeys.has(key) && value !== error) custom[key] = value;
  }
  const fingerprint = createHash('sha1')
    .update(`${options.functionName}\n${logMessage}\n${error?.name ?? ''}`)
    .digest('hex');
  return {
    data: {
      environment: options.environment,
      level: entry.level === 'CRITICAL' ? 'critical' : 'error',
      timestamp: Math.floor(Date.now() / 1000),
      platform: 'aws-lambda',
      language: 'javascript',
      framework: 'faultline',
      uuid: randomUUID(),
      fingerprint,
      server: { host: options.functionName },
      body: {
        message: {
          body: error ? `${logMessage}: ${error.name}: ${error.message}` : logMessage,
          ...(error?.stack ? { stack: error.stack } : {}),
        },
      },
      custom: {
        ...custom,
        function_request_id: entry.function_request_id,
        xray_trace_id: entry.xray_trace_id,
      },
      notifier: { name: 'faultline-self-report', version: '1' },
    },
  };
}

/**
 * Sends each logged error as an item, in the background; `flush()` waits for what is in flight
 * before the invocation ends (Lambda freezes a container between invocations).
 */
export class SelfReporter {
  private readonly pending = new Set<Promise<void>>();
  private windowStart = 0;
  private sentInWindow = 0;
  private droppedInWindow = 0;
  private reporting = false;
  private token: Promise<string> | undefined;

  constructor(private readonly options: SelfReporterOptions) {}

  /** Queues a report of one logged error; never throws, never waits. */
  report(entry: LoggedEntry): void {
    // Whatever reporting itself logs is not reported again, whatever level it uses.
    if (this.reporting) return;
    this.reporting = true;
    try {
      if (!this.admit()) return;
      const item = itemForLoggedError(entry, this.options);
      const sending = this.send(item).finally(() => this.pending.delete(sending));
      this.pending.add(sending);
    } finally {
      this.reporting = false;
    }
  }

  /** Waits for the reports in flight; never rejects. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Logs a failure to report; whatever that line is, it is not reported in turn. */
  private quietly(message: string, fields: Record<string, unknown>): void {
    const wasReporting = this.reporting;
    this.reporting = true;
    try {
      this.options.warn(message, fields);
    } finally {
      this.reporting = wasReporting;
    }
  }

  /** At most `itemsPerMinute` a minute: a failure that repeats in a loop reports a trickle, not a storm. */
  private admit(): boolean {
    const now = (this.options.now ?? Date.now)();
    if (now - this.windowStart >= 60_000) {
      if (this.droppedInWindow > 0) {
        this.quietly('self-report: errors left unreported (rate limit)', {
          dropped: this.droppedInWindow,
        });
      }
      this.windowStart = now;
      this.sentInWindow = 0;
      this.droppedInWindow = 0;
    }
    if (this.sentInWindow >= (this.options.itemsPerMinute ?? 10)) {
      this.droppedInWindow += 1;
      return false;
    }
    this.sentInWindow += 1;
    return true;
  }

  private async send(item: { data: Record<string, unknown> }): Promise<void> {
    try {
      this.token ??= this.options.accessToken();
      const token = await this.token.catch((error: unknown) => {
        // Read it again next time: a secret created after the deploy, or a transient failure.
        this.token = undefined;
        throw error;
      });
      const response = await fetch(this.options.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-rollbar-access-token': token },
        body: JSON.stringify(item),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 3000),
      });
      if (!response.ok) {
        this.quietly('self-report refused', {
          status: response.status,
          answer: (await response.text()).slice(0, 200),
        });
      }
    } catch (error) {
      this.quietly('self-report failed', {
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
