// The reconciler: finds stored occurrences that their items' counts miss and counts exactly those,
// once, through the fold engine. For a fold that failed past the stream's 24 hours, and for a
// promotion (occurrences another region stored, whose counts never arrived).
//
// How it knows what is missing: counts are not kept per occurrence, so it compares, per item and
// hour, the occurrence rows stored with what the item's counts say (its hourly count rows plus the
// hours in its row's `seed_hours`, as shared/store/counts.ts reads them). Where fewer are counted
// than stored, it picks that many of the stored ones, those absent from the item's listing pages
// first (a counted occurrence is on a page, or is the item's first occurrence), and folds them as
// records whose event id and sequence number derive from the occurrence (`recountRecord`). So an
// item absent is created, counts, environment counts, people and listings move as the fold would
// move them, and a recount stopped half-way is safe to run again: what it committed is counted now,
// so the comparison no longer finds it missing. Counts are never lowered: an hour counted beyond
// its stored rows (a row expired, or lost) is reported, not subtracted.
//
// Exact when nothing else counts those occurrences meanwhile: the fold can no longer see records
// older than the stream's 24 hours, hence the CLI's default `until`.
import {
  type DynamoDBDocumentClient,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { FoldEngine } from '#shared/fold/engine';
import type { FoldRecord } from '#shared/fold/records';
import { batchGetAll } from '#shared/store/batch-get';
import { DynamoDBFoldStorage } from '#shared/store/fold-storage';
import { countBucket, type Granularity, itemKeys, occurrenceKeys } from '#shared/store/keys';
import { occurrenceFacts } from '#shared/store/occurrence-rows';
import { unpackUuids } from '#shared/store/pages';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DAY_SECONDS, expiresAt, HOURLY_COUNT_RETENTION_DAYS } from '#shared/store/retention';
import { countAddUpdate } from '#shared/store/update-expressions';
import type { OccurrenceFacts } from '#shared/storing/occurrence';
import { STORED_IN_ATTRIBUTE } from '#shared/wiring/regions';

export interface RecountWindow {
  since: Date;
  until: Date;
  projectId?: number;
  /** Only occurrences whose `stored_in` is not this region (a promotion), or all. */
  storedElsewhereThan?: string;
}

export interface RecountProgress {
  /** Rows of the occurrences table read (the scan reads every row of the table). */
  scanned: number;
  /** Occurrence rows received within the window (and of the project, when given). */
  occurrences: number;
  /** Of those, the ones their items' counts miss (and that the window lets this recount count). */
  missing: number;
  /** Counted by this recount. */
  recounted: number;
}

/** What a recount did, with what it found but leaves alone. */
export interface RecountReport extends RecountProgress {
  /**
   * Occurrences counted for an item and hour beyond the rows stored for it: rows that expired or
   * were lost after they were counted. Reported, never subtracted.
   */
  countedBeyondStored: number;
  /**
   * Occurrences added to their environment's counts alone: their item counted them when a recount
   * created it, and that recount died before its commit added them to the environment's counts.
   */
  environmentCountsRepaired: number;
  /** The window as read: `since` goes back to its hour's start, so every hour compares whole. */
  since: Date;
  until: Date;
}

export interface RecountDeps {
  documents: DynamoDBDocumentClient;
  tables: { occurrences: string; items: string; projects: string };
  now?: () => number;
}

/** A window this recount cannot judge; nothing was read or written. */
export class RecountWindowError extends Error {
  override readonly name = 'RecountWindowError';
}

/** The fold engine refused to count a batch; what it committed before stays counted. */
export class RecountError extends Error {
  override readonly name = 'RecountError';
}

/** How long the stream keeps records: past this, the fold can never count them. */
export const STREAM_RETENTION_MS = 24 * 3600 * 1000;
/**
 * The oldest `since`: hourly count rows live 35 days, so before that every stored occurrence would
 * look uncounted. A day of margin, since a recount takes time and TTL deletes rows late.
 */
export const RECOUNT_MAX_DAYS = HOURLY_COUNT_RETENTION_DAYS - 1;
/** Segments of the parallel scan. */
export const SCAN_SEGMENTS = 8;
/** Records per fold call, as the fold's own batches. */
const RECOUNT_BATCH = 1000;
/** Fold calls in flight, each on its own items: they share only environment count rows. */
const FOLD_LANES = 4;
/** Items compared at once. */
const ITEM_CONCURRENCY = 16;

const HOUR_MS = 3600 * 1000;

/** The event id a recount gives an occurrence's record: the same in every run, unlike any stream's. */
export function recountEventId(uuid: string): string {
  return `recount:${uuid}`;
}

/**
 * The occurrence as a fold record. Its sequence number orders records by receipt time, then uuid,
 * and is the same in every run (the engine compares them within a batch, `created_by`).
 */
export function recountRecord(occurrence: OccurrenceFacts): FoldRecord {
  const uuidBits = BigInt(`0x${occurrence.uuid.replaceAll('-', '').slice(0, 16)}`);
  return {
    eventId: recountEventId(occurrence.uuid),
    sequenceNumber: ((BigInt(occurrence.receivedAt) << 64n) | uuidBits).toString(),
    occurrence,
  };
}

/** The stored occurrences of one item in the window, by hour bucket. */
interface ItemOccurrences {
  projectId: number;
  itemId: number;
  hours: Map<string, StoredOccurrence[]>;
}

interface StoredOccurrence {
  facts: OccurrenceFacts;
  /** The window lets this recount count it (its `stored_in` is another region's, or any). */
  eligible: boolean;
}

/** The stored occurrences of one project environment in the window, by hour bucket. */
interface EnvironmentOccurrences {
  projectId: number;
  environment: string;
  hours: Map<string, { stored: number; eligible: number; firstReceivedAt: number }>;
}

/** The attributes the scan reads: an occurrence's facts, never its payload. */
const FACT_ATTRIBUTES = [
  'entity',
  'uuid',
  'project_id',
  'item_id',
  'timestamp',
  'received_at',
  'environment',
  'platform',
  'framework',
  'language',
  'level',
  'code_version',
  'person_id',
  'title',
  'hash',
  'grouping_method',
  STORED_IN_ATTRIBUTE,
];

export async function recount(
  deps: RecountDeps,
  window: RecountWindow,
  onProgress?: (progress: RecountProgress) => void,
): Promise<RecountReport> {
  const now = deps.now ?? Date.now;
  const since = Math.floor(window.since.getTime() / HOUR_MS) * HOUR_MS;
  const until = window.until.getTime();
  checkWindow(window, since, until, now());

  const report: RecountReport = {
    scanned: 0,
    occurrences: 0,
    missing: 0,
    recounted: 0,
    countedBeyondStored: 0,
    environmentCountsRepaired: 0,
    since: new Date(since),
    until: new Date(until),
  };
  const tell = () => {
    const { scanned, occurrences, missing, recounted } = report;
    onProgress?.({ scanned, occurrences, missing, recounted });
  };

  const { items, environments } = await scanWindow(deps, { ...window, since, until }, report, tell);
  const storage = new DynamoDBFoldStorage(
    deps.documents,
    { items: deps.tables.items, occurrences: deps.tables.occurrences },
    new DynamoDBProjectRepository(deps.documents, deps.tables.projects),
  );
  const picked: FoldRecord[] = [];
  await inParallel([...items.values()], ITEM_CONCURRENCY, async (item) => {
    const { missing, beyond } = await missingOccurrences(deps, item, since, storage);
    report.missing += missing.length;
    report.countedBeyondStored += beyond;
    picked.push(...missing.map(recountRecord));
    tell();
  });

  const engine = new FoldEngine(storage, { now });
  const lanes = Array.from({ length: FOLD_LANES }, () => [] as FoldRecord[]);
  for (const record of picked) lanes[record.occurrence.itemId % FOLD_LANES]!.push(record);
  // Every lane runs to its end or its failure before the recount answers: nothing writes after it.
  const failures: unknown[] = [];
  await Promise.all(
    lanes.map(async (lane) => {
      lane.sort((a, b) => compareSequence(a.sequenceNumber, b.sequenceNumber));
      for (let start = 0; start < lane.length && failures.length === 0; start += RECOUNT_BATCH) {
        const folded = await engine.fold(lane.slice(start, start + RECOUNT_BATCH));
        report.recounted += folded.counted;
        tell();
        if (folded.error !== undefined || folded.stoppedAt !== undefined) failures.push(folded.error);
      }
    }),
  );
  if (failures.length > 0) {
    throw new RecountError('the fold engine could not count a batch; run the recount again', {
      cause: failures[0],
    });
  }
  report.environmentCountsRepaired = await repairEnvironmentCounts(deps, environments);
  return report;
}

function checkWindow(window: RecountWindow, since: number, until: number, now: number): void {
  if (Number.isNaN(since) || Number.isNaN(until))
    throw new RecountWindowError('since and until must be times');
  if (since >= until) throw new RecountWindowError('since must be before until');
  if (until > now) throw new RecountWindowError('until is in the future');
  const oldest = now - RECOUNT_MAX_DAYS * DAY_SECONDS * 1000;
  if (since < oldest) {
    throw new RecountWindowError(
      `since is before ${new Date(oldest).toISOString()}: hourly counts are kept ${HOURLY_COUNT_RETENTION_DAYS} days, so older occurrences cannot be told counted or not`,
    );
  }
  if (window.projectId !== undefined && !(Number.isSafeInteger(window.projectId) && window.projectId > 0)) {
    throw new RecountWindowError('projectId must be a positive integer');
  }
}

/**
 * Every occurrence row received in [since, until) (of the project), grouped by item and hour. All
 * are read, eligible or not: an item's counts hold them all, so all take part in the comparison.
 */
async function scanWindow(
  deps: RecountDeps,
  window: { since: number; until: number; projectId?: number; storedElsewhereThan?: string },
  report: RecountReport,
  tell: () => void,
): Promise<{ items: Map<string, ItemOccurrences>; environments: Map<string, EnvironmentOccurrences> }> {
  const names: Record<string, string> = {};
  FACT_ATTRIBUTES.forEach((attribute, index) => {
    names[`#a${index}`] = attribute;
  });
  const name = (attribute: string) => `#a${FACT_ATTRIBUTES.indexOf(attribute)}`;
  const values: Record<string, unknown> = {
    ':occurrence': 'occurrence',
    ':since': window.since,
    ':until': window.until,
  };
  const filters = [
    `${name('entity')} = :occurrence`,
    `${name('received_at')} >= :since`,
    `${name('received_at')} < :until`,
  ];
  if (window.projectId !== undefined) {
    values[':project'] = window.projectId;
    filters.push(`${name('project_id')} = :project`);
  }
  const items = new Map<string, ItemOccurrences>();
  const environments = new Map<string, EnvironmentOccurrences>();
  await Promise.all(
    Array.from({ length: SCAN_SEGMENTS }, async (_, segment) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await deps.documents.send(
          new ScanCommand({
            TableName: deps.tables.occurrences,
            Segment: segment,
            TotalSegments: SCAN_SEGMENTS,
            FilterExpression: filters.join(' AND '),
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ExclusiveStartKey: startKey,
          }),
        );
        report.scanned += page.ScannedCount ?? 0;
        for (const row of page.Items ?? []) {
          const facts = occurrenceFacts(row);
          if (!facts) continue;
          report.occurrences++;
          const storedIn = row[STORED_IN_ATTRIBUTE];
          const eligible =
            window.storedElsewhereThan === undefined ||
            (typeof storedIn === 'string' && storedIn !== window.storedElsewhereThan);
          const key = `${facts.projectId}/${facts.itemId}`;
          let item = items.get(key);
          if (!item) {
            item = { projectId: facts.projectId, itemId: facts.itemId, hours: new Map() };
            items.set(key, item);
          }
          const hour = countBucket(facts.receivedAt, 'hour');
          const stored = item.hours.get(hour);
          if (stored) stored.push({ facts, eligible });
          else item.hours.set(hour, [{ facts, eligible }]);
          const environmentKey = `${facts.projectId}\u0000${facts.environment}`;
          let environment = environments.get(environmentKey);
          if (!environment) {
            environment = { projectId: facts.projectId, environment: facts.environment, hours: new Map() };
            environments.set(environmentKey, environment);
          }
          const tally = environment.hours.get(hour) ?? {
            stored: 0,
            eligible: 0,
            firstReceivedAt: facts.receivedAt,
          };
          tally.stored++;
          if (eligible) tally.eligible++;
          tally.firstReceivedAt = Math.min(tally.firstReceivedAt, facts.receivedAt);
          environment.hours.set(hour, tally);
        }
        startKey = page.LastEvaluatedKey;
        tell();
      } while (startKey);
    }),
  );
  return { items, environments };
}

/**
 * The item's stored occurrences its counts miss, hour by hour, and how many it counts beyond its
 * stored rows. An item absent, or another project's (the ids collided and the fold, which moves such
 * an occurrence to its group's next id before counting it, never did), counts none of them.
 */
async function missingOccurrences(
  deps: RecountDeps,
  item: ItemOccurrences,
  since: number,
  storage: DynamoDBFoldStorage,
): Promise<{ missing: OccurrenceFacts[]; beyond: number }> {
  const [row] = await batchGetAll(deps.documents, deps.tables.items, [itemKeys.item(item.itemId)], {
    consistent: true,
    projection: 'project_id, seed_hours, first_occurrence_id',
  });
  const everything = () =>
    [...item.hours.values()].flat().flatMap(({ facts, eligible }) => (eligible ? [facts] : []));
  if (!row || row.project_id !== item.projectId) return { missing: everything(), beyond: 0 };

  const counted = await countRows(deps, occurrenceKeys.itemCountPartition(item.itemId, 'hour'), [
    ...item.hours.keys(),
  ]);
  const seed = row.seed_hours && typeof row.seed_hours === 'object' ? row.seed_hours : {};
  for (const [hour, count] of Object.entries(seed)) {
    if (typeof count === 'number') counted.set(hour, (counted.get(hour) ?? 0) + count);
  }

  let beyond = 0;
  const short: Array<{ shortBy: number; stored: StoredOccurrence[] }> = [];
  for (const [hour, stored] of item.hours) {
    const shortBy = stored.length - (counted.get(hour) ?? 0);
    if (shortBy < 0) beyond -= shortBy;
    if (shortBy > 0) short.push({ shortBy, stored });
  }
  if (short.length === 0) return { missing: [], beyond };

  const listed = await listedUuids(deps, item.itemId, since);
  if (typeof row.first_occurrence_id === 'string') listed.add(row.first_occurrence_id);
  const missing: OccurrenceFacts[] = [];
  for (const { shortBy, stored } of short) {
    const candidates = stored.filter((each) => each.eligible).map((each) => each.facts);
    const unlisted = candidates.filter((facts) => !listed.has(facts.uuid));
    const picks = unlisted.sort(byReceipt).slice(0, shortBy);
    // Listed but uncounted: a step that wrote its pages and never committed (or, after a promotion,
    // pages replicated before the counts). A listed one that an earlier recount committed as the
    // first record of a step has its ledger row: it is counted, and the engine would skip past it.
    for (const facts of candidates.filter((each) => listed.has(each.uuid)).sort(byReceipt)) {
      if (picks.length >= shortBy) break;
      if (!(await storage.readLedger(recountEventId(facts.uuid)))) picks.push(facts);
    }
    missing.push(...picks);
  }
  return { missing, beyond };
}

/**
 * Adds to each environment's hourly and daily counts what its hours miss of their stored
 * occurrences, once the items are counted (each fold commit adds to both). What is left short is
 * what a recount's creation of an item counted and its commit never added to the environment; never
 * more than the occurrences this window lets the recount count. The two rows change together.
 */
async function repairEnvironmentCounts(
  deps: RecountDeps,
  environments: Map<string, EnvironmentOccurrences>,
): Promise<number> {
  let repaired = 0;
  await inParallel([...environments.values()], ITEM_CONCURRENCY, async (environment) => {
    const partition = occurrenceKeys.environmentCountPartition(
      environment.projectId,
      environment.environment,
      'hour',
    );
    const counted = await countRows(deps, partition, [...environment.hours.keys()]);
    for (const [hour, { stored, eligible, firstReceivedAt }] of environment.hours) {
      const short = Math.min(stored - (counted.get(hour) ?? 0), eligible);
      if (short <= 0) continue;
      const row = (granularity: Granularity) => ({
        Update: {
          TableName: deps.tables.occurrences,
          Key: occurrenceKeys.environmentCount(
            environment.projectId,
            environment.environment,
            granularity,
            countBucket(firstReceivedAt, granularity),
          ),
          ...countAddUpdate(
            short,
            granularity === 'hour' ? expiresAt(firstReceivedAt, HOURLY_COUNT_RETENTION_DAYS) : undefined,
          ),
        },
      });
      await deps.documents.send(new TransactWriteCommand({ TransactItems: [row('hour'), row('day')] }));
      repaired += short;
    }
  });
  return repaired;
}

/** A partition's hourly count rows over these hours, read consistently. */
async function countRows(
  deps: RecountDeps,
  partition: string,
  buckets: readonly string[],
): Promise<Map<string, number>> {
  const hours = [...buckets].sort();
  const counts = new Map<string, number>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.documents.send(
      new QueryCommand({
        TableName: deps.tables.occurrences,
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :first AND :last',
        ExpressionAttributeValues: {
          ':pk': partition,
          ':first': hours[0],
          ':last': hours.at(-1),
        },
        ExpressionAttributeNames: { '#count': 'count' },
        ProjectionExpression: 'SK, #count',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const row of page.Items ?? []) counts.set(String(row.SK), Number(row.count));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return counts;
}

/**
 * The uuids on the item's listing pages that can hold occurrences received since `since`: a page
 * sorts by the newest receipt time it holds, so those are the pages from `since` on.
 */
async function listedUuids(deps: RecountDeps, itemId: number, since: number): Promise<Set<string>> {
  const listed = new Set<string>();
  const from = occurrenceKeys.itemPage(itemId, since, '').SK;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.documents.send(
      new QueryCommand({
        TableName: deps.tables.occurrences,
        KeyConditionExpression: 'PK = :pk AND SK >= :from',
        ExpressionAttributeValues: { ':pk': occurrenceKeys.itemPagePartition(itemId), ':from': from },
        ProjectionExpression: 'uuids',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const row of page.Items ?? []) {
      if (row.uuids instanceof Uint8Array) for (const uuid of unpackUuids(row.uuids)) listed.add(uuid);
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return listed;
}

function byReceipt(a: OccurrenceFacts, b: OccurrenceFacts): number {
  return a.receivedAt - b.receivedAt || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}

function compareSequence(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

/** Runs `work` on each value, at most `limit` at once. */
async function inParallel<T>(values: readonly T[], limit: number, work: (value: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, values.length) }, async () => {
      while (next < values.length) await work(values[next++]!);
    }),
  );
}
