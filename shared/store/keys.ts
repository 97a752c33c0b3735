// Every key layout of every table, built here and nowhere else.

export interface Key {
  PK: string;
  SK: string;
}

const pad = (n: number, width = 12) => String(n).padStart(width, '0');

export const projectKeys = {
  /** The installation-wide counter that numbers projects. */
  projectCounter: (): Key => ({ PK: 'COUNTER', SK: 'PROJECT' }),
  project: (projectId: number): Key => ({ PK: `PROJECT#${projectId}`, SK: 'PROJECT' }),
  /** Reserves a project name, so two projects cannot share one. */
  projectName: (name: string): Key => ({ PK: `PROJECT_NAME#${name}`, SK: 'PROJECT_NAME' }),
  accessToken: (tokenHash: string): Key => ({ PK: `TOKEN#${tokenHash}`, SK: 'TOKEN' }),
  /** Lists a project's tokens (hash only) so they can be shown and revoked. */
  projectToken: (projectId: number, tokenHash: string): Key => ({
    PK: `PROJECT#${projectId}`,
    SK: `TOKEN#${tokenHash}`,
  }),
};

export const rateLimitKeys = {
  /** A token's calls in the minute window starting at `windowStart` (epoch seconds). */
  window: (tokenHash: string, windowStart: number): Key => ({
    PK: `TOKEN#${tokenHash}#${windowStart}`,
    SK: 'CALLS',
  }),
};

export const itemKeys = {
  item: (itemId: number): Key => ({ PK: `ITEM#${itemId}`, SK: 'ITEM' }),
  deploy: (projectId: number, deployId: number): Key => ({
    PK: `PROJECT#${projectId}#DEPLOYS`,
    SK: `DEPLOY#${pad(deployId)}`,
  }),
  deployPartition: (projectId: number) => `PROJECT#${projectId}#DEPLOYS`,
  /**
   * A deploy posted to an edge region, recorded at home: its message's uuid, holding the deploy id it
   * took, so a redelivered message records nothing. Outside the deploys' partition, which lists them.
   */
  deployMessage: (projectId: number, uuid: string): Key => ({
    PK: `PROJECT#${projectId}#DEPLOY_MESSAGE#${uuid}`,
    SK: 'DEPLOY_MESSAGE',
  }),
};

export const occurrenceKeys = {
  /** The uuid is the idempotency key: the row exists once per project and uuid. */
  occurrence: (projectId: number, uuid: string): Key => ({ PK: `OCC#${projectId}#${uuid}`, SK: 'OCC' }),
  /**
   * A listing page: the uuids of an item's occurrences that one fold step counted, newest first.
   * Pages sort by the newest receipt time they hold; `tag` tells apart pages of the same instant.
   */
  itemPage: (itemId: number, newestReceivedAt: number, tag: string): Key => ({
    PK: `ITEM#${itemId}#OCCS`,
    SK: `${pad(newestReceivedAt, 15)}#${tag}`,
  }),
  itemPagePartition: (itemId: number) => `ITEM#${itemId}#OCCS`,
  /** The same for a person's occurrences in a project. */
  personPage: (projectId: number, personId: string, newestReceivedAt: number, tag: string): Key => ({
    PK: `PROJECT#${projectId}#PERSON#${personId}#OCCS`,
    SK: `${pad(newestReceivedAt, 15)}#${tag}`,
  }),
  personPagePartition: (projectId: number, personId: string) =>
    `PROJECT#${projectId}#PERSON#${personId}#OCCS`,
  /** A project's compression dictionary: payloads are deflated against it. */
  dictionary: (projectId: number, dictionaryId: string): Key => ({
    PK: `DICT#${projectId}#${dictionaryId}`,
    SK: 'DICT',
  }),
  /**
   * The fold's ledger: the stream records from the one whose event id this is, through the
   * recorded last one, have been counted.
   */
  foldLedger: (firstEventId: string): Key => ({ PK: `FOLD#${firstEventId}`, SK: 'FOLD' }),
  /** Marks that a person was affected by an item, so the item counts each person once. */
  itemPerson: (itemId: number, personId: string): Key => ({
    PK: `ITEM#${itemId}#PERSON#${personId}`,
    SK: 'PERSON',
  }),
  itemCount: (itemId: number, granularity: Granularity, bucket: string): Key => ({
    PK: `COUNT#ITEM#${itemId}#${granularity}`,
    SK: bucket,
  }),
  itemCountPartition: (itemId: number, granularity: Granularity) => `COUNT#ITEM#${itemId}#${granularity}`,
  environmentCount: (
    projectId: number,
    environment: string,
    granularity: Granularity,
    bucket: string,
  ): Key => ({
    PK: `COUNT#PROJECT#${projectId}#ENV#${environment}#${granularity}`,
    SK: bucket,
  }),
  environmentCountPartition: (projectId: number, environment: string, granularity: Granularity) =>
    `COUNT#PROJECT#${projectId}#ENV#${environment}#${granularity}`,
};

export type Granularity = 'hour' | 'day';

/** The bucket an instant falls in: `2026-11-23T10` for hours, `2026-11-23` for days (UTC). */
export function countBucket(timestampMs: number, granularity: Granularity): string {
  const iso = new Date(timestampMs).toISOString();
  return granularity === 'hour' ? iso.slice(0, 13) : iso.slice(0, 10);
}

/** The notifications table: rules, delivery records and logs, noise-control state, tracker links. */
export const notificationKeys = {
  /** The installation-wide counter that numbers rules (Rollbar's rule ids are numbers). */
  ruleCounter: (): Key => ({ PK: 'COUNTER', SK: 'RULE' }),
  /** A project's rules share a partition: the fan-out reads them all with one query. */
  rule: (projectId: number, ruleId: number): Key => ({
    PK: `PROJECT#${projectId}#RULES`,
    SK: `RULE#${pad(ruleId)}`,
  }),
  rulesPartition: (projectId: number) => `PROJECT#${projectId}#RULES`,
  /** Written once per delivery key, conditionally: a redelivered batch or message never posts twice. */
  delivery: (deliveryKey: string): Key => ({ PK: `DELIVERY#${deliveryKey}`, SK: 'DELIVERY' }),
  /** A rule's delivery log, newest last by time; read newest first, 50 at a time. */
  deliveryLog: (ruleId: number, timeMs: number, deliveryKey: string, attempt: number): Key => ({
    PK: `RULE#${ruleId}#LOG`,
    SK: `${pad(timeMs, 15)}#${deliveryKey}#${attempt}`,
  }),
  deliveryLogPartition: (ruleId: number) => `RULE#${ruleId}#LOG`,
  /** When a rule last told of an item (the action interval). */
  ruleItemInterval: (ruleId: number, itemId: number): Key => ({
    PK: `NOISE#${ruleId}#${itemId}`,
    SK: 'INTERVAL',
  }),
  /** How many `occurrence` messages a rule sent for an item in one UTC hour (`2026-11-30T10`). */
  ruleItemHour: (ruleId: number, itemId: number, hour: string): Key => ({
    PK: `NOISE#${ruleId}#${itemId}`,
    SK: `HOUR#${hour}`,
  }),
  /** Occurrences of an item counted in one window of a rate period, for `occurrence_rate` rules. */
  rateWindow: (itemId: number, period: number, windowStart: number): Key => ({
    PK: `RATE#${itemId}#${period}`,
    SK: pad(windowStart, 15),
  }),
  /** The next instant a destination (a webhook URL's hash) may be posted to: the vendor's pace. */
  destinationPace: (destinationKey: string): Key => ({ PK: `PACE#${destinationKey}`, SK: 'PACE' }),
  /** A tracker's record of an item: GitHub issue number, Jira issue key. */
  channelLink: (ruleId: number, itemId: number): Key => ({ PK: `LINK#${ruleId}#${itemId}`, SK: 'LINK' }),
  /** What the daily summary tells of a project's UTC day: the new, reactivated and counted items. */
  summaryDay: (
    projectId: number,
    day: string,
    kind: 'NEW' | 'REACTIVATED' | 'COUNT',
    itemId: number,
  ): Key => ({
    PK: `SUMMARY#${projectId}#${day}`,
    SK: `${kind}#${pad(itemId)}`,
  }),
  summaryDayPartition: (projectId: number, day: string) => `SUMMARY#${projectId}#${day}`,
  /** A daily summary rule's summary of a UTC day was queued: later runs of the schedule skip it. */
  summarySent: (ruleId: number, day: string): Key => ({ PK: `SUMMARY_SENT#${ruleId}`, SK: day }),
  /** Projects with a daily summary rule, so the schedule need not scan: one row per rule. */
  summaryRule: (ruleId: number): Key => ({ PK: 'SUMMARY_RULES', SK: `RULE#${pad(ruleId)}` }),
};

/**
 * The search table: a project's entries (each item's document and facets, one row), spread over
 * `SEARCH_SHARDS` partitions by item id, so a search reads them in parallel and no partition grows
 * past what one query page holds for a project of ordinary size.
 */
export const SEARCH_SHARDS = 8;

const searchShard = (itemId: number) => itemId % SEARCH_SHARDS;

/**
 * Each search partition is cut into this many ranges of item ids (ids are 52 bits of a hash, so the
 * ranges hold alike), each with its own version: a search reads again only the ranges written since
 * it last read them, a 64th of a project's index each (`searchRanges`).
 */
export const SEARCH_RANGES_PER_SHARD = 8;
export const SEARCH_RANGES = SEARCH_SHARDS * SEARCH_RANGES_PER_SHARD;
/** Item ids a range spans: 2^52 / 8. Ids past 2^52 (never made) fall in a shard's last range. */
const SEARCH_RANGE_SPAN = 2 ** 49;

export const searchRanges = {
  /** The range (0 to `SEARCH_RANGES` - 1) an item's entry is in. */
  of: (itemId: number): number =>
    searchShard(itemId) * SEARCH_RANGES_PER_SHARD +
    Math.min(SEARCH_RANGES_PER_SHARD - 1, Math.floor(itemId / SEARCH_RANGE_SPAN)),
  /** The range's partition (shard) and the first and last sort keys it spans there. */
  bounds: (range: number): { shard: number; from: string; to: string } => {
    const part = range % SEARCH_RANGES_PER_SHARD;
    return {
      shard: Math.floor(range / SEARCH_RANGES_PER_SHARD),
      from: pad(part * SEARCH_RANGE_SPAN, 16),
      to: part === SEARCH_RANGES_PER_SHARD - 1 ? '9'.repeat(16) : pad((part + 1) * SEARCH_RANGE_SPAN - 1, 16),
    };
  },
};

export const searchKeys = {
  /** An item's entry: its document (`d`) and its facets (`f`) in one row, one write unit in the usual case. */
  entry: (projectId: number, itemId: number): Key => ({
    PK: searchKeys.entryPartition(projectId, searchShard(itemId)),
    SK: pad(itemId, 16),
  }),
  /** Named `DOCS` since the rows held documents alone: an index written before keeps its rows. */
  entryPartition: (projectId: number, shard: number) => `SEARCH#${projectId}#DOCS#${shard}`,
  /**
   * An item's facets row as the index kept it apart before entries held them (read only, never
   * written): the engine falls back to it for an entry written before then (see `readFacets`).
   */
  formerFacets: (projectId: number, itemId: number): Key => ({
    PK: `SEARCH#${projectId}#FACETS#${searchShard(itemId)}`,
    SK: pad(itemId, 16),
  }),
  /**
   * The project's index versions: one counter per range of entries (`d0`…`d63`), bumped after each
   * write to the range, so a search reads again only what changed. One row under 1 KB (an index
   * written before entries also holds the facets' former `f0`…`f63`, never bumped now): a bump is
   * one write unit, reading them all one read unit.
   */
  versions: (projectId: number): Key => ({ PK: `SEARCH#${projectId}#VERSIONS`, SK: 'VERSIONS' }),
};
