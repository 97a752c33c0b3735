// A function's part in several regions, read once at cold start from the variables the stack sets
// (shared/wiring/regions.ts); undefined in a one-region stack, where none of them is set.
import { z } from 'zod';
import { ConfigurationError } from '#shared/config';
import { regionEnvironment } from '#shared/wiring/regions';
import type { RetrySchedule } from './forwarder';

/**
 * The local simulation's shorter back-off, `<first>,<longest>` in seconds, so its 60 s cut drains
 * within seconds of the return. Read only where `FAULTLINE_LOCAL=1` (never set in AWS): deployed
 * forwarders always wait 10 s doubling up to 5 minutes.
 */
export const LOCAL_RETRY_SCHEDULE_VAR = 'FAULTLINE_LOCAL_FORWARD_BACKOFF';

export interface RegionSettings {
  /** This function's region, as the plan names it. */
  self: string;
  /** The home while the home row has never been written. */
  initialHome: string;
  /** Pipeline region → URL of its ingest queue (empty for a function that never forwards). */
  pipelineQueues: Record<string, string>;
  /** The forwarder's back-off when not the deployed one (the local simulation's). */
  retrySchedule?: RetrySchedule;
}

const pipelineQueuesSchema = z.record(z.string().min(1), z.url());

/** Undefined without FAULTLINE_REGION: the one-region stack, which reads no home row. */
export function regionSettings(env: NodeJS.ProcessEnv = process.env): RegionSettings | undefined {
  const self = env[regionEnvironment.self];
  if (!self) return undefined;
  const initialHome = env[regionEnvironment.initialHome];
  if (!initialHome) {
    throw new ConfigurationError(
      `environment variable ${regionEnvironment.initialHome} is not set (${regionEnvironment.self} is)`,
    );
  }
  const queues = env[regionEnvironment.pipelineQueues];
  let pipelineQueues: Record<string, string> = {};
  if (queues) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(queues);
    } catch (error) {
      throw new ConfigurationError(`${regionEnvironment.pipelineQueues} is not JSON`, { cause: error });
    }
    const result = pipelineQueuesSchema.safeParse(parsed);
    if (!result.success) {
      throw new ConfigurationError(
        `${regionEnvironment.pipelineQueues} is not an object of region → queue URL`,
      );
    }
    pipelineQueues = result.data;
  }
  const retrySchedule = localRetrySchedule(env);
  return { self, initialHome, pipelineQueues, ...(retrySchedule ? { retrySchedule } : {}) };
}

function localRetrySchedule(env: NodeJS.ProcessEnv): RetrySchedule | undefined {
  const value = env[LOCAL_RETRY_SCHEDULE_VAR];
  if (!value || env.FAULTLINE_LOCAL !== '1') return undefined;
  const [firstSeconds, longestSeconds] = value.split(',').map(Number);
  if (!(Number.isSafeInteger(firstSeconds) && Number.isSafeInteger(longestSeconds))) {
    throw new ConfigurationError(`${LOCAL_RETRY_SCHEDULE_VAR} is not <first>,<longest> in whole seconds`);
  }
  return { firstSeconds: firstSeconds!, longestSeconds: longestSeconds! };
}

/** The settings of a function that must run in several regions (the forwarder). */
export function requiredRegionSettings(env: NodeJS.ProcessEnv = process.env): RegionSettings {
  const settings = regionSettings(env);
  if (!settings) throw new ConfigurationError(`environment variable ${regionEnvironment.self} is not set`);
  return settings;
}
