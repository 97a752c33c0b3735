// The daily summaries' schedule: every quarter hour, for each enabled daily summary rule whose time
// has come, builds the summary of the last complete UTC day from the fan-out's tallies and queues it
// (once per rule and day: a mark is written after it is queued, and the delivery key is the same
// however often it is queued, so the sender posts it once).
import { logger } from '#shared/observability';
import type { DeliveryQueue } from '#shared/queue/notification-queue';
import type { SummaryRecord } from '#shared/store/daily-summaries';
import type { ItemRepository } from '#shared/store/items';
import type { RuleRepository } from '#shared/store/notification-rules';
import { deliveryKey } from '../model';
import {
  buildSummary,
  type DayTallies,
  dueDay,
  isEmptySummary,
  summaryEventOf,
  summarySettingsOf,
} from './summary';

export class DailySummaryError extends Error {
  override readonly name = 'DailySummaryError';
}

export interface DailySummaryDependencies {
  rules: Pick<RuleRepository, 'listSummaryRules' | 'get'>;
  records: SummaryRecord;
  items: Pick<ItemRepository, 'getMany'>;
  queue: DeliveryQueue;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

export interface DailySummaryReport {
  rules: number;
  due: number;
  queued: number;
  /** Due, but the day had nothing to tell and the rule sends only with data. */
  empty: number;
  failed: number;
}

export function createDailySummaries(deps: DailySummaryDependencies) {
  const now = deps.now ?? Date.now;

  return async function queueDueSummaries(): Promise<DailySummaryReport> {
    const at = now();
    const report: DailySummaryReport = { rules: 0, due: 0, queued: 0, empty: 0, failed: 0 };
    // Rules of one project summarize the same day: its tallies are read once per run.
    const days = new Map<string, Promise<DayTallies>>();
    let firstError: unknown;
    for (const entry of await deps.rules.listSummaryRules()) {
      report.rules += 1;
      try {
        const rule = await deps.rules.get(entry.project_id, entry.rule_id);
        if (rule?.status !== 'enabled' || rule.trigger !== 'daily_summary') continue;
        const settings = summarySettingsOf(rule);
        const day = dueDay(settings, at);
        if (!day || (await deps.records.wasQueued(rule.id, day))) continue;
        report.due += 1;
        const dayKey = `${rule.project_id}:${day}`;
        const tallies = days.get(dayKey) ?? deps.records.readDay(rule.project_id, day);
        days.set(dayKey, tallies);
        const read = await tallies;
        const items = await deps.items.getMany([
          ...read.newItems,
          ...read.reactivatedItems,
          ...read.counts.keys(),
        ]);
        const summary = buildSummary(day, read, items, settings);
        if (isEmptySummary(summary) && settings.sendOnlyIfData) {
          report.empty += 1;
        } else {
          const event = summaryEventOf(rule, summary, at);
          await deps.queue.send([
            {
              key: deliveryKey(event.id, rule.id),
              project_id: rule.project_id,
              rule_id: rule.id,
              channel: rule.channel,
              event,
              attempt: 1,
              queued_at: at,
            },
          ]);
          report.queued += 1;
        }
        // After queueing: a run that dies in between queues it again, under the same key.
        await deps.records.markQueued(rule.id, day);
      } catch (error) {
        report.failed += 1;
        firstError ??= error;
        logger.error('daily summary not queued; the next run retries it', {
          rule_id: entry.rule_id,
          project_id: entry.project_id,
          error: error as Error,
        });
      }
    }
    logger.info('daily summaries', { ...report });
    // One rule failing does not stop the others; the invocation still fails, so it is retried and alarms.
    if (firstError)
      throw new DailySummaryError(`${report.failed} daily summaries not queued`, { cause: firstError });
    return report;
  };
}
