// Which region is home now: the home row of the projects table, read from this region's replica and
// cached briefly per container, and written only on condition of the epoch read (promotions).
//
// The row (`homeRowKey`): `region` (the home), `epoch` (bumped by each promotion), `state` (`active`,
// or `promoting` while the reconciler recounts what the old home stored), `promoted_at` (epoch ms).
// Never written: the plan's home (`FAULTLINE_INITIAL_HOME`), epoch 0, active.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { HOME_CACHE_SECONDS, homeRowKey } from '#shared/wiring/regions';

export type HomeState = 'active' | 'promoting';

export interface Home {
  region: string;
  /** 0 until the first promotion; each promotion takes the next. */
  epoch: number;
  state: HomeState;
  /** When the last promotion began (epoch ms); null before any. */
  promotedAt: number | null;
}

/** A promotion found the home row changed since it was read: another promotion moved it. */
export class HomeChangedError extends Error {
  override readonly name = 'HomeChangedError';
}

/** A home row that is not one (written by hand, or by a newer version). */
export class UnreadableHomeRowError extends Error {
  override readonly name = 'UnreadableHomeRowError';
}

export interface HomeStore {
  /** The home row as stored; undefined when it has never been written. */
  read(options?: { consistent?: boolean }): Promise<Home | undefined>;
  /**
   * Writes `next` if the row still holds `expectedEpoch` (undefined: if it was never written);
   * otherwise HomeChangedError and nothing written.
   */
  write(next: Home, expectedEpoch: number | undefined): Promise<void>;
}

export class DynamoDBHomeStore implements HomeStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly projectsTable: string,
  ) {}

  async read(options: { consistent?: boolean } = {}): Promise<Home | undefined> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.projectsTable,
        Key: homeRowKey,
        ConsistentRead: options.consistent ?? false,
      }),
    );
    return result.Item ? homeOfRow(result.Item) : undefined;
  }

  async write(next: Home, expectedEpoch: number | undefined): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.projectsTable,
          Item: {
            ...homeRowKey,
            entity: 'home',
            region: next.region,
            epoch: next.epoch,
            state: next.state,
            promoted_at: next.promotedAt ?? undefined,
          },
          // A Global Table checks this on the replica written to only: promote from one place at a time.
          ConditionExpression: expectedEpoch === undefined ? 'attribute_not_exists(PK)' : 'epoch = :expected',
          ...(expectedEpoch === undefined
            ? {}
            : { ExpressionAttributeValues: { ':expected': expectedEpoch } }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new HomeChangedError('the home row changed since it was read: another promotion moved it', {
          cause: error,
        });
      }
      throw error;
    }
  }
}

function homeOfRow(row: Record<string, unknown>): Home {
  const { region, epoch, state, promoted_at: promotedAt } = row;
  if (
    typeof region !== 'string' ||
    typeof epoch !== 'number' ||
    (state !== 'active' && state !== 'promoting')
  ) {
    throw new UnreadableHomeRowError(
      `the home row is not readable: ${JSON.stringify({ region, epoch, state })}`,
    );
  }
  return { region, epoch, state, promotedAt: typeof promotedAt === 'number' ? promotedAt : null };
}

/** The home when the row has never been written: the plan's home, as deployed. */
export function initialHome(region: string): Home {
  return { region, epoch: 0, state: 'active', promotedAt: null };
}

export interface HomeReader {
  /** The home now, as this container last read it (at most `HOME_CACHE_SECONDS` ago). */
  current(): Promise<Home>;
}

/**
 * Reads the home row at most once per `HOME_CACHE_SECONDS` per container: every batch of every
 * pipeline function asks, and a promotion reaching them seconds later is what the design allows
 * (a worker that stores a moment too long stores once all the same; the reconciler counts it).
 */
export function createHomeReader(deps: {
  store: Pick<HomeStore, 'read'>;
  initialHome: string;
  /** Milliseconds. */
  now?: () => number;
  cacheSeconds?: number;
}): HomeReader {
  const now = deps.now ?? Date.now;
  const cacheMs = (deps.cacheSeconds ?? HOME_CACHE_SECONDS) * 1000;
  let cached: { home: Home; readAt: number } | undefined;
  let reading: Promise<Home> | undefined;
  return {
    async current() {
      if (cached && now() - cached.readAt < cacheMs) return cached.home;
      // Concurrent callers of one container share one read.
      reading ??= deps.store
        .read()
        .then((row) => {
          const home = row ?? initialHome(deps.initialHome);
          cached = { home, readAt: now() };
          return home;
        })
        .finally(() => {
          reading = undefined;
        });
      return reading;
    },
  };
}

/** What a pipeline region's storing worker does with a batch, given the home now. */
export type StoringPart =
  | { part: 'store' }
  | { part: 'forward'; to: string }
  /** Promoting toward this region: messages wait in its queue until the promotion completes. */
  | { part: 'hold' };

export function storingPartOf(home: Home, self: string): StoringPart {
  if (home.region !== self) return { part: 'forward', to: home.region };
  return home.state === 'promoting' ? { part: 'hold' } : { part: 'store' };
}

/**
 * `work`, run only while `self` is home (a promotion toward it included); otherwise `idle` is
 * answered and nothing runs. A standby's fan-out is wrapped so: the item changes it sees are
 * replicated from home, whose own fan-out has told them.
 */
export function whileHome<A extends unknown[], R>(
  home: HomeReader,
  self: string,
  work: (...args: A) => Promise<R>,
  idle: () => R,
): (...args: A) => Promise<R> {
  return async (...args) => ((await home.current()).region === self ? work(...args) : idle());
}
