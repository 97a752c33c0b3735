// Loads a handler module and invokes it as the Lambda Node.js runtime would: with a context and a timeout.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { type FunctionName, functions } from '#shared/wiring/topology';
import { localMetrics } from './cloudwatch-local';

export type Handler = (event: unknown, context: Context) => unknown;

export interface LambdaFunction {
  /** Name of the function, as in the wiring (`ingestItem`). */
  name: string;
  /** Absolute path of the handler module; it exports `handler`. */
  entry: string;
  timeoutSeconds: number;
  memoryMb: number;
}

export interface LoadedFunction extends LambdaFunction {
  handler: Handler;
}

export class HandlerNotFoundError extends Error {
  override readonly name = 'HandlerNotFoundError';
}

/** Thrown when an invocation outlives the function's timeout, as Lambda reports "Task timed out". */
export class LambdaTimeoutError extends Error {
  override readonly name = 'LambdaTimeoutError';
}

const REGION = 'us-east-1';

// Which function an asynchronous call belongs to, as a Lambda container would know by being one.
const running = new AsyncLocalStorage<string>();

/** The name of the function whose invocation this code runs in; undefined outside any invocation. */
export function runningFunction(): string | undefined {
  return running.getStore();
}

// Every handler in the local process shares one logger, whose function name the last invocation to
// start set; the local log format asks here instead (shared/ never imports infra/, hence a global).
(globalThis as Record<symbol, unknown>)[Symbol.for('faultline.local.runningFunction')] = runningFunction;
const ACCOUNT = '123456789012';

/**
 * Imports the handler module. Call it only once the environment is set: handlers build their clients
 * and parse their configuration at module scope, as in a Lambda cold start.
 */
export async function loadFunction(fn: LambdaFunction): Promise<LoadedFunction> {
  if (!existsSync(fn.entry)) {
    throw new HandlerNotFoundError(`function ${fn.name}: handler file ${fn.entry} does not exist`);
  }
  const module: { handler?: unknown } = await import(pathToFileURL(fn.entry).href);
  if (typeof module.handler !== 'function') {
    throw new HandlerNotFoundError(`function ${fn.name}: ${fn.entry} does not export a function \`handler\``);
  }
  return { ...fn, handler: module.handler as Handler };
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Imports a function of the wiring by its name, its handler from the repository (see loadFunction). */
export function loadDeclaredFunction(name: FunctionName): Promise<LoadedFunction> {
  const { entry, timeoutSeconds, memoryMb } = functions[name];
  return loadFunction({ name, entry: `${repoRoot}${entry}`, timeoutSeconds, memoryMb });
}

let invocations = 0;

/** How many invocations have started in this process: `idle()` is reached when a look changes nothing. */
export function invocationsStarted(): number {
  return invocations;
}

/** Invokes the handler once; rejects with its error, or with a LambdaTimeoutError past its timeout. */
export async function invoke(fn: LoadedFunction, event: unknown): Promise<unknown> {
  invocations += 1;
  const timeoutMs = fn.timeoutSeconds * 1000;
  const deadline = Date.now() + timeoutMs;
  const context = lambdaContext(fn, deadline);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LambdaTimeoutError(`${context.awsRequestId} Task timed out after ${fn.timeoutSeconds} seconds`),
        ),
      timeoutMs,
    );
  });
  const started = performance.now();
  let failed = false;
  try {
    return await Promise.race([
      running.run(fn.name, () => Promise.resolve().then(() => fn.handler(event, context))),
      timedOut,
    ]);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    clearTimeout(timer);
    recordInvocation(fn.name, failed, performance.now() - started);
  }
}

/**
 * What Lambda publishes of each invocation in AWS/Lambda, by function name, into the local CloudWatch:
 * an invocation, whether it failed (a throw or a timeout: Lambda's Errors), and its duration.
 */
function recordInvocation(name: string, failed: boolean, durationMs: number): void {
  const timestampMs = Date.now();
  const dimensions = { FunctionName: name };
  const put = (metricName: string, value: number) =>
    localMetrics.put(REGION, { namespace: 'AWS/Lambda', metricName, dimensions }, { timestampMs, value });
  put('Invocations', 1);
  put('Errors', failed ? 1 : 0);
  put('Duration', durationMs);
}

function lambdaContext(fn: LambdaFunction, deadline: number): Context {
  const unsupported = (): never => {
    throw new Error('context.done/succeed/fail are not supported: return a value or a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.name}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
