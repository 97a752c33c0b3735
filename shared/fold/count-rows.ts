// The counts a step adds, aggregated per item or environment and per hour and day, so that a step
// adds to each count row once however many of its occurrences fall in it.

import { countBucket, type Granularity } from '#shared/store/keys';
import type { OccurrenceFacts } from '#shared/storing/occurrence';
import type { FoldRecord } from './records';

export type CountSubject = { itemId: number } | { projectId: number; environment: string };

/** One count row's addition. */
export interface CountAdd {
  subject: CountSubject;
  granularity: Granularity;
  /** `2026-11-23T10` or `2026-11-23` (UTC), as `countBucket` names it. */
  bucket: string;
  count: number;
  /** Receipt time of the first occurrence counted in it: an hourly row expires from it. */
  firstReceivedAt: number;
}

const GRANULARITIES = ['hour', 'day'] as const;

/** Names for the hourly and daily rows an occurrence adds to, for the step's transaction budget. */
export function countRowNames(subject: CountSubject, occurrence: OccurrenceFacts): string[] {
  const name =
    'itemId' in subject ? `item/${subject.itemId}` : `env/${subject.projectId}/${subject.environment}`;
  return GRANULARITIES.map((granularity) => `${name}/${countBucket(occurrence.receivedAt, granularity)}`);
}

/** The count rows the records add to, one per subject, granularity and bucket. */
export function countAdds(
  records: readonly FoldRecord[],
  subjectOf: (occurrence: OccurrenceFacts) => CountSubject,
): CountAdd[] {
  const rows = new Map<string, CountAdd>();
  for (const { occurrence } of records) {
    const subject = subjectOf(occurrence);
    for (const [index, name] of countRowNames(subject, occurrence).entries()) {
      const row = rows.get(name);
      if (row) row.count++;
      else {
        rows.set(name, {
          subject,
          granularity: GRANULARITIES[index]!,
          bucket: countBucket(occurrence.receivedAt, GRANULARITIES[index]!),
          count: 1,
          firstReceivedAt: occurrence.receivedAt,
        });
      }
    }
  }
  return [...rows.values()];
}

/** A new item's counts by hour, kept in its row until graphs read them (no count rows to create). */
export function hourCounts(records: readonly FoldRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { occurrence } of records) {
    const bucket = countBucket(occurrence.receivedAt, 'hour');
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  return counts;
}
