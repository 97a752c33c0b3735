// Builders of Rollbar payloads and queued occurrences for tests.
import { randomUUID } from 'node:crypto';
import type { ItemData } from '#shared/domain/payload';
import { type PreparedOccurrence, prepareOccurrence } from '#shared/storing/occurrence';

export function errorData(
  overrides: Partial<ItemData> & { className?: string; message?: string } = {},
): ItemData {
  const { className = 'TypeError', message = 'x is not a function', ...rest } = overrides;
  return {
    environment: 'production',
    platform: 'node',
    language: 'javascript',
    level: 'error',
    body: {
      trace: {
        exception: { class: className, message },
        frames: [
          { filename: '/var/task/src/server.js', lineno: 10, method: 'handleRequest' },
          { filename: '/var/task/src/orders.js', lineno: 42, method: 'placeOrder' },
        ],
      },
    },
    ...rest,
  } as ItemData;
}

export function occurrence(
  projectId: number,
  data: ItemData = errorData(),
  options: { uuid?: string; receivedAt?: number; groupingVersion?: 1 | 2 } = {},
): PreparedOccurrence {
  const uuid = options.uuid ?? randomUUID();
  return prepareOccurrence({
    version: 1,
    project_id: projectId,
    grouping_version: options.groupingVersion ?? 2,
    received_at: options.receivedAt ?? Date.now(),
    uuid,
    data: { ...data, uuid },
  });
}
