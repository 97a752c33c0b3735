// The fold's storage in DynamoDB: the rows the fold engine (shared/fold/engine.ts) reads and
// writes, and nothing of its protocol. Listing pages, people markers and the ledger are rows of the
// occurrences table; items are rows of the items table; a step commits in one TransactWriteItems.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { CountAdd } from '#shared/fold/count-rows';
import {
  FoldError,
  type FoldItem,
  type FoldStorage,
  type ListingPage,
  type NewItem,
  type Overtaken,
  type StepCommit,
} from '#shared/fold/storage';
import { batchGetAll } from './batch-get';
import { parseItemRow } from './item-row';
import { itemKeys, type Key, occurrenceKeys } from './keys';
import { packUuids } from './pages';
import type { ProjectRepository } from './projects';
import {
  expiresAt,
  FOLD_LEDGER_RETENTION_DAYS,
  HOURLY_COUNT_RETENTION_DAYS,
  OCCURRENCE_RETENTION_DAYS,
} from './retention';
import { countAddUpdate, itemChangeUpdate } from './update-expressions';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** BatchGetItem calls of a batch's items in flight at once. */
const READS_IN_FLIGHT = 4;

export interface FoldTables {
  items: string;
  occurrences: string;
}

export interface FoldStorageOptions {
  /** Sees every transaction before it is sent (the benchmark checks its meter with it). */
  onTransaction?: (items: TransactItem[]) => void;
}

/**
 * Why a transaction may be cancelled and succeed when the step is planned again (the engine calls
 * that overtaken); any other reason is final.
 */
const RETRYABLE_CANCELLATIONS = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

export class DynamoDBFoldStorage implements FoldStorage {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: FoldTables,
    private readonly projects: ProjectRepository,
    private readonly options: FoldStorageOptions = {},
  ) {}

  async readLedger(firstEventId: string): Promise<{ lastEventId: string } | undefined> {
    const { Item: row } = await this.documents.send(
      new GetCommand({
        TableName: this.tables.occurrences,
        Key: occurrenceKeys.foldLedger(firstEventId),
        ConsistentRead: true,
      }),
    );
    return row ? { lastEventId: String(row.last_event_id) } : undefined;
  }

  async readItems(itemIds: readonly number[]): Promise<Map<number, FoldItem>> {
    // A batch of new errors asks for up to 1,000 items: 10 BatchGetItem calls of 100, sent a few at
    // once rather than one after another (the fold is billed for the time it waits).
    const rows = await batchGetAll(
      this.documents,
      this.tables.items,
      itemIds.map((itemId) => itemKeys.item(itemId)),
      { consistent: true, inFlight: READS_IN_FLIGHT },
    );
    const items = new Map<number, FoldItem>();
    for (const raw of rows) {
      const { seed_hours, people, created_by, ...item } = parseItemRow(raw);
      items.set(item.id, { item, people, createdBy: created_by });
    }
    return items;
  }

  async writePages(pages: readonly ListingPage[]): Promise<void> {
    await Promise.all(
      pages.map((page) =>
        this.documents.send(
          new PutCommand({
            TableName: this.tables.occurrences,
            Item: {
              ...('itemId' in page.of
                ? occurrenceKeys.itemPage(page.of.itemId, page.newestReceivedAt, page.stepTag)
                : occurrenceKeys.personPage(
                    page.projectId,
                    page.of.personId,
                    page.newestReceivedAt,
                    page.stepTag,
                  )),
              entity: 'page',
              project_id: page.projectId,
              uuids: packUuids(page.uuids),
              expires_at: expiresAt(page.newestReceivedAt, OCCURRENCE_RETENTION_DAYS),
            },
          }),
        ),
      ),
    );
  }

  async readPeopleMarkers(itemId: number, personIds: readonly string[]): Promise<Map<string, string>> {
    const markers = await batchGetAll(
      this.documents,
      this.tables.occurrences,
      personIds.map((personId) => occurrenceKeys.itemPerson(itemId, personId)),
      { consistent: true, projection: 'person_id, created_by' },
    );
    return new Map(markers.map((marker) => [String(marker.person_id), String(marker.created_by)]));
  }

  async markPeople(itemId: number, people: ReadonlyMap<string, string>): Promise<number> {
    const outcomes = await Promise.all(
      [...people].map(async ([personId, eventId]) => {
        try {
          await this.documents.send(
            new PutCommand({
              TableName: this.tables.occurrences,
              Item: {
                ...occurrenceKeys.itemPerson(itemId, personId),
                entity: 'person',
                item_id: itemId,
                person_id: personId,
                created_by: eventId,
              },
              ConditionExpression: 'attribute_not_exists(PK) OR created_by = :eventId',
              ExpressionAttributeValues: { ':eventId': eventId },
            }),
          );
          return true;
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) return false;
          throw error;
        }
      }),
    );
    return outcomes.filter(Boolean).length;
  }

  async takeItemNumbers(projectId: number, count: number): Promise<number> {
    const last = await this.projects.takeNumber(projectId, 'item_counter', count);
    return last - count + 1;
  }

  async createItems(items: readonly NewItem[]): Promise<'created' | Overtaken> {
    const outcomes = await Promise.allSettled(
      items.map((newItem) =>
        this.documents.send(
          new PutCommand({
            TableName: this.tables.items,
            Item: newItemRow(newItem),
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        ),
      ),
    );
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    if (!failure) return 'created';
    if (failure.reason instanceof ConditionalCheckFailedException) return 'overtaken';
    throw failure.reason;
  }

  /** A MODIFY on the stream, which the fold's filter leaves out. */
  async moveOccurrence(projectId: number, uuid: string, itemId: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tables.occurrences,
          Key: occurrenceKeys.occurrence(projectId, uuid),
          UpdateExpression: 'SET item_id = :itemId',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':itemId': itemId },
        }),
      );
    } catch (error) {
      // Gone already (past its retention): no instance left to name its item.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async commitStep(step: StepCommit): Promise<'committed' | Overtaken> {
    const transaction: TransactItem[] = [
      this.ledgerPut(step.ledger),
      ...step.updates.flatMap((update) => [
        {
          Update: {
            TableName: this.tables.items,
            Key: itemKeys.item(update.change.itemId),
            ...itemChangeUpdate(update.change, update.newPeople, update.peopleInItemRow),
          },
        },
        ...update.counts.map((count) => this.countUpdate(count)),
      ]),
      ...step.environmentCounts.map((count) => this.countUpdate(count)),
    ];
    this.options.onTransaction?.(transaction);
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: transaction }));
      return 'committed';
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const refusals = (error.CancellationReasons ?? [])
        .map((reason) => reason.Code ?? 'None')
        .filter((code) => !RETRYABLE_CANCELLATIONS.has(code));
      if (refusals.length > 0) {
        throw new FoldError(`transaction refused: ${refusals.join(', ')}`, { cause: error });
      }
      return 'overtaken';
    }
  }

  private ledgerPut(ledger: StepCommit['ledger']): TransactItem {
    return {
      Put: {
        TableName: this.tables.occurrences,
        Item: {
          ...occurrenceKeys.foldLedger(ledger.firstEventId),
          entity: 'fold',
          last_event_id: ledger.lastEventId,
          last_sequence_number: ledger.lastSequenceNumber,
          records: ledger.records,
          expires_at: expiresAt(ledger.at, FOLD_LEDGER_RETENTION_DAYS),
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    };
  }

  private countUpdate(count: CountAdd): TransactItem {
    const key: Key =
      'itemId' in count.subject
        ? occurrenceKeys.itemCount(count.subject.itemId, count.granularity, count.bucket)
        : occurrenceKeys.environmentCount(
            count.subject.projectId,
            count.subject.environment,
            count.granularity,
            count.bucket,
          );
    const expires =
      count.granularity === 'hour'
        ? expiresAt(count.firstReceivedAt, HOURLY_COUNT_RETENTION_DAYS)
        : undefined;
    return {
      Update: { TableName: this.tables.occurrences, Key: key, ...countAddUpdate(count.count, expires) },
    };
  }
}

/** A new item's row: the item, its number and the fold's bookkeeping (no index key: the table has none). */
function newItemRow({ change, counter, seedHours, createdBy, people }: NewItem): Record<string, unknown> {
  return {
    ...itemKeys.item(change.itemId),
    ...change.set,
    ...change.add,
    counter,
    seed_hours: seedHours,
    created_by: createdBy,
    people: people.length > 0 ? new Set(people) : undefined,
  };
}
