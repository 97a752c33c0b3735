// The metrics an operator watches, as the handlers write them: CloudWatch embedded metric format
// (EMF) lines on stdout, once per invocation, with the names, values and dimensions the dashboard reads.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The suite turns metrics off (vitest.config.ts); these tests read them. Set before Powertools reads it.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

import { invoke, type LoadedFunction, loadDeclaredFunction } from '#infra/local/lambda-runtime';
import { countDelivery, countRateLimited, MetricNames, publishMetrics, tracer } from '#shared/observability';
import type { tables } from '#shared/wiring/tables';
import type { FunctionName } from '#shared/wiring/topology';
import {
  type Dynamo,
  pointHandlersAt,
  projectServiceOn,
  type Queues,
  startDynamoWithTables,
  startQueues,
} from '../support/emulators';
import { errorData } from '../support/occurrences';
import { openTableStream, type TableStream } from '../support/table-stream';

/** One EMF line as CloudWatch reads it. */
interface EmfLine {
  _aws: {
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [field: string]: unknown;
}

let dynamo: Dynamo & { tableNames: Record<keyof typeof tables, string> };
let sqs: Queues;
let occurrenceStream: TableStream;
let token: string;
const loaded = new Map<FunctionName, LoadedFunction>();

beforeAll(async () => {
  [dynamo, sqs] = await Promise.all([startDynamoWithTables('metrics'), startQueues({ prefix: 'metrics' })]);
  pointHandlersAt(dynamo, sqs, 'eu-west-1');
  const projects = projectServiceOn(dynamo);
  token = (await projects.createProject({ name: 'metrics' })).tokens.post_server_item;
  occurrenceStream = await openTableStream(
    dynamo.client,
    dynamo.streamsClient,
    dynamo.tableNames.occurrences,
  );
  for (const name of ['ingestItem', 'storeOccurrences', 'foldOccurrences'] as const) {
    loaded.set(name, await loadDeclaredFunction(name));
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([dynamo?.stop(), sqs?.stop()]);
});

/** Runs `work` and returns the EMF lines it wrote on stdout (other lines are left out). */
async function emfLinesOf(work: () => Promise<unknown>): Promise<EmfLine[]> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await work();
  } finally {
    spy.mockRestore();
  }
  return written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

/** The metrics of the lines: `{ name, value, dimensions }`, dimensions as the line names them. */
function metricsOf(lines: EmfLine[]) {
  return lines.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((metric) => ({
        namespace: directive.Namespace,
        name: metric.Name,
        unit: metric.Unit,
        value: line[metric.Name],
        dimensions: Object.fromEntries(directive.Dimensions.flat().map((key) => [key, line[key]])),
      })),
    ),
  );
}

function post(body: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /api/1/item',
    rawPath: '/api/1/item/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: 'POST',
        path: '/api/1/item/',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: 'request',
      routeKey: 'POST /api/1/item',
      stage: '$default',
      time: '',
      timeEpoch: Date.now(),
    },
  };
}

const ingest = (event: APIGatewayProxyEventV2) => invoke(loaded.get('ingestItem')!, event);

describe('what ingest, the storing worker and the fold count', () => {
  it('an accepted item, stored then counted, is one of each, under the service and region', async () => {
    const body = JSON.stringify({ data: errorData({ message: 'x is undefined' }) });
    const accepted = metricsOf(
      await emfLinesOf(() => ingest(post(body, { 'x-rollbar-access-token': token }))),
    );
    expect(accepted).toEqual([
      {
        namespace: 'Faultline',
        name: MetricNames.accepted,
        unit: 'Count',
        value: 1,
        dimensions: { service: 'faultline', region: 'eu-west-1' },
      },
    ]);

    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: sqs.queues.ingest.url, MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toHaveLength(1);
    const stored = metricsOf(
      await emfLinesOf(() =>
        invoke(loaded.get('storeOccurrences')!, {
          Records: Messages.map((message) => ({
            messageId: message.MessageId!,
            receiptHandle: message.ReceiptHandle!,
            body: message.Body!,
            attributes: { ApproximateReceiveCount: '1' },
          })),
        }),
      ),
    );
    expect(stored.map(({ name, value }) => ({ name, value }))).toEqual([
      { name: MetricNames.stored, value: 1 },
    ]);

    const records: DynamoDBRecord[] = await occurrenceStream.readNew();
    const counted = metricsOf(
      await emfLinesOf(() => invoke(loaded.get('foldOccurrences')!, { Records: records })),
    );
    // One line for the invocation: both metrics, one flush.
    expect(counted.map(({ name }) => name)).toEqual([MetricNames.counted, MetricNames.foldLag]);
    expect(counted[0]!.value).toBe(1);
    const lag = counted[1]!;
    expect(lag.unit).toBe('Seconds');
    expect(lag.value).toBeGreaterThanOrEqual(0);
    expect(lag.value).toBeLessThan(600);
  });

  it.each([
    [
      'a body that is not JSON',
      post('{not json', { 'x-rollbar-access-token': 'a'.repeat(32) }),
      'unreadable',
    ],
    ['no access token', post(JSON.stringify({ data: errorData() })), 'missing_token'],
    [
      'a token that is not one',
      post(JSON.stringify({ data: errorData() }), { 'x-rollbar-access-token': 'nope' }),
      'unauthorized',
    ],
    ['an item with no body', post(JSON.stringify({ data: { environment: 'production' } }), {}), 'invalid'],
    ['a post past 512 KiB', post(`{"data":"${'a'.repeat(600_000)}"}`, {}), 'too_large'],
  ])('%s is counted as refused, with its reason', async (_case, event, reason) => {
    if (reason === 'invalid') event.headers['x-rollbar-access-token'] = token;
    const refused = metricsOf(await emfLinesOf(() => ingest(event)));
    expect(refused).toEqual([
      expect.objectContaining({
        name: MetricNames.refused,
        value: 1,
        dimensions: { service: 'faultline', region: 'eu-west-1', reason },
      }),
    ]);
  });
});

describe('counts under dimensions of their own', () => {
  it('deliveries are summed per channel and outcome, one line each, when the invocation ends', async () => {
    const lines = await emfLinesOf(async () => {
      countDelivery('slack', 'sent');
      countDelivery('slack', 'sent');
      countDelivery('webhook', 'retrying');
      countRateLimited();
      publishMetrics();
    });
    expect(lines).toHaveLength(3);
    expect(metricsOf(lines)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: MetricNames.deliveries,
          value: 2,
          dimensions: { service: 'faultline', region: 'eu-west-1', channel: 'slack', outcome: 'sent' },
        }),
        expect.objectContaining({
          name: MetricNames.deliveries,
          value: 1,
          dimensions: { service: 'faultline', region: 'eu-west-1', channel: 'webhook', outcome: 'retrying' },
        }),
        expect.objectContaining({ name: MetricNames.rateLimited, value: 1 }),
      ]),
    );
  });

  it('an invocation that counted nothing writes nothing', async () => {
    expect(await emfLinesOf(async () => publishMetrics())).toEqual([]);
  });

  it('the local stack writes no metrics', async () => {
    process.env.FAULTLINE_LOCAL = '1';
    try {
      const lines = await emfLinesOf(async () => {
        countDelivery('slack', 'sent');
        countRateLimited();
        publishMetrics();
      });
      expect(lines).toEqual([]);
    } finally {
      delete process.env.FAULTLINE_LOCAL;
    }
    // Nothing counted there is left over for the next invocation.
    expect(await emfLinesOf(async () => publishMetrics())).toEqual([]);
  });
});

describe('traces', () => {
  it('the tracer is off outside Lambda, so tests and the local stack send nothing to X-Ray', () => {
    expect(tracer.isTracingEnabled()).toBe(false);
  });
});
