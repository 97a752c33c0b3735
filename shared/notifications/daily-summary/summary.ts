// The daily summary: what the fan-out tallies of each project's UTC day, when a rule's summary is
// due, and the summary built from a day's tallies. Plain logic, no AWS; the tallies' rows are the
// store's (shared/store/daily-summaries.ts).
import { isLevel, type Level, levelRank } from '#shared/domain/levels';
import type { ItemRecord } from '#shared/items/item';
import { notifiedItemOf } from '../fan-out/events';
import type { DailySummary, NotificationEvent, Rule } from '../model';

/** The schedule runs every quarter hour; a rule's `summary_time` is rounded down to one. */
export const SLOT_SECONDS = 15 * 60;
/**
 * A summary not queued at its slot (a late or skipped run of the schedule) is still queued within
 * this long after it; later, the day is left unsent rather than told hours late.
 */
export const CATCH_UP_SECONDS = 60 * 60;
/** The most frequent items a summary lists. */
export const TOP_ITEMS = 10;
/** New and reactivated items a summary lists at most, the most frequent that day first. */
export const LISTED_ITEMS = 50;

export interface SummaryTally {
  /** Notes that an item was new, or reactivated, on a project's day; repeating it changes nothing. */
  markItem(input: {
    projectId: number;
    day: string;
    itemId: number;
    kind: 'NEW' | 'REACTIVATED';
  }): Promise<void>;
  /**
   * Adds a change's occurrences to an item's count of the day, unless a change with a total of
   * `total` or more was added already (a repeat of this change, or a later one).
   */
  countItem(input: {
    projectId: number;
    day: string;
    itemId: number;
    total: number;
    growth: number;
  }): Promise<void>;
}

export interface DayTallies {
  newItems: number[];
  reactivatedItems: number[];
  /** Occurrences of the day per item id. */
  counts: Map<number, number>;
}

/** The UTC day an instant (ms) falls in, `2026-11-30`. */
export function dayOf(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 10);
}

export interface SummarySettings {
  summaryTime: number;
  sendOnlyIfData: boolean;
  environments: string[] | undefined;
  minItemLevel: Level | undefined;
}

/** A daily summary rule's settings from its config, with Rollbar's defaults (midnight UTC, only with data). */
export function summarySettingsOf(rule: Rule): SummarySettings {
  const config = rule.config;
  const time = Number(config.summary_time);
  const environments = Array.isArray(config.environments)
    ? config.environments.filter((value): value is string => typeof value === 'string')
    : undefined;
  return {
    summaryTime: Number.isInteger(time) && time >= 0 && time < 86_400 ? time : 0,
    sendOnlyIfData: config.send_only_if_data !== false,
    environments: environments && environments.length > 0 ? environments : undefined,
    minItemLevel: isLevel(config.min_item_level) ? config.min_item_level : undefined,
  };
}

/**
 * The day a rule's summary is due for at `nowMs`, or undefined. Its slot is the quarter hour its
 * `summary_time` falls in; it is due from the slot's start for CATCH_UP_SECONDS, and tells the last
 * complete UTC day before the slot's day.
 */
export function dueDay(settings: SummarySettings, nowMs: number): string | undefined {
  const now = Math.floor(nowMs / 1000);
  const today = now - (now % 86_400);
  const offset = settings.summaryTime - (settings.summaryTime % SLOT_SECONDS);
  // Today's slot, or yesterday's when its catch-up runs past midnight.
  for (const dayStart of [today, today - 86_400]) {
    const slot = dayStart + offset;
    if (slot <= now && now < slot + CATCH_UP_SECONDS) return dayOf((dayStart - 86_400) * 1000);
  }
  return undefined;
}

/**
 * The summary of a day for a rule: its new and reactivated items and its most frequent ones, kept
 * to the rule's `environments` and `min_item_level`. Items no longer found are left out.
 */
export function buildSummary(
  day: string,
  tallies: DayTallies,
  items: ReadonlyMap<number, ItemRecord>,
  settings: SummarySettings,
): DailySummary {
  const kept = (id: number) => {
    const item = items.get(id);
    if (!item) return undefined;
    if (settings.environments && !settings.environments.includes(item.environment)) return undefined;
    if (settings.minItemLevel && levelRank(item.level) < levelRank(settings.minItemLevel)) return undefined;
    return item;
  };
  const occurrences = (id: number) => tallies.counts.get(id) ?? 0;
  const byFrequency = (ids: Iterable<number>) =>
    [...new Set(ids)].filter((id) => kept(id)).sort((a, b) => occurrences(b) - occurrences(a) || a - b);
  const listed = (ids: number[]) =>
    byFrequency(ids)
      .slice(0, LISTED_ITEMS)
      .map((id) => notifiedItemOf(kept(id)!));
  return {
    day,
    new_items: listed(tallies.newItems),
    reactivated_items: listed(tallies.reactivatedItems),
    top_items: byFrequency(tallies.counts.keys())
      .filter((id) => occurrences(id) > 0)
      .slice(0, TOP_ITEMS)
      .map((id) => ({ item: notifiedItemOf(kept(id)!), occurrences: occurrences(id) })),
  };
}

export function isEmptySummary(summary: DailySummary): boolean {
  return (
    summary.new_items.length === 0 && summary.reactivated_items.length === 0 && summary.top_items.length === 0
  );
}

/** One summary per rule and day: a second run of the schedule makes the same id, and the same delivery key. */
export function summaryEventOf(rule: Rule, summary: DailySummary, nowMs: number): NotificationEvent {
  return {
    id: `summary:${rule.id}:${summary.day}`,
    trigger: 'daily_summary',
    project_id: rule.project_id,
    occurred_at: nowMs,
    summary,
  };
}
