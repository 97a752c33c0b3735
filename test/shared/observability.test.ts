// Logs are Powertools' JSON lines in AWS, and short human lines on the local stack: one per HTTP
// request, from the local API, and one per entry elsewhere.
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// The suite silences handler logs (vitest.config.ts); these tests read them. Set before the logger
// is built: its middleware resets the level to the one it started with on every invocation.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

import { type HttpAdapter, startHttpAdapter } from '#infra/local/http-adapter';
import { invoke, loadFunction } from '#infra/local/lambda-runtime';
import { NotFoundError, ValidationError } from '#shared/errors';
import { httpHandler } from '#shared/http/middleware';
import { logger } from '#shared/observability';

const local = process.env.FAULTLINE_LOCAL;
let written: string[] = [];

afterEach(() => {
  vi.restoreAllMocks();
  if (local === undefined) delete process.env.FAULTLINE_LOCAL;
  else process.env.FAULTLINE_LOCAL = local;
  written = [];
});

function capture(): void {
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
  }
}

async function logFromAFunction(log: () => void): Promise<void> {
  const fn = await loadFunction({
    name: 'storeOccurrences',
    entry: fileURLToPath(new URL('../support/echo-handler.ts', import.meta.url)),
    timeoutSeconds: 5,
    memoryMb: 128,
  });
  // Logged with the function's context, as injectLambdaContext adds it in a handler.
  await invoke(
    {
      ...fn,
      handler: (_event, context) => {
        logger.addContext(context);
        log();
      },
    },
    {},
  );
}

describe('in AWS', () => {
  it("an entry is Powertools' JSON line, with the function's context", async () => {
    delete process.env.FAULTLINE_LOCAL;
    capture();
    await logFromAFunction(() => logger.info('batch stored', { stored: 3 }));
    const entry = JSON.parse(written.join('')) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'INFO', message: 'batch stored', stored: 3, service: 'faultline' });
    expect(entry.function_arn).toMatch(/^arn:aws:lambda:/);
  });
});

describe('on the local stack', () => {
  it('an entry is one short line: time, level, function, message and fields, and no ARN', async () => {
    process.env.FAULTLINE_LOCAL = '1';
    capture();
    await logFromAFunction(() => logger.info('batch stored', { stored: 3, duplicates: 0 }));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(
      /^\d\d:\d\d:\d\d INFO {2}storeOccurrences batch stored stored=3 duplicates=0\n$/,
    );
    expect(written[0]).not.toContain('arn:');
  });

  it('an error entry names the error, with a few lines of its stack below', async () => {
    process.env.FAULTLINE_LOCAL = '1';
    capture();
    await logFromAFunction(() =>
      logger.error('batch not stored; it will be delivered again', { error: new TypeError('no table') }),
    );
    const [line = '', ...stack] = written.join('').trimEnd().split('\n');
    expect(line).toMatch(
      /ERROR storeOccurrences batch not stored; it will be delivered again error=TypeError: no table$/,
    );
    expect(stack.length).toBeGreaterThan(0);
    expect(stack.length).toBeLessThanOrEqual(5);
    for (const frame of stack) expect(frame).toMatch(/^ {4}at /);
  });
});

describe('refused requests', () => {
  it.each([
    ['a 404 is not logged at info', new NotFoundError('item 9 not found'), 0],
    ['a 422 is logged at info, with its reason', new ValidationError('data.body: required'), 1],
  ])('%s', async (_case, error, lines) => {
    delete process.env.FAULTLINE_LOCAL;
    capture();
    const refuse = httpHandler(async () => {
      throw error;
    });
    await logFromAFunction(() => {});
    const fn = await loadFunction({
      name: 'readApi',
      entry: fileURLToPath(new URL('../support/echo-handler.ts', import.meta.url)),
      timeoutSeconds: 5,
      memoryMb: 128,
    });
    written = [];
    const answer = (await invoke({ ...fn, handler: refuse as never }, { headers: {} })) as {
      statusCode: number;
    };
    expect(answer.statusCode).toBe(error.statusCode);
    expect(written).toHaveLength(lines);
    if (lines) expect(JSON.parse(written[0]!)).toMatchObject({ level: 'INFO', reason: error.message });
  });
});

describe('the local HTTP API', () => {
  let adapter: HttpAdapter;
  const lines: string[] = [];

  beforeAll(async () => {
    const fn = await loadFunction({
      name: 'ingestItem',
      entry: fileURLToPath(new URL('../support/logging-handler.ts', import.meta.url)),
      timeoutSeconds: 5,
      memoryMb: 128,
    });
    adapter = await startHttpAdapter({
      port: 0,
      routes: [
        { routeKey: 'POST /api/1/item', function: fn },
        { routeKey: 'POST /refused', function: fn },
      ],
      logRequest: (line) => lines.push(line),
    });
  });

  afterAll(async () => {
    await adapter?.stop();
  });

  it('prints one line per request: method, path, status, time and project, and no token', async () => {
    process.env.FAULTLINE_LOCAL = '1';
    capture();
    const answer = await fetch(`${adapter.url}/api/1/item/?access_token=secret-token`, { method: 'POST' });
    expect(answer.status).toBe(200);
    expect(lines.at(-1)).toMatch(/^POST \/api\/1\/item\/ 200 \d+ms project=7$/);
    // The handler's own info line went into the request's line.
    expect(written).toEqual([]);
  });

  it('says why a request was refused', async () => {
    process.env.FAULTLINE_LOCAL = '1';
    capture();
    await fetch(`${adapter.url}/refused`, { method: 'POST' });
    expect(lines.at(-1)).toMatch(/^POST \/refused 422 \d+ms — data\.body: required$/);
  });

  it('prints a line for a path no route serves', async () => {
    await fetch(`${adapter.url}/nowhere`);
    expect(lines.at(-1)).toMatch(/^GET \/nowhere 404 \d+ms$/);
  });
});
