// The fan-out's service: turns a batch of the items table's stream into notification events,
// evaluates each project's enabled rules on them (filters, noise control, rates), tallies the daily
// summaries, and queues one delivery per event and rule. Answers where Lambda must resume.
//
// Occurrence-based triggers (`occurrence`, `occurrence_rate`) read this same stream: a change of an
// item's `total_occurrences` tells how many occurrences a fold step counted. The occurrences table's
// stream already has the fold as its reader, and AWS advises at most two readers per shard; the
// items stream's second will be the search indexer.
//
// An item's records are handled one after the other in stream order, and each record's deliveries
// are queued before the item's next record is looked at; different items go in parallel. So a record
// Lambda delivers again is either the last one decided for its item, whose state rows carry its own
// key or total (a repeat answers as the first time), or one whose deliveries were queued already.
//
// What is safe to repeat (a redelivered batch, a retried record):
//
// | Write                                   | Repeated                                                        |
// | --------------------------------------- | --------------------------------------------------------------- |
// | delivery message (SendMessageBatch)     | the same key: the sender claims each key once, so one post      |
// | action interval (rule, item)            | `last_key` is this delivery's: taken again, the same answer     |
// | hourly cap (rule, item, hour)           | `last_key` is this delivery's: counted once, the same answer    |
// | rate window counter (item, period, win) | guarded by the item's total: not added twice; the row keeps the |
// |                                         | counts before and after this change, so it fires the same way   |
// | summary tallies NEW / REACTIVATED       | a put of the same row                                           |
// | summary tally COUNT                     | guarded by the item's total, like the rate counter              |
//
// An earlier record of an item decided again after a later one (Lambda's bisected retries) may now be
// held back where it was sent: it was queued the first time. A redelivery can count a message
// twice towards an hourly cap (the cap then holds one back early); it never loses or doubles a post.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { ItemImage } from '#shared/items/events';
import { logger } from '#shared/observability';
import type { DeliveryQueue } from '#shared/queue/notification-queue';
import { toDeploy } from '#shared/store/deploys';
import { toItemRecord } from '#shared/store/items';
import { isUnreadablePayload, type OccurrenceRepository } from '#shared/store/occurrences';
import { channelConfigs } from '../channel-configs';
import { dayOf, type SummaryTally } from '../daily-summary/summary';
import {
  type DeliveryMessage,
  deliveryKey,
  type NotificationEvent,
  type NotifiedDeploy,
  type NotifiedItem,
  type NotifiedOccurrence,
  type Rule,
} from '../model';
import { deployEventOf, eventsOfItemChange, type ItemChange, notifiedItemOf } from './events';
import { FilterMatcher } from './filters';
import { type NoiseStore, noiseVerdict } from './noise';
import { type RateStore, rateEventsOf } from './rate';
import type { EnabledRules } from './rule-cache';

export class FanOutError extends Error {
  override readonly name = 'FanOutError';
}

/** Items whose records are handled at once. */
const CONCURRENT_ITEMS = 8;

export interface LastOccurrences {
  /** The occurrence, undefined when it is gone; throws when it cannot be read. */
  get(projectId: number, uuid: string): Promise<NotifiedOccurrence | undefined>;
}

/** The occurrence repository as the fan-out reads it: the uuid, time and Rollbar data only. */
export function lastOccurrencesOf(repository: Pick<OccurrenceRepository, 'get'>): LastOccurrences {
  return {
    async get(projectId, uuid) {
      const found = await repository.get(projectId, uuid);
      return found && { uuid: found.uuid, timestamp: found.timestamp, data: found.data };
    },
  };
}

export interface FanOutDependencies {
  rules: EnabledRules;
  occurrences: LastOccurrences;
  noise: NoiseStore;
  rates: RateStore;
  summaries: SummaryTally;
  queue: DeliveryQueue;
  filters?: FilterMatcher;
  /** Milliseconds; when a record carries no creation time, and a message's `queued_at`. */
  now?: () => number;
}

/** One stream record, read: an item's change, a deploy recorded, or nothing to tell. */
type TableChange =
  | { kind: 'item'; change: ItemChange }
  | { kind: 'deploy'; deploy: NotifiedDeploy; changedAt: number }
  | { kind: 'none' };

/**
 * A PagerDuty rule that pages on an item also resolves its incident when the item is resolved, as
 * the issue asks ("resolve when the item is resolved"), without a second rule. A resolve for an
 * incident it never opened is a no-op at PagerDuty.
 */
function resolvesWhatItPaged(rule: Rule, event: NotificationEvent): boolean {
  return (
    rule.channel === 'pagerduty' && event.trigger === 'resolved_item' && rule.trigger !== 'resolved_item'
  );
}

export function tableChangeOf(record: DynamoDBRecord, nowMs: number): TableChange {
  const stream = record.dynamodb;
  const created = stream?.ApproximateCreationDateTime;
  const changedAt = typeof created === 'number' ? created * 1000 : nowMs;
  const after = stream?.NewImage ? imageOf(stream.NewImage) : undefined;
  if (!after || !record.eventID) return { kind: 'none' };
  if (after.entity === 'deploy') {
    return record.eventName === 'INSERT'
      ? { kind: 'deploy', deploy: toDeploy(after), changedAt }
      : { kind: 'none' };
  }
  if (after.entity !== 'item') return { kind: 'none' };
  const before = stream?.OldImage ? imageOf(stream.OldImage) : undefined;
  return {
    kind: 'item',
    change: {
      eventId: record.eventID,
      changedAt,
      before: before as ItemImage | undefined,
      after: after as ItemImage,
      item: toItemRecord(after),
    },
  };
}

function imageOf(image: NonNullable<DynamoDBRecord['dynamodb']>['NewImage']): Record<string, unknown> {
  return unmarshall(image as Record<string, AttributeValue>);
}

export interface FanOutReport {
  records: number;
  events: number;
  queued: number;
  held: number;
  refused: number;
  failed: number;
}

export function createFanOut(deps: FanOutDependencies) {
  const now = deps.now ?? Date.now;
  const filters =
    deps.filters ??
    new FilterMatcher({
      onInvalidPattern: (pattern, error) =>
        logger.warn('a rule’s regex does not compile; it matches nothing', {
          pattern: pattern.slice(0, 200),
          error: error instanceof Error ? error.message : String(error),
        }),
    });

  /** Per batch: the last occurrence of each item, read once. */
  class Batch {
    readonly report: FanOutReport = { records: 0, events: 0, queued: 0, held: 0, refused: 0, failed: 0 };
    private readonly occurrences = new Map<number, Promise<NotifiedOccurrence | null>>();

    lastOccurrence(item: NotifiedItem): Promise<NotifiedOccurrence | null> {
      let found = this.occurrences.get(item.id);
      if (!found) {
        found = readLast(item);
        this.occurrences.set(item.id, found);
        // A failed read is not kept: the record fails, and its retry reads again.
        found.catch(() => this.occurrences.delete(item.id));
      }
      return found;
    }
  }

  async function readLast(item: NotifiedItem): Promise<NotifiedOccurrence | null> {
    if (!item.last_occurrence_id) return null;
    try {
      return (await deps.occurrences.get(item.project_id, item.last_occurrence_id)) ?? null;
    } catch (error) {
      if (!isUnreadablePayload(error)) throw error;
      // The row itself is broken: filters see no occurrence rather than stalling the stream on it.
      logger.warn('last occurrence unreadable; filters see none', {
        uuid: item.last_occurrence_id,
        item_id: item.id,
        error,
      });
      return null;
    }
  }

  /** The (rule, event) pairs a change may deliver, before filters and noise control. */
  async function candidatesOf(
    change: Exclude<TableChange, { kind: 'none' }>,
    rules: Rule[],
    batch: Batch,
  ): Promise<Array<{ rule: Rule; event: NotificationEvent }>> {
    const takes = (rule: Rule, event: NotificationEvent) =>
      (rule.trigger === event.trigger || resolvesWhatItPaged(rule, event)) &&
      (channelConfigs[rule.channel]?.triggers as readonly string[] | undefined)?.includes(event.trigger) ===
        true;
    const pairs = (events: NotificationEvent[]) =>
      events.flatMap((event) => rules.filter((rule) => takes(rule, event)).map((rule) => ({ rule, event })));

    if (change.kind === 'deploy') {
      const events = [deployEventOf(change.deploy, change.changedAt)];
      batch.report.events += 1;
      return pairs(events);
    }
    const { events, growth, muted } = eventsOfItemChange(change.change);
    if (muted) return [];
    batch.report.events += events.length;
    const item = notifiedItemOf(change.change.item);
    const { changedAt } = change.change;
    if (growth > 0 || events.length > 0) await tally(rules, item, events, growth, changedAt);
    const found = pairs(events);
    if (growth > 0) {
      const rateRules = rules.filter((rule) => rule.trigger === 'occurrence_rate');
      if (rateRules.length > 0) {
        const fired = await rateEventsOf(deps.rates, rateRules, { item, growth, changedAt });
        batch.report.events += fired.length;
        found.push(...fired.filter(({ rule, event }) => takes(rule, event)));
      }
    }
    return found;
  }

  /** The daily summary's tallies, for projects with a summary rule. */
  async function tally(
    rules: Rule[],
    item: NotifiedItem,
    events: NotificationEvent[],
    growth: number,
    changedAt: number,
  ): Promise<void> {
    if (!rules.some((rule) => rule.trigger === 'daily_summary')) return;
    const base = { projectId: item.project_id, day: dayOf(changedAt), itemId: item.id };
    for (const event of events) {
      if (event.trigger === 'new_item') await deps.summaries.markItem({ ...base, kind: 'NEW' });
      if (event.trigger === 'reactivated_item')
        await deps.summaries.markItem({ ...base, kind: 'REACTIVATED' });
    }
    if (growth > 0) await deps.summaries.countItem({ ...base, total: item.total_occurrences, growth });
  }

  async function handleRecord(record: DynamoDBRecord, batch: Batch): Promise<void> {
    const change = tableChangeOf(record, now());
    if (change.kind === 'none') return;
    const projectId = change.kind === 'deploy' ? change.deploy.project_id : change.change.item.project_id;
    const rules = await deps.rules.enabledRules(projectId);
    if (rules.length === 0) return;
    const messages: DeliveryMessage[] = [];
    for (const { rule, event } of await candidatesOf(change, rules, batch)) {
      const subject = { item: event.item, deploy: event.deploy };
      let verdict = filters.evaluate(rule.filters, subject);
      if (verdict === 'no_match') continue;
      // Webhooks carry the occurrence in Rollbar's payload; a filter on the payload needs it too.
      const wantsOccurrence =
        event.item !== undefined && (verdict === 'needs_occurrence' || rule.channel === 'webhook');
      const occurrence = wantsOccurrence && event.item ? await batch.lastOccurrence(event.item) : null;
      if (verdict === 'needs_occurrence') {
        verdict = filters.evaluate(rule.filters, { ...subject, occurrence: occurrence?.data ?? null });
        if (verdict !== 'match') continue;
      }
      const key = deliveryKey(event.id, rule.id);
      const noise = await noiseVerdict(deps.noise, rule, event, key);
      if (!noise.send) {
        batch.report.held += 1;
        logger.debug('delivery held back', { key, reason: noise.reason });
        continue;
      }
      messages.push({
        key,
        project_id: projectId,
        rule_id: rule.id,
        channel: rule.channel,
        event: rule.channel === 'webhook' && occurrence ? { ...event, occurrence } : event,
        attempt: 1,
        queued_at: now(),
      });
    }
    if (messages.length === 0) return;
    const refused = await deps.queue.send(messages);
    batch.report.queued += messages.length - refused.length;
    batch.report.refused += refused.length;
    for (const { message, reason } of refused) {
      // SQS will never take it; retrying the record would block the stream behind it.
      logger.error('delivery refused by the queue; not sent', { key: message.key, reason });
    }
  }

  return async function processStreamBatch(
    records: readonly DynamoDBRecord[],
  ): Promise<DynamoDBBatchResponse> {
    const batch = new Batch();
    batch.report.records = records.length;
    // Records of one item (one key) in stream order; items in parallel.
    const groups = new Map<string, number[]>();
    records.forEach((record, index) => {
      const key = record.dynamodb?.Keys?.PK?.S ?? `record:${index}`;
      const group = groups.get(key) ?? [];
      group.push(index);
      groups.set(key, group);
    });
    let firstFailure: number | undefined;
    const queue = [...groups.values()];
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const index of group) {
          // Lambda resumes at the first failure: what follows it comes again.
          if (firstFailure !== undefined && index > firstFailure) break;
          const record = records[index]!;
          try {
            await handleRecord(record, batch);
          } catch (error) {
            batch.report.failed += 1;
            logger.error('stream record not fanned out; Lambda delivers it again', {
              eventId: record.eventID,
              error: error as Error,
            });
            firstFailure = firstFailure === undefined ? index : Math.min(firstFailure, index);
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENT_ITEMS, queue.length) }, worker));
    logger.info('stream batch fanned out', { ...batch.report });
    if (firstFailure === undefined) return { batchItemFailures: [] };
    // Lambda's DynamoDB Streams mapping names a record by its sequence number.
    const sequenceNumber = records[firstFailure]?.dynamodb?.SequenceNumber;
    // Without one, only failing the invocation makes Lambda deliver the record again.
    if (!sequenceNumber) throw new FanOutError('a failed stream record carries no sequence number');
    return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
  };
}
