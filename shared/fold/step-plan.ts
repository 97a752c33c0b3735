// A fold step's plan: which records it takes within its commit's budget, what each does to its
// item (roles.ts), and the listing pages it writes. Plain logic over the items as read.
import { countRowNames } from './count-rows';
import type { FoldRecord } from './records';
import { roleOf, stepTag } from './roles';
import type { FoldItem, ListingPage } from './storage';

/** DynamoDB's limit on the actions of one transaction: a step's commit stays within it. */
export const MAX_ACTIONS_PER_STEP = 100;

export interface StepPlan {
  start: number;
  /** Records [start, end) of the batch make the step. */
  end: number;
  creations: Map<number, FoldRecord[]>;
  updates: Map<number, FoldRecord[]>;
  /** Every record of the step: all add to their environment's counts and appear in listings. */
  records: FoldRecord[];
}

/**
 * Takes records from `start` while the step's commit stays within `MAX_ACTIONS_PER_STEP`: the
 * ledger row, and per record its environment's two count rows and, when it adds to an existing
 * item, the item and the item's two count rows (each row once).
 */
export function planStep(
  records: readonly FoldRecord[],
  start: number,
  items: ReadonlyMap<number, FoldItem>,
  batchSteps: ReadonlyMap<string, number>,
): StepPlan {
  const rows = new Set<string>(['ledger']);
  const plan: StepPlan = { start, end: start, creations: new Map(), updates: new Map(), records: [] };
  for (let index = start; index < records.length; index++) {
    const record = records[index]!;
    const { occurrence } = record;
    const role = roleOf(record, items.get(occurrence.itemId), batchSteps);
    const needed = countRowNames(
      { projectId: occurrence.projectId, environment: occurrence.environment },
      occurrence,
    );
    if (role === 'update') {
      needed.push(`item/${occurrence.itemId}`, ...countRowNames({ itemId: occurrence.itemId }, occurrence));
    }
    const added = needed.filter((row) => !rows.has(row));
    if (index > start && rows.size + added.length > MAX_ACTIONS_PER_STEP) break;
    for (const row of added) rows.add(row);
    plan.records.push(record);
    plan.end = index + 1;
    if (role === 'seeded') continue;
    const group = role === 'create' ? plan.creations : plan.updates;
    group.set(occurrence.itemId, [...(group.get(occurrence.itemId) ?? []), record]);
  }
  return plan;
}

/**
 * One page per item and per person of the step, newest first. A step whose only record of an item
 * is the item's first occurrence writes no page for it: the listing takes that one from the item.
 */
export function listingPages(plan: StepPlan, items: ReadonlyMap<number, FoldItem>): ListingPage[] {
  const tag = stepTag(plan.records[0]!.eventId);
  const pages: ListingPage[] = [];
  for (const itemRecords of groupBy(plan.records, (record) => String(record.occurrence.itemId)).values()) {
    const { itemId, projectId } = itemRecords[0]!.occurrence;
    const firstOccurrence =
      items.get(itemId)?.item.first_occurrence_id ?? earliest(itemRecords).occurrence.uuid;
    if (itemRecords.length === 1 && itemRecords[0]!.occurrence.uuid === firstOccurrence) continue;
    pages.push(page({ itemId }, projectId, tag, itemRecords));
  }
  const withPeople = plan.records.filter((record) => record.occurrence.person);
  for (const personRecords of groupBy(
    withPeople,
    (record) => `${record.occurrence.projectId}/${record.occurrence.person!.id}`,
  ).values()) {
    const { projectId, person } = personRecords[0]!.occurrence;
    pages.push(page({ personId: person!.id }, projectId, tag, personRecords));
  }
  return pages;
}

function page(
  of: ListingPage['of'],
  projectId: number,
  tag: string,
  records: readonly FoldRecord[],
): ListingPage {
  const newestFirst = [...records].sort(
    (a, b) =>
      b.occurrence.receivedAt - a.occurrence.receivedAt || b.occurrence.timestamp - a.occurrence.timestamp,
  );
  return {
    of,
    projectId,
    stepTag: tag,
    newestReceivedAt: newestFirst[0]!.occurrence.receivedAt,
    uuids: newestFirst.map((record) => record.occurrence.uuid),
  };
}

function earliest(records: readonly FoldRecord[]): FoldRecord {
  return records.reduce((a, b) =>
    b.occurrence.timestamp < a.occurrence.timestamp ||
    (b.occurrence.timestamp === a.occurrence.timestamp && b.occurrence.receivedAt < a.occurrence.receivedAt)
      ? b
      : a,
  );
}

export function groupBy<T>(values: readonly T[], keyOf: (value: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const value of values) {
    const key = keyOf(value);
    groups.set(key, [...(groups.get(key) ?? []), value]);
  }
  return groups;
}
