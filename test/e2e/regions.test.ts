// Several regions, proved by simulation (docs/regions.md): two regions on one machine, home and
// standby, the official rollbar SDK posting to the standby while home is cut off, then home back, or
// home lost for good and the standby promoted. Every accepted occurrence is counted exactly once.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import Rollbar from 'rollbar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '#infra/local/dynamodb-local';
import { type RegionsSimulation, type SimulatedRegion, startRegionsSimulation } from '#infra/local/regions';
import { createDocumentClient } from '#shared/aws/clients';
import type { Scope } from '#shared/projects/access-tokens';
import { createProjectService } from '#shared/projects/service';
import type { RetrySchedule } from '#shared/regions/forwarder';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { STORED_IN_ATTRIBUTE } from '#shared/wiring/regions';
import { credentials } from '../support/emulators';

const HOME = 'us-east-1';
const STANDBY = 'eu-west-1';
/** How long home is cut off in the first scenario, as the issue asks. */
const CUT_MS = 60_000;
/** Occurrences in the promotion scenario, a third in each of its phases. */
const PROMOTION_OCCURRENCES = 600;
/**
 * The forwarders' back-off here: 5 s doubling to 15 s, so after the 60 s cut every waiting message is
 * tried again within 15 s of the return. Deployed, it is 10 s doubling to 5 minutes (docs/regions.md).
 */
const SIMULATION_RETRIES: RetrySchedule = { firstSeconds: 5, longestSeconds: 15 };
/** Posts in flight at once from the SDK. */
const IN_FLIGHT = 100;
/** Distinct errors, so the occurrences make several items. */
const ITEM_TITLES = [
  'checkout total is NaN',
  'cart lost its items',
  'payment timed out',
  'coupon refused',
  'stock went negative',
];

let dynamo: { endpoint: string; stop(): Promise<void> };
let client: DynamoDBClient;

beforeAll(async () => {
  // One DynamoDB Local for both scenarios: each simulation names its tables apart.
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 120_000 });
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: HOME, credentials });
}, 180_000);

afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
});

interface Item {
  id: number;
  title: string;
  total_occurrences: number;
}

/** The `faultline` command, run as an operator runs it. */
async function faultline(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ['bin/faultline.mjs', ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
  });
}

async function api<T>(region: SimulatedRegion, path: string, token: string): Promise<T> {
  const response = await fetch(`${region.url}${path}`, { headers: { 'X-Rollbar-Access-Token': token } });
  const body = (await response.json()) as { err: number; result: T; message?: string };
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body.message}`);
  return body.result;
}

async function items(region: SimulatedRegion, token: string): Promise<Item[]> {
  return (await api<{ items: Item[] }>(region, '/api/1/items?status=active', token)).items;
}

/** Sum of an item's hourly counts over the last day, as its graph shows them. */
async function hourlyTotal(region: SimulatedRegion, itemId: number, token: string): Promise<number> {
  const result = await api<{ counts: Array<{ count: number }> }>(
    region,
    `/api/1/item/${itemId}/counts?granularity=hour`,
    token,
  );
  return result.counts.reduce((sum, bucket) => sum + bucket.count, 0);
}

/** Waits until `condition` holds, checking every 250 ms; fails with what it last saw. */
async function until<T>(
  what: string,
  look: () => Promise<T>,
  condition: (seen: T) => boolean,
  timeoutMs = 240_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let seen = await look();
  while (!condition(seen)) {
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs} ms; last seen ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    seen = await look();
  }
  return seen;
}

/** The occurrence rows a region's table holds, by the region that stored them. */
async function storedOccurrences(region: SimulatedRegion): Promise<Map<string, string>> {
  const stored = new Map<string, string>();
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: region.tableNames.occurrences,
        FilterExpression: 'entity = :occurrence',
        ExpressionAttributeValues: { ':occurrence': { S: 'occurrence' } },
        ProjectionExpression: '#uuid, #stored',
        ExpressionAttributeNames: { '#uuid': 'uuid', '#stored': STORED_IN_ATTRIBUTE },
        ExclusiveStartKey: start,
      }),
    );
    for (const row of page.Items ?? []) stored.set(row.uuid?.S ?? '', row[STORED_IN_ATTRIBUTE]?.S ?? '');
    start = page.LastEvaluatedKey;
  } while (start);
  return stored;
}

/** Messages in a region's ingest queue, visible, in flight or delayed. */
async function queued(region: SimulatedRegion): Promise<number> {
  const sqs = new SQSClient({ endpoint: region.sqsEndpoint, region: region.name, credentials });
  try {
    const { Attributes: attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: region.queueUrls.ingest,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    return Object.values(attributes).reduce((sum, count) => sum + Number(count), 0);
  } finally {
    sqs.destroy();
  }
}

/** A simulation with a project made at home and its tokens replicated to the standby. */
async function simulationWithProject(name: string): Promise<{
  sim: RegionsSimulation;
  tokens: Record<Scope, string>;
  home: SimulatedRegion;
  standby: SimulatedRegion;
}> {
  const sim = await startRegionsSimulation({
    home: HOME,
    standby: STANDBY,
    prefix: name,
    dynamodbEndpoint: dynamo.endpoint,
    // No trigger waits to fill a batch, as the local stack's tests run it.
    maxBatchingWindowSeconds: 0,
    retrySchedule: SIMULATION_RETRIES,
  });
  const projects = createProjectService({
    projects: new DynamoDBProjectRepository(
      createDocumentClient(client),
      sim.regions[HOME]!.tableNames.projects,
    ),
  });
  const { tokens } = await projects.createProject({ name });
  await sim.replicated();
  return { sim, tokens, home: sim.regions[HOME]!, standby: sim.regions[STANDBY]! };
}

/**
 * Reports `count` errors through the official SDK to `region`, spread over the item titles, a few
 * at a time; resolves with the uuids the region accepted, by title.
 */
async function report(
  region: SimulatedRegion,
  token: string,
  count: number,
  tag: string,
): Promise<Map<string, string[]>> {
  const rollbar = new Rollbar({
    accessToken: token,
    endpoint: `${region.url}/api/1/`,
    environment: 'regions',
    captureUncaught: false,
    captureUnhandledRejections: false,
    // The SDK's own limit (60 a minute by default, one limiter for every instance in the process)
    // would drop most of these.
    itemsPerMinute: 100_000,
    maxItems: 0,
  });
  const accepted = new Map<string, string[]>(ITEM_TITLES.map((title) => [title, []]));
  const send = (title: string) =>
    new Promise<void>((resolve, reject) =>
      rollbar.error(`${title}`, { tag }, (error, response) => {
        if (error) reject(error);
        else {
          accepted.get(title)!.push((response as { uuid: string }).uuid);
          resolve();
        }
      }),
    );
  const titles = Array.from({ length: count }, (_, index) => ITEM_TITLES[index % ITEM_TITLES.length]!);
  // Many at once, as a busy fleet of clients posts: the posts land early in the cut.
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < titles.length) await send(titles[next++]!);
    }),
  );
  return accepted;
}

/** What each item counts, by title, with the sum of its hourly counts. */
async function counted(region: SimulatedRegion, token: string) {
  const listed = await items(region, token);
  return Promise.all(
    listed.map(async (item) => ({
      title: item.title,
      total: item.total_occurrences,
      hourly: await hourlyTotal(region, item.id, token),
    })),
  );
}

function totalOf(seen: Item[]): number {
  return seen.reduce((sum, item) => sum + item.total_occurrences, 0);
}

describe('several regions, simulated', () => {
  it.concurrent('home cut off for a minute while the standby accepts 1,000 errors: all counted once when home returns', async () => {
    const { sim, tokens, home, standby } = await simulationWithProject('outage');
    try {
      await sim.cut(HOME);
      const cutAt = Date.now();
      const accepted = await report(standby, tokens.post_server_item, 1000, 'outage');
      const sent = [...accepted.values()].reduce((sum, uuids) => sum + uuids.length, 0);
      expect(sent).toBe(1000);
      // Nothing reached home: the standby keeps what it accepted until home is back.
      expect((await storedOccurrences(standby)).size).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, cutAt + CUT_MS - Date.now())));
      // All of it waits in the standby's queue. A message being re-queued (its copy sent, the original
      // not yet deleted) is counted twice for a moment: duplicates are harmless, as the exact counts
      // after the drain show.
      expect(await queued(standby)).toBeGreaterThanOrEqual(1000);

      await sim.restore(HOME);
      const returnedAt = Date.now();
      // How long the drain takes is a figure (printed below), not the test's claim: on this 2-core
      // machine with other suites running it has measured 82 to 236 s, so the wait is generous.
      await until(
        'every occurrence counted at home',
        () => items(home, tokens.read),
        (seen) => totalOf(seen) >= 1000,
        420_000,
      );
      console.log(
        `drain_after_home_returns_ms=${Date.now() - returnedAt} (forwarders' back-off ${SIMULATION_RETRIES.firstSeconds} s doubling to ${SIMULATION_RETRIES.longestSeconds} s)`,
      );

      // Settled: nothing left to forward or store, replicas agree; then nothing was counted twice.
      await until(
        'queues drained',
        async () => (await queued(standby)) + (await queued(home)),
        (left) => left === 0,
      );
      await sim.replicated();
      const atHome = await counted(home, tokens.read);
      expect(atHome.map(({ title, total, hourly }) => ({ title, total, hourly })).sort(byTitle)).toEqual(
        ITEM_TITLES.map((title) => ({ title, total: 200, hourly: 200 })).sort(byTitle),
      );
      // The standby reads the same counts from its replica, and counted nothing itself.
      expect((await counted(standby, tokens.read)).sort(byTitle)).toEqual(atHome.sort(byTitle));
      const stored = await storedOccurrences(home);
      expect(stored.size).toBe(1000);
      expect(new Set(stored.values())).toEqual(new Set([HOME]));
      expect(new Set(stored.keys())).toEqual(new Set([...accepted.values()].flat()));
    } finally {
      await sim.stop();
    }
  }, 720_000);

  it.concurrent('home lost for good with occurrences stored but not counted and others not forwarded: the promoted standby counts each once', async () => {
    const { sim, tokens, home, standby } = await simulationWithProject('promotion');
    const perPhase = PROMOTION_OCCURRENCES / 3;
    try {
      // Counted at home: their counts reach the standby with the items.
      const countedAtHome = await report(standby, tokens.post_server_item, perPhase, 'counted at home');
      await until(
        'counted at home',
        () => items(home, tokens.read),
        (seen) => totalOf(seen) === perPhase,
      );
      // Stored at home, never counted there: its fold has fallen behind when home is lost.
      await sim.hold(HOME, ['foldOccurrences']);
      const uncounted = await report(standby, tokens.post_server_item, perPhase, 'stored at home');
      await until(
        'stored at home',
        async () => (await storedOccurrences(home)).size,
        (rows) => rows === 2 * perPhase,
      );
      await sim.replicated();
      await sim.cut(HOME);
      // Accepted by the standby after home was lost: they wait in its queue.
      const waiting = await report(standby, tokens.post_server_item, perPhase, 'waiting at the standby');

      // Fails (exit code 1 or 2, a rejection) unless the promotion completed.
      await faultline(
        'region',
        'promote',
        STANDBY,
        '--yes',
        '--regions',
        `${HOME},${STANDBY}`,
        '--home',
        HOME,
        '--standby',
        STANDBY,
        '--projects-table',
        standby.tableNames.projects,
        '--items-table',
        standby.tableNames.items,
        '--occurrences-table',
        standby.tableNames.occurrences,
        '--endpoint',
        dynamo.endpoint,
      );

      await until(
        'every occurrence that reached the standby counted there',
        () => items(standby, tokens.read),
        (seen) => totalOf(seen) >= PROMOTION_OCCURRENCES,
      );
      await until(
        'standby queue drained',
        () => queued(standby),
        (left) => left === 0,
      );
      const each = PROMOTION_OCCURRENCES / ITEM_TITLES.length;
      expect((await counted(standby, tokens.read)).sort(byTitle)).toEqual(
        ITEM_TITLES.map((title) => ({ title, total: each, hourly: each })).sort(byTitle),
      );
      const stored = await storedOccurrences(standby);
      const uuids = (phase: Map<string, string[]>) => [...phase.values()].flat();
      expect(new Set(stored.keys())).toEqual(
        new Set([...uuids(countedAtHome), ...uuids(uncounted), ...uuids(waiting)]),
      );
      // What home stored is counted once; what waited is stored by the standby, once.
      for (const uuid of [...uuids(countedAtHome), ...uuids(uncounted)]) expect(stored.get(uuid)).toBe(HOME);
      for (const uuid of uuids(waiting)) expect(stored.get(uuid)).toBe(STANDBY);
    } finally {
      await sim.stop();
    }
  }, 600_000);
});

function byTitle(a: { title: string }, b: { title: string }): number {
  return a.title < b.title ? -1 : a.title > b.title ? 1 : 0;
}
