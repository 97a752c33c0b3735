// The Operations page's figures, read through @aws-sdk/client-cloudwatch from a local CloudWatch that
// checks each request as AWS's API reference documents it and answers in CloudWatch's JSON protocol.
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloudWatch, LocalMetricStore, startLocalCloudWatch } from '#infra/local/cloudwatch-local';
import { AccessDeniedError } from '#shared/errors';
import { CloudWatchMetricsSource } from '#shared/operations/cloudwatch';
import { queueKindOf } from '#shared/operations/graphs';
import { createOperationsService, type OperationsAnswer } from '#shared/operations/service';

const region = 'eu-west-1';
const stackName = 'Faultline-eu-west-1';
// A fixed clock: 12:00 UTC, so the 3-hour window of minutes is 09:00 to 12:00.
const now = Date.UTC(2026, 10, 30, 12, 0, 0);
const minute = 60_000;

const store = new LocalMetricStore();
let cloudwatch: LocalCloudWatch;
const saved = { ...process.env };

/** An EMF document as Powertools Metrics serializes one (shared/observability.ts). */
function emf(timestamp: number, metrics: Record<string, number>, dimensions: Record<string, string> = {}) {
  const all = { service: 'faultline', region, ...dimensions };
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: 'Faultline',
          Dimensions: [Object.keys(all)],
          Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })),
        },
      ],
    },
    ...all,
    ...metrics,
  };
}

const service = () =>
  createOperationsService({
    // The token check is the project service's (tested with it); here a token is `read` or nothing.
    projects: {
      authorize: async (token) => {
        if (token !== 'read-token') throw new AccessDeniedError('invalid access token');
        return undefined as never;
      },
    },
    source: new CloudWatchMetricsSource(),
    regions: () => [{ region, role: 'single', stackName, apiId: 'a1b2c3' }],
    now: () => now,
  });

const graph = (answer: OperationsAnswer, id: string) => {
  const found = answer.regions[0]!.graphs.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no graph ${id}`);
  return found;
};

beforeAll(async () => {
  // Two minutes of traffic, and one point outside the window that must not show.
  store.putEmf(region, emf(now - 10 * minute + 1000, { OccurrencesAccepted: 3 }));
  store.putEmf(region, emf(now - 10 * minute + 2000, { OccurrencesAccepted: 2, OccurrencesStored: 5 }));
  store.putEmf(region, emf(now - 9 * minute + 500, { OccurrencesCounted: 5 }));
  store.putEmf(region, emf(now - 4 * 3600_000, { OccurrencesAccepted: 100 }));
  store.putEmf(region, emf(now - 5 * minute, { OccurrencesRefused: 2 }, { reason: 'unauthorized' }));
  store.putEmf(region, emf(now - 5 * minute, { Deliveries: 1 }, { channel: 'slack', outcome: 'sent' }));
  // Another region's figures stay in their region.
  store.putEmf('us-east-1', { ...emf(now - 5 * minute, { OccurrencesAccepted: 7 }), region: 'us-east-1' });
  const lambda = (functionName: string, metricName: string, value: number) =>
    store.put(
      region,
      { namespace: 'AWS/Lambda', metricName, dimensions: { FunctionName: functionName } },
      { timestampMs: now - 3 * minute, value },
    );
  lambda(`${stackName}-StoreOccurrencesFunctionA1B2C3D4-AbCdEfGh`, 'Invocations', 4);
  lambda(`${stackName}-StoreOccurrencesFunctionA1B2C3D4-AbCdEfGh`, 'Errors', 1);
  lambda('SomeoneElse-Function-XyZ', 'Invocations', 9);
  lambda('SomeoneElse-Function-XyZ', 'Errors', 9);

  cloudwatch = await startLocalCloudWatch(store);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
});

afterAll(async () => {
  await cloudwatch.stop();
  process.env = saved;
});

describe('the Operations figures', () => {
  it('show accepted, stored and counted per minute of the window, oldest first, and nothing from outside it', async () => {
    const answer = await service().metrics('read-token', { hours: '3' });
    expect(answer).toMatchObject({
      hours: 3,
      period_seconds: 60,
      end: now / 1000,
      start: now / 1000 - 3 * 3600,
    });
    const series = Object.fromEntries(graph(answer, 'occurrences').series.map((line) => [line.label, line]));
    expect(series.accepted).toMatchObject({ timestamps: [(now - 10 * minute) / 1000], values: [5] });
    expect(series.stored).toMatchObject({ timestamps: [(now - 10 * minute) / 1000], values: [5] });
    expect(series.counted).toMatchObject({ timestamps: [(now - 9 * minute) / 1000], values: [5] });
  });

  it('draw a line for each refusal reason and each channel and outcome CloudWatch lists', async () => {
    const answer = await service().metrics('read-token', {});
    expect(graph(answer, 'refused').series.map((line) => [line.label, line.values])).toEqual([
      ['refused: unauthorized', [2]],
      ['rate-limited', []],
    ]);
    expect(graph(answer, 'deliveries').series.map((line) => [line.label, line.values])).toEqual([
      ['slack sent', [1]],
    ]);
  });

  it("draw this installation's functions by their declared names, and no other application's", async () => {
    const answer = await service().metrics('read-token', { hours: '24' });
    const labels = graph(answer, 'functions').series.map((line) => line.label);
    expect(labels).toEqual(['storeOccurrences errors', 'throttles (region)']);
    expect(graph(answer, 'functions').series[0]).toMatchObject({ values: [1], axis: 'left' });
    // The API's lines are asked for by its id; nothing was written for it here, so they are empty.
    expect(graph(answer, 'traffic').series.map((line) => [line.label, line.values.length])).toEqual([
      ['API requests', 0],
      ['API 5xx', 0],
      ['API p99 (ms)', 0],
    ]);
    expect(answer.period_seconds).toBe(300);
  });

  it('ask CloudWatch as it documents: three ListMetrics, then one GetMetricData in the signed region', async () => {
    cloudwatch.requests.length = 0;
    const answer = await service().metrics('read-token', { hours: '168' });
    const operations = cloudwatch.requests.map((request) => request.operation);
    expect(operations.filter((name) => name === 'ListMetrics')).toHaveLength(3);
    expect(operations.filter((name) => name === 'GetMetricData')).toHaveLength(1);
    expect(cloudwatch.requests.every((request) => request.region === region)).toBe(true);
    const data = cloudwatch.requests.find((request) => request.operation === 'GetMetricData')!.input as {
      StartTime: number;
      EndTime: number;
      MetricDataQueries: Array<{ Id: string; MetricStat: { Period: number } }>;
    };
    expect(data.EndTime - data.StartTime).toBe(168 * 3600);
    expect(data.MetricDataQueries.every((query) => query.MetricStat.Period === 3600)).toBe(true);
    expect(answer.metrics_requested).toBe(data.MetricDataQueries.length);
    expect(answer.list_metrics_requests).toBe(3);
  });

  it('refuse a window other than 3, 24 or 168 hours with a 422, asking CloudWatch nothing', async () => {
    cloudwatch.requests.length = 0;
    await expect(service().metrics('read-token', { hours: '5' })).rejects.toMatchObject({
      statusCode: 422,
      message: 'hours is 3, 24 or 168',
    });
    expect(cloudwatch.requests).toEqual([]);
  });

  it('refuse a token that may not read, asking CloudWatch nothing', async () => {
    cloudwatch.requests.length = 0;
    await expect(service().metrics('post-token', { hours: '3' })).rejects.toMatchObject({ statusCode: 403 });
    expect(cloudwatch.requests).toEqual([]);
  });
});

describe('the Operations figures, when CloudWatch is slow to give them', () => {
  it("still show every other region when one region's CloudWatch throttles, naming the error only", async () => {
    const errors: string[] = [];
    const twoRegions = createOperationsService({
      projects: { authorize: async () => undefined as never },
      source: new CloudWatchMetricsSource({ maxAttempts: 1 }),
      regions: () => [
        { region, role: 'home', stackName },
        { region: 'us-east-1', role: 'standby', stackName: 'Faultline-us-east-1' },
      ],
      now: () => now,
      onRegionError: (failed) => errors.push(failed),
    });
    cloudwatch.throttledRegions.add('us-east-1');
    try {
      const answer = await twoRegions.metrics('read-token', { hours: '3' });
      expect(answer.regions[0]?.region).toBe(region);
      expect(answer.regions[0]).not.toHaveProperty('error');
      expect(graph(answer, 'occurrences').series.find((line) => line.label === 'accepted')?.values).toEqual([
        5,
      ]);
      expect(answer.regions[1]).toEqual({
        region: 'us-east-1',
        role: 'standby',
        graphs: [],
        error: 'CloudWatch did not answer for this region (Throttling)',
      });
      expect(errors).toEqual(['us-east-1']);
    } finally {
      cloudwatch.throttledRegions.clear();
    }
  });

  it('answer a page asked again within the minute from what was read, then read CloudWatch again', async () => {
    let clock = now;
    const reused = createOperationsService({
      projects: { authorize: async () => undefined as never },
      source: new CloudWatchMetricsSource(),
      regions: () => [{ region, role: 'single', stackName }],
      now: () => clock,
    });
    cloudwatch.requests.length = 0;
    const first = await reused.metrics('read-token', { hours: '3' });
    const asked = cloudwatch.requests.length;
    expect(asked).toBeGreaterThan(0);
    clock += 59_000;
    expect(await reused.metrics('read-token', { hours: '3' })).toBe(first);
    expect(cloudwatch.requests).toHaveLength(asked);
    // Another window is another read.
    await reused.metrics('read-token', { hours: '24' });
    expect(cloudwatch.requests.length).toBeGreaterThan(asked);
    const afterOtherWindow = cloudwatch.requests.length;
    clock += 2_000;
    await reused.metrics('read-token', { hours: '3' });
    expect(cloudwatch.requests.length).toBeGreaterThan(afterOtherWindow);
  });
});

describe("a region's queues", () => {
  it("are told apart by the stack's name, and a plan's ingest queue by its fixed name", () => {
    const planned = { stackName: 'Faultline-eu-west-1', ingestQueueName: 'Faultline-ingest' };
    expect(queueKindOf('Faultline-ingest', planned)).toEqual({ kind: 'source', label: 'IngestQueue' });
    expect(queueKindOf('Faultline-eu-west-1-IngestDeadLetterQueueA1B2C3-XyZ', planned)).toEqual({
      kind: 'lastStop',
      label: 'IngestDeadLetterQueue',
    });
    expect(queueKindOf('Faultline-ingest', { stackName: 'Faultline-eu-west-1' })).toBeUndefined();
    expect(queueKindOf('SomeoneElse-ingest', planned)).toBeUndefined();
  });
});

describe('the local CloudWatch', () => {
  it('refuses a request CloudWatch would refuse, in its error shape', async () => {
    const client = new CloudWatchClient({ region });
    const request = (period: number, id = 'm0') =>
      client.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - 3600_000),
          EndTime: new Date(now),
          MetricDataQueries: [
            {
              Id: id,
              MetricStat: {
                Metric: { Namespace: 'Faultline', MetricName: 'OccurrencesAccepted' },
                Period: period,
                Stat: 'Sum',
              },
            },
          ],
        }),
      );
    await expect(request(45)).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    await expect(request(60, 'M0')).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
    await expect(request(60)).resolves.toMatchObject({
      MetricDataResults: [{ Id: 'm0', StatusCode: 'Complete' }],
    });
    client.destroy();
  });
});
