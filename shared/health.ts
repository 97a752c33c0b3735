// The health check: each dependency probed in parallel, with a deadline, reported by name.
import { logger } from './observability';

export interface HealthReport {
  ok: boolean;
  checks: Record<string, 'ok' | 'failing'>;
}

const DEADLINE_MS = 2_000;

export async function checkHealth(probes: Record<string, () => Promise<unknown>>): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      try {
        await Promise.race([
          probe(),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`${name} timed out`)), DEADLINE_MS).unref(),
          ),
        ]);
        return [name, 'ok'] as const;
      } catch (error) {
        logger.warn('health check failing', { dependency: name, error: error as Error });
        return [name, 'failing'] as const;
      }
    }),
  );
  return { ok: entries.every(([, state]) => state === 'ok'), checks: Object.fromEntries(entries) };
}
