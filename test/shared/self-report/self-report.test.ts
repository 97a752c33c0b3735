// Faultline reporting to itself, against a local HTTP server that answers as its own API (and as
// CloudFormation's response URL): logged errors become items, nothing loops, releases are recorded.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger, sendLoggedErrorsTo } from '#shared/observability';
import { answerCloudFormation, recordRelease } from '#shared/self-report/release';
import { SelfReporter, type SelfReporterOptions } from '#shared/self-report/reporter';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let received: Received[] = [];
/** How the server answers the next requests. */
let answer: (request: Received) => { status: number; body: string } = () => ({
  status: 200,
  body: '{"err":0,"result":{"id":null}}',
});

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(entry);
      const { status, body } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  received = [];
  answer = () => ({ status: 200, body: '{"err":0,"result":{"id":null}}' });
  sendLoggedErrorsTo(undefined);
  logger.setLogLevel('SILENT');
  vi.restoreAllMocks();
});

function reporter(overrides: Partial<SelfReporterOptions> = {}) {
  const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
  const selfReporter = new SelfReporter({
    endpoint: `${base}/api/1/item`,
    accessToken: async () => 'self-token',
    environment: 'production',
    functionName: 'Faultline-eu-west-1-ReadApi',
    warn: (message, fields) => warnings.push({ message, fields }),
    ...overrides,
  });
  return { selfReporter, warnings };
}

/** Lets the logger print (the suite silences it) without writing to the test's output. */
function loggingErrors(): void {
  logger.setLogLevel('ERROR');
  for (const stream of [process.stdout, process.stderr])
    vi.spyOn(stream, 'write').mockImplementation(() => true);
}

interface PostedItem {
  data: { fingerprint: string; body: { message: { body: string; stack?: string } } } & Record<
    string,
    unknown
  >;
}

const items = () => received.map((request) => JSON.parse(request.body) as PostedItem);

describe('self-reporting of logged errors', () => {
  it('an error the logger logs arrives at the API as a Rollbar item, with the token, once flushed', async () => {
    const { selfReporter } = reporter();
    sendLoggedErrorsTo((entry) => selfReporter.report(entry));
    loggingErrors();
    logger.error('request failed', {
      error: new TypeError('cannot read properties of undefined'),
      item_id: 7,
    });
    logger.warn('a warning is not reported');
    await selfReporter.flush();

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', url: '/api/1/item' });
    expect(received[0]!.headers['x-rollbar-access-token']).toBe('self-token');
    const [item] = items();
    expect(item!.data).toMatchObject({
      environment: 'production',
      level: 'error',
      server: { host: 'Faultline-eu-west-1-ReadApi' },
      body: { message: { body: 'request failed: TypeError: cannot read properties of undefined' } },
      custom: { item_id: 7 },
      notifier: { name: 'faultline-self-report' },
    });
    expect(item!.data.body.message.stack).toContain('TypeError');
  });

  it('the same failure with other ids in its message is one item (one fingerprint)', async () => {
    const { selfReporter } = reporter();
    selfReporter.report({ message: 'fold step failed', error: { name: 'Throttled', message: 'item 1' } });
    selfReporter.report({ message: 'fold step failed', error: { name: 'Throttled', message: 'item 2' } });
    selfReporter.report({ message: 'fold step failed', error: { name: 'TypeError', message: 'item 2' } });
    await selfReporter.flush();
    const [first, second, third] = items().map((item) => item.data.fingerprint);
    expect(first).toBe(second);
    expect(third).not.toBe(first);
  });

  it('a failure to report is only logged at warn, never reported again, even when the API is down', async () => {
    answer = () => ({ status: 500, body: '{"err":1,"message":"internal error"}' });
    const { selfReporter, warnings } = reporter({
      // As if the failure were logged at error: it must still not come back as a report.
      warn: (message, fields) => logger.error(message, fields),
    });
    sendLoggedErrorsTo((entry) => selfReporter.report(entry));
    loggingErrors();
    logger.error('request failed', { error: new Error('boom') });
    await selfReporter.flush();
    await selfReporter.flush();
    expect(received).toHaveLength(1);
    expect(warnings).toHaveLength(0);

    const unreachable = reporter({ endpoint: 'http://127.0.0.1:9/api/1/item' });
    expect(() => unreachable.selfReporter.report({ message: 'request failed' })).not.toThrow();
    await unreachable.selfReporter.flush();
    expect(unreachable.warnings.map((warning) => warning.message)).toEqual(['self-report failed']);
  });

  it('a container sends at most its items per minute, and says how many it left out', async () => {
    let now = 1_000_000;
    const { selfReporter, warnings } = reporter({ itemsPerMinute: 3, now: () => now });
    for (let i = 0; i < 5; i += 1) selfReporter.report({ message: `failure ${i}` });
    await selfReporter.flush();
    expect(received).toHaveLength(3);
    now += 60_000;
    selfReporter.report({ message: 'after a minute' });
    await selfReporter.flush();
    expect(received).toHaveLength(4);
    expect(warnings).toEqual([
      { message: 'self-report: errors left unreported (rate limit)', fields: { dropped: 2 } },
    ]);
  });
});

describe('recording a release', () => {
  const event = (requestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent =>
    ({
      RequestType: requestType,
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:recorder',
      ResponseURL: `${base}/cloudformation-response?signature=x`,
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Faultline-eu-west-1/1',
      RequestId: 'request-1',
      LogicalResourceId: 'ReleaseRecord',
      ResourceType: 'Custom::FaultlineRelease',
      ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'faultline-release-record' }),
      ResourceProperties: {
        ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:recorder',
        Revision: 'abc123',
        Environment: 'production',
        Stack: 'Faultline-eu-west-1',
      },
    }) as CloudFormationCustomResourceEvent;
  const options = () => ({ deployUrl: `${base}/api/1/deploy`, accessToken: async () => 'self-token' });

  it('posts a deploy with the revision, and tells CloudFormation it succeeded', async () => {
    answer = (request) =>
      request.url === '/api/1/deploy'
        ? { status: 200, body: '{"data":{"deploy_id":42}}' }
        : { status: 200, body: '' };
    const outcome = await recordRelease(event('Update'), options());
    expect(outcome).toEqual({ recorded: true, deployId: 42 });
    await answerCloudFormation(event('Update'), outcome);

    const [deploy, response] = received;
    expect(deploy!.headers['x-rollbar-access-token']).toBe('self-token');
    expect(JSON.parse(deploy!.body)).toMatchObject({
      environment: 'production',
      revision: 'abc123',
      local_username: 'cloudformation',
    });
    expect(response).toMatchObject({ method: 'PUT', url: '/cloudformation-response?signature=x' });
    expect(JSON.parse(response!.body)).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'faultline-release-record',
      RequestId: 'request-1',
      LogicalResourceId: 'ReleaseRecord',
      Data: { DeployId: '42' },
    });
  });

  it('a deploy the API refuses still lets the release complete, saying why in the stack events', async () => {
    answer = (request) =>
      request.url === '/api/1/deploy'
        ? { status: 403, body: '{"err":1,"message":"invalid access token"}' }
        : { status: 200, body: '' };
    const outcome = await recordRelease(event('Create'), options());
    expect(outcome.recorded).toBe(false);
    await answerCloudFormation(event('Create'), outcome);
    const response = JSON.parse(received[1]!.body);
    expect(response.Status).toBe('SUCCESS');
    expect(response.Reason).toContain('invalid access token');
  });

  it('deleting the stack records nothing', async () => {
    const outcome = await recordRelease(event('Delete'), options());
    await answerCloudFormation(event('Delete'), outcome);
    expect(received.map((request) => request.url)).toEqual(['/cloudformation-response?signature=x']);
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'faultline-release-record',
    });
  });
});
