// Reading stored occurrences: one by uuid, an item's newest first, a person's newest first.
//
// Listings read the pages the fold writes (pages.ts), newest page first, then fetch the rows of
// the uuids they hold. A page can repeat uuids of another (a retried fold step), so a listing
// drops what it has listed already; an item's first occurrence has no page when it was alone in
// its fold step, so it is listed from the item itself, last (it is the oldest).
//
// DynamoDB's TTL deletes expired rows days late and in no order, so a row past its `expires_at` is
// treated as gone here. A listing decodes its rows one by one and leaves out (and logs) one whose
// payload cannot be read, so one bad row does not fail every page that holds it.
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { canonicalUuid, UUID_PATTERN } from '#shared/domain/payload';
import { BadRequestError } from '#shared/errors';
import type { ItemRecord } from '#shared/items/item';
import { logger } from '#shared/observability';
import { batchGetAll } from './batch-get';
import { occurrenceKeys } from './keys';
import { unpackUuids } from './pages';
import { MissingDictionaryError, type PayloadCodec, UnknownCodecError } from './payload-codec';

export interface OccurrenceRecord {
  uuid: string;
  project_id: number;
  item_id: number;
  timestamp: number;
  received_at: number;
  environment: string;
  level: string;
  code_version: string | null;
  person_id: string | null;
  payload_truncated: boolean;
  data: Record<string, unknown>;
}

export interface OccurrencePage {
  occurrences: OccurrenceRecord[];
  /** Pass back to get the next page; absent on the last page. */
  cursor: string | undefined;
}

/** What listing an item's occurrences needs to know of the item. */
export type ListedItem = Pick<ItemRecord, 'id' | 'project_id' | 'first_occurrence_id'>;

export interface ListOptions {
  /** At most this many occurrences (at least 1). */
  limit: number;
  /** The cursor of the page before; none for the newest page. */
  cursor?: string;
}

export interface OccurrenceRepository {
  get(projectId: number, uuid: string): Promise<OccurrenceRecord | undefined>;
  listByItem(item: ListedItem, options: ListOptions): Promise<OccurrencePage>;
  listByPerson(projectId: number, personId: string, options: ListOptions): Promise<OccurrencePage>;
}

/**
 * How far apart in receipt time two pages holding the same occurrence can be. Overlapping pages
 * are attempts of one fold step at one stream batch, and a page sorts by the newest receipt time
 * it holds, so they lie within the receipt times of one batch. A resumed listing re-reads the
 * pages this much newer than where it resumes to know what it listed already.
 */
const OVERLAP_WINDOW_MS = 5 * 60_000;
/** Page rows read per query: each holds at least one uuid, usually many. */
const PAGES_PER_QUERY = 25;

/** Where a listing resumes: page `page` (its SK) at index `offset`. */
interface Position {
  page: string;
  offset: number;
}

interface Cursor {
  partition: string;
  position: Position;
  /** The item's first occurrence has been listed (from a page, or appended). */
  firstListed: boolean;
}

interface Listing {
  projectId: number;
  /** The partition of the listing's pages. */
  partition: string;
  /** A page SK below every page of this partition newer than `receivedAt`, above all others. */
  boundAbove: (receivedAt: number) => string;
  firstOccurrence: string | undefined;
}

interface Candidate {
  uuid: string;
  /** Where the listing resumes once this one is listed; none after the first occurrence. */
  after: Position | undefined;
}

export class DynamoDBOccurrenceRepository implements OccurrenceRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly codec: PayloadCodec,
    /** The clock that decides which rows have expired (ms). */
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws when the row is there and unexpired but its payload cannot be read (a real fault). */
  async get(projectId: number, uuid: string): Promise<OccurrenceRecord | undefined> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: occurrenceKeys.occurrence(projectId, canonicalUuid(uuid)),
      }),
    );
    return result.Item && !this.expired(result.Item) ? this.toOccurrence(result.Item) : undefined;
  }

  listByItem(item: ListedItem, options: ListOptions): Promise<OccurrencePage> {
    const first = item.first_occurrence_id;
    return this.list(
      {
        projectId: item.project_id,
        partition: occurrenceKeys.itemPagePartition(item.id),
        boundAbove: (receivedAt) => occurrenceKeys.itemPage(item.id, receivedAt + 1, '').SK,
        firstOccurrence: UUID_PATTERN.test(first) ? canonicalUuid(first) : undefined,
      },
      options,
    );
  }

  listByPerson(projectId: number, personId: string, options: ListOptions): Promise<OccurrencePage> {
    return this.list(
      {
        projectId,
        partition: occurrenceKeys.personPagePartition(projectId, personId),
        boundAbove: (receivedAt) => occurrenceKeys.personPage(projectId, personId, receivedAt + 1, '').SK,
        firstOccurrence: undefined,
      },
      options,
    );
  }

  private async list(listing: Listing, options: ListOptions): Promise<OccurrencePage> {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new RangeError(`a listing's limit must be a positive integer, not ${options.limit}`);
    }
    const cursor = options.cursor === undefined ? undefined : parseCursor(options.cursor, listing.partition);
    const candidates = new Candidates(this.documents, this.tableName, listing, cursor);
    // One more than asked for, so the last page is known as such and has no cursor.
    const found: Array<{ candidate: Candidate; occurrence: OccurrenceRecord }> = [];
    while (found.length <= options.limit) {
      const batch = await candidates.take(options.limit + 1 - found.length);
      if (batch.length === 0) break;
      const rows = await this.rows(
        listing.projectId,
        batch.map((candidate) => candidate.uuid),
      );
      const decoded = await Promise.all(
        batch.map(async (candidate) => {
          // An occurrence whose row has expired (deleted by TTL or not yet) is left out; its page
          // may outlive it briefly.
          const row = rows.get(candidate.uuid);
          return row ? { candidate, occurrence: await this.readableOccurrence(row) } : undefined;
        }),
      );
      for (const entry of decoded) {
        if (entry?.occurrence) found.push({ candidate: entry.candidate, occurrence: entry.occurrence });
      }
    }
    const listed = found.slice(0, options.limit);
    const firstListed =
      (cursor?.firstListed ?? false) ||
      listed.some(({ candidate }) => candidate.uuid === listing.firstOccurrence);
    const resumeAt = listed.at(-1)?.candidate.after;
    return {
      occurrences: listed.map(({ occurrence }) => occurrence),
      cursor:
        found.length > options.limit && resumeAt
          ? encodeCursor({ partition: listing.partition, position: resumeAt, firstListed })
          : undefined,
    };
  }

  /** The rows of the uuids that still exist and have not expired, by uuid. */
  private async rows(projectId: number, uuids: string[]): Promise<Map<string, Record<string, unknown>>> {
    const keys = uuids.map((uuid) => occurrenceKeys.occurrence(projectId, uuid));
    const byPk = new Map(
      (await batchGetAll(this.documents, this.tableName, keys)).map((row) => [String(row.PK), row]),
    );
    const rows = new Map<string, Record<string, unknown>>();
    uuids.forEach((uuid, index) => {
      const row = byPk.get(keys[index]!.PK);
      if (row && !this.expired(row)) rows.set(uuid, row);
    });
    return rows;
  }

  /** Past its `expires_at` (epoch seconds): TTL has not deleted it yet, but it is gone. */
  private expired(row: Record<string, unknown>): boolean {
    return typeof row.expires_at === 'number' && row.expires_at * 1000 <= this.now();
  }

  /** The occurrence of a listed row; undefined, logged, when its payload cannot be read. */
  private async readableOccurrence(row: Record<string, unknown>): Promise<OccurrenceRecord | undefined> {
    try {
      return await this.toOccurrence(row);
    } catch (error) {
      if (!isUnreadablePayload(error)) throw error;
      logger.warn('occurrence left out of a listing: its payload cannot be read', {
        uuid: String(row.uuid),
        projectId: Number(row.project_id),
        codec: typeof row.codec === 'string' ? row.codec : undefined,
        error,
      });
      return undefined;
    }
  }

  private async toOccurrence(row: Record<string, unknown>): Promise<OccurrenceRecord> {
    const projectId = Number(row.project_id);
    const payload = row.payload instanceof Uint8Array ? row.payload : undefined;
    const codec = typeof row.codec === 'string' ? row.codec : undefined;
    return {
      uuid: String(row.uuid),
      project_id: projectId,
      item_id: Number(row.item_id),
      timestamp: Number(row.timestamp),
      received_at: Number(row.received_at),
      environment: String(row.environment),
      level: String(row.level),
      code_version: typeof row.code_version === 'string' ? row.code_version : null,
      person_id: typeof row.person_id === 'string' ? row.person_id : null,
      payload_truncated: row.payload_truncated === true,
      data: payload
        ? (JSON.parse(await this.codec.decode(projectId, payload, codec)) as Record<string, unknown>)
        : {},
    };
  }
}

/**
 * A failure of the stored row itself (its dictionary gone, a codec this code does not know, bytes
 * or JSON that do not decode), not of a dependency: a throttled or failed read is thrown.
 */
export function isUnreadablePayload(error: unknown): error is Error {
  if (error instanceof MissingDictionaryError || error instanceof UnknownCodecError) return true;
  if (error instanceof SyntaxError) return true;
  // zlib's errors carry its codes: Z_DATA_ERROR, Z_BUF_ERROR, Z_NEED_DICT…
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('Z_');
}

/**
 * The uuids of a listing in order, each once: its pages newest first, then the item's first
 * occurrence. Resumed at a cursor, it first reads the pages just newer than the cursor's (see
 * OVERLAP_WINDOW_MS) and the part of the cursor's page already listed, only to know their uuids.
 */
class Candidates {
  private readonly seen = new Set<string>();
  private readonly pages: Array<{ sk: string; uuids: string[]; index: number }> = [];
  private startKey: Record<string, unknown> | undefined;
  private queried = false;
  private firstDone: boolean;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly listing: Listing,
    private readonly cursor: Cursor | undefined,
  ) {
    this.firstDone = cursor?.firstListed ?? false;
  }

  /** Up to `count` more, fewer only at the end. */
  async take(count: number): Promise<Candidate[]> {
    const taken: Candidate[] = [];
    while (taken.length < count) {
      const candidate = await this.next();
      if (!candidate) break;
      taken.push(candidate);
    }
    return taken;
  }

  private async next(): Promise<Candidate | undefined> {
    for (;;) {
      const page = this.pages[0];
      if (page) {
        const uuid = page.uuids[page.index];
        if (uuid === undefined) {
          this.pages.shift();
          continue;
        }
        page.index++;
        if (this.seen.has(uuid)) continue;
        this.seen.add(uuid);
        return { uuid, after: { page: page.sk, offset: page.index } };
      }
      if (!this.queried || this.startKey) {
        await this.readPages();
        continue;
      }
      const first = this.listing.firstOccurrence;
      if (first === undefined || this.firstDone) return undefined;
      this.firstDone = true;
      if (this.seen.has(first)) return undefined;
      this.seen.add(first);
      return { uuid: first, after: undefined };
    }
  }

  private async readPages(): Promise<void> {
    const resumeAt = this.cursor?.position;
    const values: Record<string, unknown> = { ':pk': this.listing.partition };
    if (resumeAt) values[':above'] = this.listing.boundAbove(pageTime(resumeAt.page) + OVERLAP_WINDOW_MS);
    const result: QueryCommandOutput = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: resumeAt ? 'PK = :pk AND SK < :above' : 'PK = :pk',
        ExpressionAttributeValues: values,
        ProjectionExpression: 'SK, uuids',
        ScanIndexForward: false,
        Limit: PAGES_PER_QUERY,
        ExclusiveStartKey: this.startKey,
      }),
    );
    this.queried = true;
    this.startKey = result.LastEvaluatedKey;
    for (const row of result.Items ?? []) {
      const sk = String(row.SK);
      const uuids = row.uuids instanceof Uint8Array ? unpackUuids(row.uuids) : [];
      const listedBefore = resumeAt ? listedAlready(sk, uuids.length, resumeAt) : 0;
      for (const uuid of uuids.slice(0, listedBefore)) this.seen.add(uuid);
      if (listedBefore < uuids.length) this.pages.push({ sk, uuids, index: listedBefore });
    }
  }
}

/** How many uuids of a page were listed before `resumeAt`: all of a newer page, some of its own. */
function listedAlready(sk: string, length: number, resumeAt: Position): number {
  if (sk > resumeAt.page) return length;
  return sk === resumeAt.page ? Math.min(resumeAt.offset, length) : 0;
}

/** The receipt time a page sorts by: its SK starts with it (occurrenceKeys.itemPage, personPage). */
function pageTime(sk: string): number {
  return Number(sk.slice(0, sk.indexOf('#')));
}

const cursorSchema = z.object({
  p: z.string(),
  k: z.string().regex(/^\d{1,15}#/),
  o: z.number().int().nonnegative(),
  f: z.boolean(),
});

function encodeCursor(cursor: Cursor): string {
  const wire: z.infer<typeof cursorSchema> = {
    p: cursor.partition,
    k: cursor.position.page,
    o: cursor.position.offset,
    f: cursor.firstListed,
  };
  return Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
}

/** The cursor, if it is one of this listing's. */
function parseCursor(text: string, partition: string): Cursor {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (error) {
    throw new BadRequestError('invalid page cursor', { cause: error });
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success || parsed.data.p !== partition) throw new BadRequestError('invalid page cursor');
  return {
    partition: parsed.data.p,
    position: { page: parsed.data.k, offset: parsed.data.o },
    firstListed: parsed.data.f,
  };
}
