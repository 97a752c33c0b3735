// `npm run bench`: the figures docs/benchmarks.md explains, printed as `name: value` lines, never asserted.
import { availableParallelism } from 'node:os';
import {
  type CostResult,
  costPerMillion,
  idleCostPerMonth,
  measureHandlers,
  oneRegionTemplate,
  operationsViewCost,
} from './cost';
import { type DashboardResult, measureDashboard } from './dashboard';
import { type FingerprintingResult, measureFingerprinting } from './fingerprinting';
import { measureGroupingWrites, type WriteScenarioResult } from './grouping-writes';
import { type GrowthResult, measureLinearTime } from './linear-time';
import { measureNotifications, NOTIFIED_ERRORS, type NotificationResult, percentile } from './notifications';
import { FREE_TIER, PRICES, PRICES_AS_OF, PRICES_REGION } from './prices';
import {
  BUSY_CALLS_PER_WINDOW,
  LIGHT_CALLS_PER_CONTAINER,
  measureRateLimits,
  RATE_LIMIT_CONTAINERS,
  type RateLimitResult,
} from './rate-limits';
import {
  measureSearchFreshness,
  SEARCH_POLL_MS,
  SEARCHED_ERRORS,
  type SearchFreshnessResult,
} from './search-freshness';
import { measureSearchQueries, SEARCH_QUERIES, type SearchQueryResult } from './search-query';
import { WRITE_CATEGORIES } from './write-units';

/** The goals from the issue, shown beside the figures. */
const GOALS = {
  wruPerOccurrenceHot: 1.5,
  /** With the search index's writes (issue "Search"): a new error's item is indexed too. */
  wruPerOccurrenceDistinct: 6,
  /** Storing and counting alone, the goal before search. */
  wruPerOccurrenceDistinctWithoutSearch: 4,
  fingerprintToSha1Ratio: 1 / 3,
  /** Per doubling of hostile input: linear is 2, quadratic 4; above 3 is not linear. */
  normalizerGrowthPerDoubling: 3,
  /** A whole 500 KB post of hostile text, per normalizer, in milliseconds. */
  normalizerWholePostMs: 50,
  /** A new error, posted to the local stack, to its webhook received. */
  ingestToNotifiedMsP50: 3000,
  /** The whole dashboard as a browser downloads it, gzipped. */
  dashboardBundleGzipKb: 150,
  /** The items page, signed in, from navigation to its list drawn, on the local stack. */
  dashboardFirstPageMsP50: 1000,
  /** A search of a 20,000-item project through the search service, on DynamoDB Local. */
  searchQueryMsP50: 300,
  /** A new error, posted to the local stack, to a search finding it (Rollbar's published figure). */
  ingestToSearchableMsP50: 2000,
  /** Enforcing a token's rate limit across containers (issue "Operating Faultline"). */
  wruPerAcceptedRequestRateLimit: 0.1,
};

/** The search table's write units of a scenario. */
const searchUnits = (result: WriteScenarioResult) =>
  result.totals.units['search entries'] + result.totals.units['search versions'];

function printDashboard(result: DashboardResult): { bundleKb: number; firstPageP50: number } {
  console.log('\n## Dashboard (esbuild bundle; headless Chromium against the local stack)');
  const bundleKb = result.bundleGzipBytes / 1024;
  figure('dashboard_bundle_gzip_kb', `${fixed(bundleKb, 1)} (goal <= ${GOALS.dashboardBundleGzipKb})`);
  for (const file of result.files) figure(`dashboard_file_gzip_bytes.${file.path}`, file.gzipBytes);
  const firstPageP50 = percentile(result.firstPageMs, 50);
  figure(
    'dashboard_first_page_interactive_ms_p50',
    `${Math.round(firstPageP50)} (goal <= ${GOALS.dashboardFirstPageMsP50})`,
  );
  figure('dashboard_first_page_interactive_ms_max', Math.round(Math.max(...result.firstPageMs)));
  figure('dashboard_first_page_runs', result.firstPageMs.length);
  return { bundleKb, firstPageP50 };
}

const fixed = (value: number, digits = 2) => value.toFixed(digits);
const figure = (name: string, value: string | number) => console.log(`${name}: ${value}`);
const slug = (text: string) => text.replaceAll(' ', '_');

function printWrites(
  batchSize: number,
  foldBatchSize: number,
  results: WriteScenarioResult[],
): Map<string, number> {
  console.log(
    `\n## DynamoDB write units per occurrence (AWS billing rules; SQS batches of ${batchSize}, stream batches of ${foldBatchSize} unless named)`,
  );
  const perOccurrence = new Map<string, number>();
  for (const result of results) {
    const total = Object.values(result.totals.units).reduce((sum, units) => sum + units, 0);
    perOccurrence.set(result.scenario.name, total / result.occurrences);
  }
  for (const result of results)
    figure(`wru_per_occurrence_${result.scenario.name}`, fixed(perOccurrence.get(result.scenario.name)!));
  for (const result of results) {
    figure(
      `wru_per_occurrence_${result.scenario.name}_without_search`,
      fixed(perOccurrence.get(result.scenario.name)! - searchUnits(result) / result.occurrences),
    );
  }
  // Every distinct occurrence is a new item: what the index costs per new item.
  const distinct = results.find((result) => result.scenario.name === 'distinct');
  if (distinct) figure('wru_per_indexed_item', fixed(searchUnits(distinct) / distinct.items));

  const header = [
    'write',
    ...results.map((result) => `${result.scenario.name} WRU/occ`),
    ...results.map((result) => `${result.scenario.name} writes, mean bytes`),
  ];
  const rows = WRITE_CATEGORIES.map((category) => [
    category,
    ...results.map((result) => fixed(result.totals.units[category] / result.occurrences)),
    ...results.map((result) => {
      const writes = result.totals.writes[category];
      return writes === 0 ? '-' : `${writes} x ${Math.round(result.totals.bytes[category] / writes)} B`;
    }),
  ]);
  rows.push([
    'total',
    ...results.map((result) => fixed(perOccurrence.get(result.scenario.name)!)),
    ...results.map(() => ''),
  ]);
  printTable([header, ...rows]);

  for (const result of results) {
    const name = result.scenario.name;
    for (const category of WRITE_CATEGORIES) {
      figure(
        `wru_per_occurrence_${name}.${slug(category)}`,
        fixed(result.totals.units[category] / result.occurrences),
      );
    }
    for (const [index, units] of Object.entries(result.totals.indexUnits)) {
      figure(`wru_per_occurrence_${name}.index.${index}`, fixed(units / result.occurrences));
    }
  }
  for (const result of results) {
    const name = result.scenario.name;
    figure(`rru_per_occurrence_${name}`, fixed(result.totals.readUnits / result.occurrences));
    for (const [read, units] of Object.entries(result.totals.readUnitsBy).sort()) {
      figure(`rru_per_occurrence_${name}.${slug(read)}`, fixed(units / result.occurrences));
    }
  }
  for (const result of results) {
    const name = result.scenario.name;
    const { reported } = result.totals;
    figure(
      `dynamodb_local_reported_wcu_per_occurrence_${name}`,
      fixed(reported.writeUnits / result.occurrences),
    );
    figure(
      `dynamodb_local_reported_index_wcu_per_occurrence_${name}`,
      fixed(reported.indexWriteUnits / result.occurrences),
    );
  }
  for (const result of results) {
    const name = result.scenario.name;
    figure(`${name}.items`, result.items);
    figure(`${name}.transactions`, result.totals.transactions);
    figure(`${name}.transaction_actions`, result.totals.transactionActions);
    figure(`${name}.single_writes`, result.totals.singleWrites);
    figure(`${name}.retries`, result.retries);
    figure(`${name}.fold_batch_size`, result.foldBatchSize);
    figure(`${name}.fold_steps`, result.foldSteps);
    figure(`${name}.indexed_stream_records`, result.indexedRecords);
    figure(`${name}.index_seconds`, fixed(result.indexSeconds));
    figure(`${name}.payload_gzip_bytes_mean`, Math.round(result.meanPayloadGzipBytes));
    figure(`${name}.occurrence_row_bytes_mean`, Math.round(result.meanPayloadStoredBytes));
    figure(`${name}.seconds`, fixed(result.seconds));
  }
  return perOccurrence;
}

function printFingerprinting(result: FingerprintingResult): number {
  const ratio = result.fingerprintsPerSecond / result.sha1PerSecond;
  console.log(
    `\n## Fingerprinting (${result.frames}-frame node trace, grouping version 1; median of ${result.runs} runs of ${result.runMs} ms)`,
  );
  figure('fingerprints_per_second', Math.round(result.fingerprintsPerSecond));
  figure('sha1_baseline_per_second', Math.round(result.sha1PerSecond));
  figure('fingerprint_to_sha1_ratio', fixed(ratio));
  figure('fingerprints_per_second_without_server_root', Math.round(result.withoutServerRootPerSecond));
  figure('fingerprints_per_second_fresh_payloads', Math.round(result.freshPayloadsPerSecond));
  return ratio;
}

function printLinearTime(results: GrowthResult[]): void {
  console.log(
    '\n## Normalizers on hostile text (ms per call at n, 2n, 4n up to each input cap; growth per doubling: 2 is linear, 4 quadratic)',
  );
  printTable([
    ['normalizer', 'lengths', 'worst input', 'ms per call', 'growth', '500 KB post, ms'],
    ...results.map((result) => [
      result.name,
      result.lengths.join(' / '),
      result.worstInput,
      result.milliseconds.map((ms) => fixed(ms, 3)).join(' / '),
      fixed(result.growth),
      fixed(result.wholePostMs),
    ]),
  ]);
  for (const result of results) {
    figure(`normalizer_growth_per_doubling.${result.name}`, fixed(result.growth));
    figure(`normalizer_whole_post_ms.${result.name}`, fixed(result.wholePostMs));
  }
}

function printNotifications(result: NotificationResult): number {
  console.log(
    `\n## Notifications (local stack, ${NOTIFIED_ERRORS} new errors one after another, a webhook rule, a local receiver)`,
  );
  const p50 = percentile(result.latenciesMs, 50);
  figure('ingest_to_notified_ms_p50', Math.round(p50));
  figure('ingest_to_notified_ms_p90', Math.round(percentile(result.latenciesMs, 90)));
  figure('notified_events', result.events);
  // Each write is a standalone put or update of a row under 1 KB: one write unit each.
  figure('notification_writes_per_notified_event', fixed(result.writesPerEvent));
  figure(
    'notification_wru_per_notified_event',
    result.largestRowBytes < 1024 ? fixed(result.writesPerEvent) : 'rows over 1 KB',
  );
  figure('notification_largest_row_bytes', result.largestRowBytes);
  figure('notification_messages_per_notified_event', fixed(result.messagesPerEvent));
  return p50;
}

function printSearchQueries(result: SearchQueryResult): number {
  console.log(
    `\n## Search (DynamoDB engine on DynamoDB Local, ${result.items} items, page 1 through the search service; queries: ${Object.values(SEARCH_QUERIES).join(' | ')}; a session's searches with new items and a status change indexed before each, and first searches in a fresh engine)`,
  );
  const p50 = percentile(result.allMs, 50);
  figure('search_query_ms_p50', Math.round(p50));
  figure('search_query_ms_p95', Math.round(percentile(result.allMs, 95)));
  figure('search_query_cold_ms_p50', Math.round(percentile(result.coldMs, 50)));
  for (const [name, { ms, coldMs, found }] of Object.entries(result.byQuery)) {
    figure(`search_query_ms_p50.${name}`, Math.round(percentile(ms, 50)));
    figure(`search_query_cold_ms_p50.${name}`, Math.round(percentile(coldMs, 50)));
    figure(`search_query_found.${name}`, found);
  }
  figure('search_query_engine_ms_median', Math.round(result.breakdown.engineMs));
  figure('search_query_recheck_ms_median', Math.round(result.breakdown.recheckMs));
  figure('search_query_partitions_read_median', result.breakdown.partitionsReadPerSearch);
  figure('search_query_cold_engine_ms_median', Math.round(result.breakdown.coldEngineMs));
  figure('search_index_read_whole_ms_median', Math.round(result.breakdown.readWholeIndexMs));
  figure('search_index_whole_kb', Math.round(result.wholeIndex.kilobytes));
  figure('search_index_read_whole_rru', result.wholeIndex.readUnits);
  figure('search_index_documents_alone_kb', Math.round(result.wholeIndex.documentsKilobytes));
  figure('search_index_documents_alone_rru', result.wholeIndex.documentsReadUnits);
  for (const [name, listing] of Object.entries(result.listing)) {
    const label = name === 'byCounter' ? 'item_by_counter' : `listing_${name}`;
    figure(`${label}_ms_median`, `${Math.round(listing.warmMs)} warm, ${Math.round(listing.coldMs)} cold`);
    figure(
      `${label}_rru_median`,
      `${fixed(listing.warmReadUnits, 1)} warm, ${fixed(listing.coldReadUnits, 1)} cold`,
    );
  }
  figure('search_seed_seconds', fixed(result.seedSeconds, 1));
  return p50;
}

function printSearchFreshness(result: SearchFreshnessResult): number {
  console.log(
    `\n## Search freshness (local stack, ${SEARCHED_ERRORS} new errors one after another, searched every ${SEARCH_POLL_MS} ms by a word of the title)`,
  );
  const p50 = percentile(result.latenciesMs, 50);
  figure('ingest_to_searchable_ms_p50', Math.round(p50));
  figure('ingest_to_searchable_ms_p90', Math.round(percentile(result.latenciesMs, 90)));
  return p50;
}

function printRateLimits(result: RateLimitResult): number {
  console.log(
    `\n## Rate limits (one token over ${RATE_LIMIT_CONTAINERS} containers sharing its counter on DynamoDB Local: 3 minutes of ${BUSY_CALLS_PER_WINDOW} calls, one of ${result.overLimit.calls}; and light traffic, ${LIGHT_CALLS_PER_CONTAINER} calls a minute per container)`,
  );
  figure(
    'wru_per_accepted_request_rate_limit',
    `${fixed(result.busyWruPerAdmitted, 3)} (goal <= ${GOALS.wruPerAcceptedRequestRateLimit})`,
  );
  figure('wru_per_accepted_request_rate_limit_light', fixed(result.lightWruPerAdmitted, 3));
  figure('rate_limit_wru_per_write', result.wruPerWrite);
  figure('rate_limit_over_limit_window_admitted', result.overLimit.admitted);
  figure(
    'rate_limit_over_limit_window_bound',
    `${result.overLimit.limit} to ${result.overLimit.limit + result.overLimit.tolerance} (limit + ${RATE_LIMIT_CONTAINERS} containers x credit)`,
  );
  return result.busyWruPerAdmitted;
}

function printGoals(
  hot: number,
  distinct: number,
  distinctWithoutSearch: number,
  ratio: number,
  linear: GrowthResult[],
  notifiedP50: number,
  searchP50: number,
  searchableP50: number,
  dashboard: { bundleKb: number; firstPageP50: number },
  rateLimitWru: number,
): void {
  console.log('\n## Goals (from the issue; shown, not asserted)');
  const goal = (name: string, wanted: string, measured: string, met: boolean) => {
    figure(`goal_${name}`, `${wanted}, measured ${measured}: ${met ? 'MET' : 'NOT MET'}`);
  };
  goal(
    'wru_per_occurrence_hot',
    `<= ${fixed(GOALS.wruPerOccurrenceHot)}`,
    fixed(hot),
    hot <= GOALS.wruPerOccurrenceHot,
  );
  goal(
    'wru_per_occurrence_distinct',
    `<= ${fixed(GOALS.wruPerOccurrenceDistinct)}`,
    fixed(distinct),
    distinct <= GOALS.wruPerOccurrenceDistinct,
  );
  goal(
    'wru_per_occurrence_distinct_without_search',
    `<= ${fixed(GOALS.wruPerOccurrenceDistinctWithoutSearch)}`,
    fixed(distinctWithoutSearch),
    distinctWithoutSearch <= GOALS.wruPerOccurrenceDistinctWithoutSearch,
  );
  goal('fingerprint_to_sha1_ratio', '>= 0.33 (1/3)', fixed(ratio), ratio >= GOALS.fingerprintToSha1Ratio);
  const growth = Math.max(...linear.map((result) => result.growth));
  goal(
    'normalizer_growth_per_doubling',
    `<= ${fixed(GOALS.normalizerGrowthPerDoubling)} for every normalizer`,
    fixed(growth),
    growth <= GOALS.normalizerGrowthPerDoubling,
  );
  const wholePost = Math.max(...linear.map((result) => result.wholePostMs));
  goal(
    'normalizer_whole_post_ms',
    `<= ${GOALS.normalizerWholePostMs} for every normalizer`,
    fixed(wholePost),
    wholePost <= GOALS.normalizerWholePostMs,
  );
  goal(
    'ingest_to_notified_ms_p50',
    `<= ${GOALS.ingestToNotifiedMsP50}`,
    String(Math.round(notifiedP50)),
    notifiedP50 <= GOALS.ingestToNotifiedMsP50,
  );
  goal(
    'search_query_ms_p50',
    `<= ${GOALS.searchQueryMsP50}`,
    String(Math.round(searchP50)),
    searchP50 <= GOALS.searchQueryMsP50,
  );
  goal(
    'ingest_to_searchable_ms_p50',
    `<= ${GOALS.ingestToSearchableMsP50}`,
    String(Math.round(searchableP50)),
    searchableP50 <= GOALS.ingestToSearchableMsP50,
  );
  goal(
    'dashboard_bundle_gzip_kb',
    `<= ${GOALS.dashboardBundleGzipKb}`,
    fixed(dashboard.bundleKb, 1),
    dashboard.bundleKb <= GOALS.dashboardBundleGzipKb,
  );
  goal(
    'wru_per_accepted_request_rate_limit',
    `<= ${GOALS.wruPerAcceptedRequestRateLimit}`,
    fixed(rateLimitWru, 3),
    rateLimitWru <= GOALS.wruPerAcceptedRequestRateLimit,
  );
  goal(
    'dashboard_first_page_interactive_ms_p50',
    `<= ${GOALS.dashboardFirstPageMsP50}`,
    String(Math.round(dashboard.firstPageP50)),
    dashboard.firstPageP50 <= GOALS.dashboardFirstPageMsP50,
  );
}

/** The cost goals from the issue, in dollars. */
const COST_GOALS = { hotPerMillion: 2.5, distinctPerMillion: 3.5, idlePerMonth: 3 };

async function printCost(writes: WriteScenarioResult[]): Promise<void> {
  const byName = (name: string) => writes.find((result) => result.scenario.name === name)!;
  const source = {
    hot: byName('hot'),
    distinct: byName('distinct'),
    light: byName('hot_fold_batches_of_20'),
  };
  const results: CostResult[] = (await measureHandlers()).map((measures) =>
    costPerMillion(measures, source[measures.scenario]),
  );
  console.log(
    `\n## Cost per million occurrences (AWS list prices, ${PRICES_REGION}, as of ${PRICES_AS_OF}; light: a post a second, a message per worker call, fold batches of 20)`,
  );
  printTable([
    ['part', ...results.map((result) => `${result.scenario} $/M`), 'hot: how'],
    ...results[0]!.lines.map((line, index) => [
      line.part,
      ...results.map((result) => fixed(result.lines[index]!.usdPerMillion, 3)),
      line.detail,
    ]),
    ['total', ...results.map((result) => fixed(result.total)), ''],
  ]);
  for (const result of results) {
    figure(`usd_per_million_${result.scenario}`, fixed(result.total));
    for (const line of result.lines)
      figure(`usd_per_million_${result.scenario}.${slug(line.part)}`, fixed(line.usdPerMillion, 3));
    figure(
      `usd_per_million_${result.scenario}.xray_at_lambda_default_sampling`,
      fixed(result.xrayAtLambdaDefault, 3),
    );
    figure(
      `usd_per_million_${result.scenario}.through_api_gateway`,
      `${fixed(result.throughApiGateway)} (SDKs posting through the HTTP API, as with a custom domain)`,
    );
    const m = result.measures;
    figure(`${result.scenario}.ingest_ms_mean`, fixed(m.ingest.ms, 1));
    figure(`${result.scenario}.ingest_log_bytes_per_request`, Math.round(m.ingest.logBytes));
    figure(`${result.scenario}.worker_ms_per_occurrence`, fixed(m.worker.msPerOccurrence, 2));
    figure(`${result.scenario}.fold_ms_per_occurrence`, fixed(m.fold.msPerOccurrence, 2));
    figure(`${result.scenario}.queued_message_bytes_mean`, Math.round(m.meanMessageBytes));
  }
  const idleTotal = printIdle();
  printIdleWithDashboard();
  figure(
    'usd_per_month_custom_metrics_with_traffic',
    `${fixed(7 * PRICES.customMetricMonth.usd)} (7 metrics without a reason, channel or outcome; each reason and each channel x outcome seen adds ${fixed(PRICES.customMetricMonth.usd)})`,
  );
  console.log('\n## Cost goals (from the issue; shown, not asserted)');
  const hot = results.find((result) => result.scenario === 'hot')!.total;
  const distinct = results.find((result) => result.scenario === 'distinct')!.total;
  const goal = (name: string, wanted: number, measured: number) =>
    figure(
      `goal_${name}`,
      `<= ${fixed(wanted)}, measured ${fixed(measured)}: ${measured <= wanted ? 'MET' : 'NOT MET'}`,
    );
  goal('usd_per_million_hot', COST_GOALS.hotPerMillion, hot);
  goal('usd_per_million_distinct', COST_GOALS.distinctPerMillion, distinct);
  goal('usd_per_month_idle', COST_GOALS.idlePerMonth, idleTotal.listPrice);
  goal('usd_per_month_idle_within_free_tier', COST_GOALS.idlePerMonth, idleTotal.freeTier);
}

/** The idle table (from the stack's resources alone: no traffic to run), and its totals. */
function printIdle(): { listPrice: number; freeTier: number } {
  const idle = idleCostPerMonth();
  console.log(
    `\n## Idle cost of a deployed region with no traffic ($ a month, list prices; and within the account's free tier: ${FREE_TIER.alarms} alarms, ${FREE_TIER.dashboards} dashboards, ${FREE_TIER.sqsRequests / 1e6} M SQS requests)`,
  );
  printTable([
    ['part', '$/month', 'free tier', 'what'],
    ...idle.map((line) => [line.part, fixed(line.usdPerMonth), fixed(line.usdPerMonthFreeTier), line.detail]),
  ]);
  const listPrice = idle.reduce((sum, line) => sum + line.usdPerMonth, 0);
  const freeTier = idle.reduce((sum, line) => sum + line.usdPerMonthFreeTier, 0);
  figure('usd_per_month_idle', fixed(listPrice));
  figure('usd_per_month_idle_within_free_tier', fixed(freeTier));
  return { listPrice, freeTier };
}

/**
 * With the opt-in CloudWatch dashboard (`-c cloudwatchDashboard=true`): only its line differs. And what
 * a look at the Operations page costs instead: GetMetricData's metrics requested, ListMetrics' requests.
 */
function printIdleWithDashboard(): void {
  const idle = idleCostPerMonth(oneRegionTemplate({ cloudwatchDashboard: true }));
  const dashboard = idle.find((line) => line.part === 'CloudWatch dashboard')!;
  figure(
    'usd_per_month_idle_cloudwatch_dashboard_line',
    `${fixed(dashboard.usdPerMonth)} (${dashboard.detail})`,
  );
  figure(
    'usd_per_month_idle_with_cloudwatch_dashboard',
    fixed(idle.reduce((sum, line) => sum + line.usdPerMonth, 0)),
  );
  figure(
    'usd_per_month_idle_with_cloudwatch_dashboard_within_free_tier',
    fixed(idle.reduce((sum, line) => sum + line.usdPerMonthFreeTier, 0)),
  );
  const view = operationsViewCost(1);
  figure(
    'usd_per_operations_page_view_one_region',
    `${view.usd.toFixed(5)} (${view.metricsRequested} metrics requested, ${view.listMetricsRequests} ListMetrics requests, with no refusal reason or delivery seen)`,
  );
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const [index, row] of rows.entries()) {
    console.log(
      `  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')}`,
    );
    if (index === 0) console.log(`  ${widths.map((width) => '-'.repeat(width)).join('  ')}`);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`# Faultline benchmarks (node ${process.version}, ${availableParallelism()} cores)`);
  // `npm run bench -- idle`: the idle table alone, read from the synthesized stack in a few seconds.
  if (process.argv.includes('idle')) {
    const { listPrice, freeTier } = printIdle();
    printIdleWithDashboard();
    for (const [name, measured] of [
      ['usd_per_month_idle', listPrice],
      ['usd_per_month_idle_within_free_tier', freeTier],
    ] as const) {
      const met = measured <= COST_GOALS.idlePerMonth ? 'MET' : 'NOT MET';
      figure(`goal_${name}`, `<= ${fixed(COST_GOALS.idlePerMonth)}, measured ${fixed(measured)}: ${met}`);
    }
    return;
  }
  const writes = await measureGroupingWrites();
  const perOccurrence = printWrites(writes.batchSize, writes.foldBatchSize, writes.results);
  await printCost(writes.results);
  // `npm run bench -- cost`: the write units and the cost model only.
  if (process.argv.includes('cost')) return;
  const ratio = printFingerprinting(measureFingerprinting());
  const linear = measureLinearTime();
  printLinearTime(linear);
  const notifiedP50 = printNotifications(await measureNotifications());
  const searchP50 = printSearchQueries(await measureSearchQueries());
  const searchableP50 = printSearchFreshness(await measureSearchFreshness());
  const dashboard = printDashboard(await measureDashboard());
  const rateLimitWru = printRateLimits(await measureRateLimits());
  const distinct = writes.results.find((result) => result.scenario.name === 'distinct')!;
  printGoals(
    perOccurrence.get('hot')!,
    perOccurrence.get('distinct')!,
    perOccurrence.get('distinct')! - searchUnits(distinct) / distinct.occurrences,
    ratio,
    linear,
    notifiedP50,
    searchP50,
    searchableP50,
    dashboard,
    rateLimitWru,
  );
  figure('\nbench_seconds', fixed((performance.now() - started) / 1000, 1));
}

await main();
