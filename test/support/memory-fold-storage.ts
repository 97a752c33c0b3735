// A second adapter of the fold's storage port, in memory, for the engine's tests without an
// emulator (as Powertools' CachePersistenceLayer is to its DynamoDB one). It keeps the same
// conditions as DynamoDB's (absent ledger and items, an item's project, its status, level and
// people as read, markers made by the same record), so a step it commits is all or nothing, and
// lets a test play a concurrent writer or a crash at the moment a step writes.
import type { CountAdd } from '#shared/fold/count-rows';
import type { FoldRecord } from '#shared/fold/records';
import type {
  FoldItem,
  FoldStorage,
  ListingPage,
  NewItem,
  Overtaken,
  StepCommit,
} from '#shared/fold/storage';
import { parseItemRow } from '#shared/store/item-row';
import type { OccurrenceFacts } from '#shared/storing/occurrence';

export class MemoryFoldStorage implements FoldStorage {
  readonly ledger = new Map<string, { lastEventId: string; records: number }>();
  /** Item rows as DynamoDB's would hold them (attributes left out while default). */
  readonly items = new Map<number, Record<string, unknown>>();
  readonly markers = new Map<string, string>();
  readonly pages: ListingPage[] = [];
  readonly counts = new Map<string, number>();
  readonly itemNumbers = new Map<number, number>();
  readonly commits: StepCommit[] = [];
  /** Item ids set in occurrence rows (`project/uuid` → item id) by `moveOccurrence`. */
  readonly movedOccurrences = new Map<string, number>();
  /** Runs before a commit is applied: may throw (a crash) or change rows (a concurrent writer). */
  beforeCommit: (step: StepCommit) => void = () => {};
  /** Runs before new items are put: may create one of them first (another fold). */
  beforeCreate: (items: readonly NewItem[]) => void = () => {};

  async readLedger(firstEventId: string) {
    const entry = this.ledger.get(firstEventId);
    return entry && { lastEventId: entry.lastEventId };
  }

  async readItems(itemIds: readonly number[]) {
    const found = new Map<number, FoldItem>();
    for (const itemId of itemIds) {
      const raw = this.items.get(itemId);
      if (!raw) continue;
      const { seed_hours, people, created_by, ...item } = parseItemRow(structuredClone(raw));
      found.set(itemId, { item, people, createdBy: created_by });
    }
    return found;
  }

  async writePages(pages: readonly ListingPage[]) {
    this.pages.push(...pages);
  }

  async readPeopleMarkers(itemId: number, personIds: readonly string[]) {
    const found = new Map<string, string>();
    for (const personId of personIds) {
      const createdBy = this.markers.get(`${itemId}/${personId}`);
      if (createdBy !== undefined) found.set(personId, createdBy);
    }
    return found;
  }

  async markPeople(itemId: number, people: ReadonlyMap<string, string>) {
    let marked = 0;
    for (const [personId, eventId] of people) {
      const existing = this.markers.get(`${itemId}/${personId}`);
      if (existing !== undefined && existing !== eventId) continue;
      this.markers.set(`${itemId}/${personId}`, eventId);
      marked++;
    }
    return marked;
  }

  async takeItemNumbers(projectId: number, count: number) {
    const last = (this.itemNumbers.get(projectId) ?? 0) + count;
    this.itemNumbers.set(projectId, last);
    return last - count + 1;
  }

  async createItems(items: readonly NewItem[]): Promise<'created' | Overtaken> {
    this.beforeCreate(items);
    let overtaken = false;
    for (const { change, counter, seedHours, createdBy, people } of items) {
      if (this.items.has(change.itemId)) {
        overtaken = true;
        continue;
      }
      this.items.set(change.itemId, {
        ...change.set,
        ...change.add,
        counter,
        seed_hours: seedHours,
        created_by: createdBy,
        people: people.length > 0 ? new Set(people) : undefined,
      });
    }
    return overtaken ? 'overtaken' : 'created';
  }

  async moveOccurrence(projectId: number, uuid: string, itemId: number) {
    this.movedOccurrences.set(`${projectId}/${uuid}`, itemId);
  }

  async commitStep(step: StepCommit): Promise<'committed' | Overtaken> {
    this.beforeCommit(step);
    if (this.ledger.has(step.ledger.firstEventId)) return 'overtaken';
    for (const { change, newPeople, peopleInItemRow } of step.updates) {
      const row = this.items.get(change.itemId);
      const expected = change.expected;
      if (!row || !expected || row.project_id !== change.projectId || row.status !== expected.status) {
        return 'overtaken';
      }
      if (expected.level && (row.level !== expected.level || row.level_lock !== false)) {
        return 'overtaken';
      }
      const inRow = row.people instanceof Set ? row.people.size : 0;
      if (newPeople.length > 0 && inRow !== peopleInItemRow) return 'overtaken';
    }
    this.commits.push(step);
    this.ledger.set(step.ledger.firstEventId, {
      lastEventId: step.ledger.lastEventId,
      records: step.ledger.records,
    });
    for (const { change, newPeople, counts } of step.updates) {
      const row = this.items.get(change.itemId)!;
      Object.assign(row, change.set);
      for (const [attribute, value] of Object.entries(change.add)) {
        row[attribute] = (typeof row[attribute] === 'number' ? (row[attribute] as number) : 0) + value;
      }
      if (newPeople.length > 0) {
        row.people = new Set([...(row.people instanceof Set ? row.people : []), ...newPeople]);
      }
      this.addCounts(counts);
    }
    this.addCounts(step.environmentCounts);
    return 'committed';
  }

  /** An item's or environment's count in one bucket; an item's includes its seed hours. */
  count(subject: CountAdd['subject'], bucket: string): number {
    const seeded =
      'itemId' in subject
        ? ((this.items.get(subject.itemId)?.seed_hours as Record<string, number> | undefined)?.[bucket] ?? 0)
        : 0;
    return (this.counts.get(`${JSON.stringify(subject)}/${bucket}`) ?? 0) + seeded;
  }

  private addCounts(counts: readonly CountAdd[]) {
    for (const { subject, bucket, count } of counts) {
      const name = `${JSON.stringify(subject)}/${bucket}`;
      this.counts.set(name, (this.counts.get(name) ?? 0) + count);
    }
  }
}

/** Stream records of a shard, numbered in order, as a batch hands them to the fold. */
export function streamRecords(occurrences: readonly OccurrenceFacts[], firstSequence = 100): FoldRecord[] {
  return occurrences.map((facts, index) => ({
    eventId: `event-${facts.uuid}`,
    sequenceNumber: String(firstSequence + index).padStart(21, '0'),
    occurrence: facts,
  }));
}
