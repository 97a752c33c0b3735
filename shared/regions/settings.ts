// A function's part in several regions, read once at cold start from the variables the stack sets
// (shared/wiring/regions.ts); undefined in a one-region stack, where none of them is set.
import { z } from 'zod';
import { ConfigurationError } from '#shared/config';
import { regionEnvironment } from '#shared/wiring/regions';

export interface RegionSettings {
  /** This function's region, as the plan names it. */
  self: string;
  /** The home while the home row has never been written. */
  initialHome: string;
  /** Pipeline region → URL of its ingest queue (empty for a function that never forwards). */
  pipelineQueues: Record<string, string>;
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
  return { self, initialHome, pipelineQueues };
}

/** The settings of a function that must run in several regions (the forwarder). */
export function requiredRegionSettings(env: NodeJS.ProcessEnv = process.env): RegionSettings {
  const settings = regionSettings(env);
  if (!settings) throw new ConfigurationError(`environment variable ${regionEnvironment.self} is not set`);
  return settings;
}
