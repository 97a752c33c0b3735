// Severity levels and their order: an item's level is the highest level its occurrences carried.
import { LEVELS, type Level } from './payload';

export type { Level };
export { LEVELS };

const RANK: Record<Level, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

export function levelRank(level: Level): number {
  return RANK[level];
}

export function higherLevel(a: Level, b: Level): Level {
  return RANK[a] >= RANK[b] ? a : b;
}

export function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}

/** Rollbar's default when an item names no level: exceptions are errors, messages are info. */
export function defaultLevel(hasTrace: boolean): Level {
  return hasTrace ? 'error' : 'info';
}
