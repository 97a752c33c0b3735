// Configuration parsed once at cold start: a missing variable fails the start, not the thousandth request.
import { z } from 'zod';
import { type TableName, tables } from '#shared/wiring/tables';
import { type QueueName, queues } from '#shared/wiring/topology';

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const parsed = z.string().min(1).safeParse(env[name]);
  if (!parsed.success) throw new ConfigurationError(`environment variable ${name} is not set`);
  return parsed.data;
}

/** The names of the given tables, read from the variables the wiring declares for them. */
export function tableNames<T extends TableName>(
  names: readonly T[],
  env: NodeJS.ProcessEnv = process.env,
): Record<T, string> {
  return Object.fromEntries(names.map((name) => [name, required(env, tables[name].envVar)])) as Record<
    T,
    string
  >;
}

/** The URLs of the given queues, read from the variables the wiring declares for them. */
export function queueUrls<Q extends QueueName>(
  names: readonly Q[],
  env: NodeJS.ProcessEnv = process.env,
): Record<Q, string> {
  return Object.fromEntries(names.map((name) => [name, required(env, queues[name].envVar)])) as Record<
    Q,
    string
  >;
}
