// Realistic Rollbar payloads for the benchmarks: what rollbar.js sends from a Node service.
import { randomUUID } from 'node:crypto';
import type { GroupingVersion } from '#shared/domain/fingerprint';
import type { Frame, ItemData } from '#shared/domain/payload';
import { type OccurrenceMessage, occurrenceMessageSchema } from '#shared/queue/ingest-queue';

/** A small deterministic generator, so every run of the benchmark writes the same shapes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const LIBRARY_FRAMES: readonly { filename: string; method: string }[] = [
  {
    filename: '/srv/app/node_modules/express/lib/router/layer.js',
    method: 'Layer.handle [as handle_request]',
  },
  { filename: '/srv/app/node_modules/express/lib/router/route.js', method: 'next' },
  { filename: '/srv/app/node_modules/express/lib/router/route.js', method: 'Route.dispatch' },
  { filename: '/srv/app/node_modules/express/lib/router/index.js', method: 'Function.process_params' },
  { filename: '/srv/app/node_modules/express/lib/router/index.js', method: 'next' },
  { filename: '/srv/app/node_modules/body-parser/lib/types/json.js', method: 'jsonParser' },
  { filename: '/srv/app/node_modules/pg-pool/index.js', method: 'Pool.query' },
  {
    filename: '/srv/app/node_modules/.pnpm/ioredis@5.4.1/node_modules/ioredis/built/Redis.js',
    method: 'Redis.sendCommand',
  },
  { filename: 'node:internal/process/task_queues', method: 'process.processTicksAndRejections' },
  { filename: 'node:internal/timers', method: 'listOnTimeout' },
];

const APP_DIRECTORIES = [
  'routes',
  'services',
  'repositories',
  'jobs',
  'middleware',
  'lib/billing',
  'lib/search',
];
const APP_NOUNS = [
  'order',
  'invoice',
  'customer',
  'cart',
  'payment',
  'shipment',
  'coupon',
  'report',
  'session',
];
const APP_VERBS = ['create', 'update', 'load', 'validate', 'apply', 'render', 'sync', 'charge', 'refund'];
const ERRORS: readonly { className: string; message: (random: () => number) => string }[] = [
  { className: 'TypeError', message: () => "Cannot read properties of undefined (reading 'id')" },
  { className: 'Error', message: (random) => `order ${Math.floor(random() * 1e6)} not found` },
  { className: 'RangeError', message: () => 'Invalid time value' },
  { className: 'SequelizeDatabaseError', message: () => 'deadlock detected' },
  {
    className: 'FetchError',
    message: (random) =>
      `request to https://api.stripe.com/v1/charges failed, reason: ETIMEDOUT ${Math.floor(random() * 1e4)}`,
  },
];

/** The frames of one bug: `count` frames, oldest first as Rollbar sends them, app code on top. */
export function nodeFrames(bug: number, count: number, random: () => number = seededRandom(bug)): Frame[] {
  const frames: Frame[] = [];
  for (let index = 0; index < count; index++) {
    const fromApp = index >= count - Math.max(3, Math.floor(count / 2)) || index % 4 === 0;
    if (fromApp) {
      const noun = APP_NOUNS[(bug + index) % APP_NOUNS.length]!;
      const verb = APP_VERBS[(bug * 7 + index) % APP_VERBS.length]!;
      const directory = APP_DIRECTORIES[(bug + index * 3) % APP_DIRECTORIES.length]!;
      const method = `${noun[0]!.toUpperCase()}${noun.slice(1)}Service.${verb}${noun[0]!.toUpperCase()}${noun.slice(1)}${bug}`;
      const lineno = 20 + Math.floor(random() * 400);
      frames.push({
        filename: `/srv/app/dist/${directory}/${noun}-${verb}.js`,
        lineno,
        colno: 5 + Math.floor(random() * 40),
        method,
        code: `    const ${noun} = await this.${noun}Repository.${verb}(input.${noun}Id, { transaction });`,
        context: {
          pre: [`  async ${verb}(input) {`, `    const transaction = await this.db.begin();`],
          post: ['    if (!order) throw new NotFoundError(input);', '    return this.serialize(order);'],
        },
      });
    } else {
      const library = LIBRARY_FRAMES[(bug + index) % LIBRARY_FRAMES.length]!;
      frames.push({
        ...library,
        lineno: 10 + Math.floor(random() * 300),
        colno: 1 + Math.floor(random() * 30),
      });
    }
  }
  return frames;
}

/**
 * One occurrence of bug number `bug`, as rollbar.js sends it from an Express service: 10-20 frames,
 * the request, the server, the notifier, and a person for about a third of them.
 */
export function nodeErrorData(bug: number, random: () => number): ItemData {
  const error = ERRORS[bug % ERRORS.length]!;
  const frameCount = 10 + (bug % 11);
  const noun = APP_NOUNS[bug % APP_NOUNS.length]!;
  const personId = random() < 0.35 ? String(1000 + Math.floor(random() * 200)) : undefined;
  return {
    environment: 'production',
    platform: 'node',
    language: 'javascript',
    framework: 'express',
    level: 'error',
    timestamp: Math.floor(Date.now() / 1000),
    code_version: '4f1c2a9e8b7d6c5b4a3928170605f4e3d2c1b0a9',
    context: `POST /api/v2/${noun}s/:id`,
    body: {
      trace: {
        exception: { class: error.className, message: error.message(random) },
        frames: nodeFrames(bug, frameCount, random),
      },
    },
    request: {
      url: `https://shop.example.com/api/v2/${noun}s/${Math.floor(random() * 1e6)}?include=lines,customer`,
      method: 'POST',
      headers: {
        host: 'shop.example.com',
        'user-agent':
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
        accept: 'application/json',
        'content-type': 'application/json',
        'x-forwarded-for': `203.0.113.${Math.floor(random() * 255)}`,
        'x-request-id': randomUUID(),
      },
      query_string: 'include=lines,customer',
      user_ip: `203.0.113.${Math.floor(random() * 255)}`,
      body: JSON.stringify({ [`${noun}Id`]: Math.floor(random() * 1e6), quantity: 2, currency: 'EUR' }),
    },
    server: {
      host: `ip-10-0-${Math.floor(random() * 16)}-${Math.floor(random() * 255)}.eu-west-1.compute.internal`,
      root: '/srv/app',
      branch: 'main',
      pid: 1000 + Math.floor(random() * 30_000),
      argv: ['/usr/local/bin/node', '/srv/app/dist/server.js'],
    },
    ...(personId
      ? {
          person: { id: personId, username: `customer${personId}`, email: `customer${personId}@example.com` },
        }
      : {}),
    notifier: { name: 'node_rollbar', version: '2.26.4' },
    custom: { tenant: `tenant-${bug % 17}`, region: 'eu-west-1' },
  } as ItemData;
}

/** The ingest queue's message for it, parsed the way the storing worker parses what it receives. */
export function occurrenceMessage(
  projectId: number,
  data: ItemData,
  groupingVersion: GroupingVersion = 1,
): OccurrenceMessage {
  const uuid = randomUUID();
  const message = {
    version: 1,
    project_id: projectId,
    grouping_version: groupingVersion,
    received_at: Date.now(),
    uuid,
    data: { ...data, uuid },
  };
  return occurrenceMessageSchema.parse(JSON.parse(JSON.stringify(message)));
}
