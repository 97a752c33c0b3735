// The Operations page's figures: for each region the installation ingests in, its graphs over a
// window, read from CloudWatch when someone asks (nothing runs, or costs, while nobody looks).
import { z } from 'zod';
import { ValidationError } from '#shared/errors';
import type { ProjectService } from '#shared/projects/service';
import {
  type Axis,
  discoveryRequests,
  type FoundMetrics,
  type MetricName,
  type OperationsRegion,
  type PlannedSeries,
  plannedGraphs,
  WINDOWS,
  type WindowHours,
} from './graphs';

/** The read function's variable naming the installation's regions (JSON `OperationsRegion[]`). */
export const OPERATIONS_REGIONS_VAR = 'FAULTLINE_OPERATIONS_REGIONS';

/** GetMetricData takes at most 500 queries a call. */
export const MAX_QUERIES_PER_CALL = 500;

/** One query of GetMetricData: a metric with its statistic over the period. */
export interface MetricQuery {
  id: string;
  metric: MetricName;
  stat: string;
  periodSeconds: number;
}

/** CloudWatch as the service needs it, in one region (shared/operations/cloudwatch.ts in AWS). */
export interface MetricsSource {
  /** The metrics found, and the ListMetrics calls (pages) it took: CloudWatch bills each. */
  listMetrics(
    region: string,
    request: { namespace: string; metricName?: string; dimensions?: Array<{ name: string; value?: string }> },
  ): Promise<{ metrics: MetricName[]; requests: number }>;
  getMetricData(
    region: string,
    queries: MetricQuery[],
    start: Date,
    end: Date,
  ): Promise<Map<string, { timestamps: number[]; values: number[] }>>;
}

export interface OperationsSeries {
  label: string;
  axis: Axis;
  /** CloudWatch's statistic per period: `Sum`, `Maximum`, `p99`. */
  stat: string;
  /** Unix seconds, oldest first, one per period with data. */
  timestamps: number[];
  values: number[];
}

export interface OperationsGraph {
  id: string;
  title: string;
  units: { left: string; right?: string };
  series: OperationsSeries[];
}

export interface OperationsAnswer {
  hours: number;
  period_seconds: number;
  start: number;
  end: number;
  /**
   * Each region's graphs; a region CloudWatch would not answer for (throttled, denied, a region the
   * account has not enabled) has none and says why in `error`, and the other regions are still shown.
   */
  regions: Array<{ region: string; role: string; graphs: OperationsGraph[]; error?: string }>;
  /** What the look cost, as CloudWatch bills it: the metrics requested from GetMetricData, and ListMetrics calls. */
  metrics_requested: number;
  list_metrics_requests: number;
}

export interface OperationsServiceDeps {
  projects: Pick<ProjectService, 'authorize'>;
  source: MetricsSource;
  /** The installation's regions; read when first asked, so a bad value fails this route alone. */
  regions: () => OperationsRegion[];
  now?: () => number;
  /** Told of each region CloudWatch would not answer for (the handler logs it: the page gets its name only). */
  onRegionError?: (region: string, error: unknown) => void;
}

/**
 * How long a container serves an answer again (per window): the figures are installation-wide, the
 * same for every token, and CloudWatch's own points are a minute apart, so a page refreshed in a loop,
 * or many people looking at once, cost one read a minute per container instead of one per look. An
 * answer with a region missing is kept for less: it may be a passing throttle.
 */
export const ANSWER_REUSE_MS = 60_000;
export const PARTIAL_ANSWER_REUSE_MS = 10_000;

const hoursSchema = z
  .string()
  .optional()
  .transform((value) => (value === undefined ? '3' : value))
  .pipe(z.enum(Object.keys(WINDOWS) as [string, ...string[]]))
  .transform((value) => Number(value) as WindowHours);

/** Reads `FAULTLINE_OPERATIONS_REGIONS`: a missing or unreadable value fails the cold start. */
export function operationsRegionsFromEnv(env: NodeJS.ProcessEnv = process.env): OperationsRegion[] {
  const schema = z
    .array(
      z.object({
        region: z.string().min(1),
        role: z.string().min(1),
        stackName: z.string(),
        apiId: z.string().min(1).optional(),
        ingestQueueName: z.string().min(1).optional(),
      }),
    )
    .min(1);
  const raw = env[OPERATIONS_REGIONS_VAR];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw ?? '');
  } catch {
    parsed = undefined;
  }
  const result = schema.safeParse(parsed);
  if (!result.success)
    throw new Error(`environment variable ${OPERATIONS_REGIONS_VAR} is not a list of regions`);
  return result.data;
}

export type OperationsService = ReturnType<typeof createOperationsService>;

export function createOperationsService(deps: OperationsServiceDeps) {
  const now = deps.now ?? Date.now;
  const recent = new Map<WindowHours, { until: number; answer: OperationsAnswer }>();

  async function regionGraphs(region: OperationsRegion, start: Date, end: Date, periodSeconds: number) {
    const found: FoundMetrics = { lambda: [], sqs: [], faultline: [] };
    let listRequests = 0;
    await Promise.all(
      discoveryRequests(region).map(async ({ key, ...request }) => {
        const listed = await deps.source.listMetrics(region.region, request);
        found[key] = listed.metrics;
        listRequests += listed.requests;
      }),
    );
    const graphs = plannedGraphs(region, found);
    const queries: Array<MetricQuery & { series: PlannedSeries }> = [];
    for (const graph of graphs) {
      for (const series of graph.series) {
        queries.push({
          id: `m${queries.length}`,
          metric: series.metric,
          stat: series.stat,
          periodSeconds,
          series,
        });
      }
    }
    const answers = new Map<string, { timestamps: number[]; values: number[] }>();
    for (let first = 0; first < queries.length; first += MAX_QUERIES_PER_CALL) {
      const batch = queries.slice(first, first + MAX_QUERIES_PER_CALL);
      for (const [id, data] of await deps.source.getMetricData(region.region, batch, start, end)) {
        answers.set(id, data);
      }
    }
    let index = 0;
    const drawn: OperationsGraph[] = graphs.map((graph) => ({
      id: graph.id,
      title: graph.title,
      units: graph.units,
      series: graph.series.map((series) => {
        const answer = answers.get(`m${index++}`) ?? { timestamps: [], values: [] };
        return { label: series.label, axis: series.axis, stat: series.stat, ...oldestFirst(answer) };
      }),
    }));
    return { graphs: drawn, metricsRequested: queries.length, listRequests };
  }

  return {
    /** `GET /api/1/operations/metrics?hours=3|24|168`: installation-wide figures, for a read token. */
    async metrics(token: string | undefined, query: { hours?: string }): Promise<OperationsAnswer> {
      await deps.projects.authorize(token, ['read']);
      const parsed = hoursSchema.safeParse(query.hours);
      if (!parsed.success) throw new ValidationError('hours is 3, 24 or 168');
      const hours = parsed.data;
      const kept = recent.get(hours);
      if (kept && kept.until > now()) return kept.answer;
      const answer = await read(hours);
      const partial = answer.regions.some((region) => region.error !== undefined);
      recent.set(hours, { until: now() + (partial ? PARTIAL_ANSWER_REUSE_MS : ANSWER_REUSE_MS), answer });
      return answer;
    },
  };

  async function read(hours: WindowHours): Promise<OperationsAnswer> {
    const periodSeconds = WINDOWS[hours];
    // Whole periods, so the points fall where CloudWatch aggregates them.
    const end = Math.ceil(now() / 1000 / periodSeconds) * periodSeconds;
    const start = end - hours * 3600;
    const regions = deps.regions();
    const outcomes = await Promise.allSettled(
      regions.map((region) =>
        regionGraphs(region, new Date(start * 1000), new Date(end * 1000), periodSeconds),
      ),
    );
    const drawn = outcomes.map((outcome, index) => {
      const { region, role } = regions[index]!;
      if (outcome.status === 'fulfilled') return { region, role, graphs: outcome.value.graphs };
      deps.onRegionError?.(region, outcome.reason);
      // The error's name only (ThrottlingException, AccessDenied…): its message can name the account and role.
      const name = outcome.reason instanceof Error ? outcome.reason.name : 'Error';
      return { region, role, graphs: [], error: `CloudWatch did not answer for this region (${name})` };
    });
    const fulfilled = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    return {
      hours,
      period_seconds: periodSeconds,
      start,
      end,
      regions: drawn,
      metrics_requested: fulfilled.reduce((sum, region) => sum + region.metricsRequested, 0),
      list_metrics_requests: fulfilled.reduce((sum, region) => sum + region.listRequests, 0),
    };
  }
}

/** CloudWatch answers newest first by default: the page draws oldest first. */
function oldestFirst(answer: { timestamps: number[]; values: number[] }) {
  const points = answer.timestamps
    .map((timestamp, index) => [timestamp, answer.values[index] ?? 0] as const)
    .sort(([a], [b]) => a - b);
  return { timestamps: points.map(([timestamp]) => timestamp), values: points.map(([, value]) => value) };
}
