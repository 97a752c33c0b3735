// The made-up event `faultline rules test` sends through a rule: realistic enough that each channel
// renders it as it would a real one, marked `sample` so channels label it, and tied to no real item.
import type { NotificationEvent, NotifiedDeploy, NotifiedItem, NotifiedOccurrence, Rule } from './model';

/**
 * Item id and counter 0 belong to no real item (counters start at 1): a tracker that files the
 * sample records its issue against item 0, never against a real item a later reactivation would
 * comment on.
 */
export const SAMPLE_ITEM_ID = 0;

export function sampleEvent(rule: Rule, input: { id: string; nowMs: number }): NotificationEvent {
  const nowSeconds = Math.floor(input.nowMs / 1000);
  const base = {
    id: input.id,
    trigger: rule.trigger,
    sample: true,
    project_id: rule.project_id,
    occurred_at: input.nowMs,
  };
  const item = sampleItem(rule.project_id, nowSeconds);
  const occurrence = sampleOccurrence(nowSeconds);
  switch (rule.trigger) {
    case 'deploy':
      return { ...base, deploy: sampleDeploy(rule.project_id, nowSeconds) };
    case 'daily_summary': {
      const yesterday = new Date(input.nowMs - 86_400_000).toISOString().slice(0, 10);
      return {
        ...base,
        summary: {
          day: yesterday,
          new_items: [item],
          reactivated_items: [],
          top_items: [{ item, occurrences: 42 }],
        },
      };
    }
    case 'exp_repeat_item':
      return { ...base, item: { ...item, total_occurrences: 100 }, occurrence, occurrences: 100 };
    case 'occurrence':
      return { ...base, item, occurrence, occurrences: 1 };
    case 'occurrence_rate': {
      const rate = rule.filters.find((filter) => filter.type === 'rate');
      const period = rate?.period ?? 300;
      const count = rate?.count ?? 10;
      return {
        ...base,
        item: { ...item, total_occurrences: Math.max(item.total_occurrences, count) },
        occurrence,
        occurrences: count,
        rate: { period, count, window_start: nowSeconds - (nowSeconds % period) },
      };
    }
    case 'resolved_item':
      return { ...base, item: { ...item, status: 'resolved', resolved_in_version: 'b7c3d1e' }, occurrence };
    case 'reactivated_item':
    case 'reopened_item':
    case 'new_item':
      return { ...base, item, occurrence };
  }
}

function sampleItem(projectId: number, nowSeconds: number): NotifiedItem {
  return {
    id: SAMPLE_ITEM_ID,
    project_id: projectId,
    counter: SAMPLE_ITEM_ID,
    title:
      "TypeError: Cannot read properties of undefined (reading 'total') (sample from faultline rules test)",
    level: 'error',
    environment: 'production',
    platform: 'node',
    framework: 'express',
    language: 'javascript',
    status: 'active',
    total_occurrences: 1,
    unique_people: 1,
    first_occurrence_timestamp: nowSeconds - 60,
    last_occurrence_timestamp: nowSeconds,
    last_occurrence_id: '00000000-0000-4000-8000-000000000000',
    last_code_version: 'b7c3d1e',
    resolved_in_version: null,
    hash: 'sample',
  };
}

function sampleOccurrence(nowSeconds: number): NotifiedOccurrence {
  return {
    uuid: '00000000-0000-4000-8000-000000000000',
    timestamp: nowSeconds,
    data: {
      environment: 'production',
      level: 'error',
      platform: 'node',
      language: 'javascript',
      framework: 'express',
      timestamp: nowSeconds,
      code_version: 'b7c3d1e',
      context: 'checkout#total',
      request: { method: 'POST', url: 'https://shop.example.com/checkout' },
      body: {
        trace: {
          frames: [
            // Rollbar's order: the outermost call first, the frame that raised last.
            { filename: '/app/src/routes.js', lineno: 17, method: 'handleCheckout' },
            { filename: '/app/src/checkout.js', lineno: 42, method: 'orderTotal' },
          ],
          exception: { class: 'TypeError', message: "Cannot read properties of undefined (reading 'total')" },
        },
      },
      notifier: { name: 'faultline rules test' },
    },
  };
}

function sampleDeploy(projectId: number, nowSeconds: number): NotifiedDeploy {
  return {
    id: 0,
    project_id: projectId,
    environment: 'production',
    revision: 'b7c3d1e',
    comment: 'Sample deploy from faultline rules test',
    local_username: 'faultline',
    rollbar_username: null,
    status: 'succeeded',
    start_time: nowSeconds - 60,
    finish_time: nowSeconds,
  };
}
