// The Operations page's metrics source in AWS: CloudWatch's ListMetrics and GetMetricData in each region,
// one client per region built once per container (its endpoint from AWS_ENDPOINT_URL_CLOUDWATCH locally).
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type ListMetricsCommandInput,
  paginateGetMetricData,
  paginateListMetrics,
} from '@aws-sdk/client-cloudwatch';
import { tracer } from '#shared/observability';
import type { MetricName } from './graphs';
import type { MetricQuery, MetricsSource } from './service';

/** A search past this many metrics in one namespace of a region is cut short: the page has no room for more. */
const MAX_LISTED_METRICS = 2000;

export class CloudWatchMetricsSource implements MetricsSource {
  private readonly clients = new Map<string, CloudWatchClient>();

  /** `maxAttempts`: the SDK's tries of a throttled or failed call (its default, 3, unless given). */
  constructor(private readonly options: { maxAttempts?: number } = {}) {}

  private client(region: string): CloudWatchClient {
    let client = this.clients.get(region);
    if (!client) {
      client = tracer.captureAWSv3Client(
        new CloudWatchClient({ region, maxAttempts: this.options.maxAttempts }),
      );
      this.clients.set(region, client);
    }
    return client;
  }

  async listMetrics(
    region: string,
    request: { namespace: string; metricName?: string; dimensions?: Array<{ name: string; value?: string }> },
  ): Promise<{ metrics: MetricName[]; requests: number }> {
    const input: ListMetricsCommandInput = {
      Namespace: request.namespace,
      MetricName: request.metricName,
      // Names written in the last two weeks (RecentlyActive's only other choice, three hours, would
      // miss a reason seen yesterday in the 7-day window).
      Dimensions: request.dimensions?.map(({ name, value }) => ({ Name: name, Value: value })),
    };
    const found: MetricName[] = [];
    let requests = 0;
    for await (const page of paginateListMetrics({ client: this.client(region) }, input)) {
      requests += 1;
      for (const metric of page.Metrics ?? []) {
        found.push({
          namespace: metric.Namespace ?? request.namespace,
          metricName: metric.MetricName ?? '',
          dimensions: Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
        });
      }
      if (found.length >= MAX_LISTED_METRICS) break;
    }
    return { metrics: found, requests };
  }

  async getMetricData(
    region: string,
    queries: MetricQuery[],
    start: Date,
    end: Date,
  ): Promise<Map<string, { timestamps: number[]; values: number[] }>> {
    const answers = new Map<string, { timestamps: number[]; values: number[] }>();
    if (queries.length === 0) return answers;
    const input = new GetMetricDataCommand({
      StartTime: start,
      EndTime: end,
      MetricDataQueries: queries.map((query) => ({
        Id: query.id,
        ReturnData: true,
        MetricStat: {
          Metric: {
            Namespace: query.metric.namespace,
            MetricName: query.metric.metricName,
            Dimensions: Object.entries(query.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
          },
          Period: query.periodSeconds,
          Stat: query.stat,
        },
      })),
    }).input;
    // A long window of many lines may come in pages (NextToken): each page adds points to its lines.
    for await (const page of paginateGetMetricData({ client: this.client(region) }, input)) {
      for (const result of page.MetricDataResults ?? []) {
        if (!result.Id) continue;
        const answer = answers.get(result.Id) ?? { timestamps: [], values: [] };
        for (const [index, timestamp] of (result.Timestamps ?? []).entries()) {
          answer.timestamps.push(Math.round(timestamp.getTime() / 1000));
          answer.values.push(result.Values?.[index] ?? 0);
        }
        answers.set(result.Id, answer);
      }
    }
    return answers;
  }
}
