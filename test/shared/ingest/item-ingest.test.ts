// Accepting a Rollbar item, with projects in DynamoDB Local: who may post, what the queued message
// holds, and that what is refused queues nothing. The queue here is a second implementation that
// reads each message back as the worker would; test/shared/queue holds the SQS one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import {
  AccessDeniedError,
  MissingTokenError,
  RateLimitExceededError,
  ValidationError,
} from '#shared/errors';
import { createItemIngest } from '#shared/ingest/item-ingest';
import type { Scope } from '#shared/projects/access-tokens';
import type { ProjectService } from '#shared/projects/service';
import {
  MAX_MESSAGE_BYTES,
  type OccurrenceMessage,
  type OccurrenceQueue,
  occurrenceMessageBody,
  occurrenceMessageSchema,
} from '#shared/queue/ingest-queue';
import { createRateLimiter } from '#shared/rate-limits/limiter';
import { DynamoDBRateLimitCounter } from '#shared/store/rate-limit-counter';
import { type Dynamo, projectServiceOn, startDynamoWithTables } from '../../support/emulators';

/**
 * The queue as the storing worker will read it: each message parsed by the worker's schema, and
 * refused past SQS's size, as SQS refuses it.
 */
class ReadBackQueue implements OccurrenceQueue {
  readonly messages: OccurrenceMessage[] = [];
  async send(message: OccurrenceMessage): Promise<void> {
    const body = occurrenceMessageBody(message);
    if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) throw new Error('message too long for SQS');
    this.messages.push(occurrenceMessageSchema.parse(JSON.parse(body)));
  }
}

const RECEIVED_AT = Date.UTC(2026, 10, 30, 9, 0, 0);

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences' | 'rateLimits', string> };
let projects: ProjectService;
let tokens: Record<Scope, string>;
let projectId: number;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('item-ingest');
  projects = projectServiceOn(dynamo);
  const created = await projects.createProject({ name: 'shop', groupingVersion: 1 });
  tokens = created.tokens;
  projectId = created.project.projectId;
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A container's limiter on the shared counter, at the test's clock. */
const rateLimiter = () =>
  createRateLimiter({
    counter: new DynamoDBRateLimitCounter(createDocumentClient(dynamo.client), dynamo.tableNames.rateLimits),
    now: () => RECEIVED_AT,
  });

function ingest() {
  const queue = new ReadBackQueue();
  return {
    queue,
    acceptItem: createItemIngest({ projects, rateLimiter: rateLimiter(), queue, now: () => RECEIVED_AT }),
  };
}

const item = (data: Record<string, unknown> = {}) => ({
  data: { environment: 'production', body: { message: { body: 'Hello' } }, ...data },
});

describe('an item posted with a post token', () => {
  it('is queued once with its project, grouping version, time received and a new uuid', async () => {
    const { queue, acceptItem } = ingest();
    const accepted = await acceptItem({ token: tokens.post_server_item, body: item() });
    expect(accepted).toEqual({
      projectId,
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      rateLimit: expect.objectContaining({ admitted: true, limit: 5000 }),
    });
    expect(queue.messages).toEqual([
      {
        version: 1,
        project_id: projectId,
        grouping_version: 1,
        received_at: RECEIVED_AT,
        uuid: accepted.uuid,
        data: { ...item().data, uuid: accepted.uuid },
      },
    ]);
  });

  it('from a browser SDK’s client token is accepted as a server token is', async () => {
    const { queue, acceptItem } = ingest();
    await acceptItem({ token: tokens.post_client_item, body: item() });
    expect(queue.messages).toHaveLength(1);
  });

  it('keeps the client’s uuid in one spelling, so a retried post is the same occurrence', async () => {
    const { queue, acceptItem } = ingest();
    const uuid = '0b5cfa1c-6e4d-4d3a-9b8e-2f1a3c4d5e6f';
    const spellings = [uuid, uuid.toUpperCase(), uuid.replaceAll('-', '')];
    for (const spelling of spellings) {
      expect(
        await acceptItem({ token: tokens.post_server_item, body: item({ uuid: spelling }) }),
      ).toMatchObject({
        projectId,
        uuid,
      });
    }
    expect(queue.messages.map((message) => [message.uuid, message.data.uuid])).toEqual(
      spellings.map(() => [uuid, uuid]),
    );
  });

  it('records in data._faultline what was changed to read it, and why', async () => {
    const { queue, acceptItem } = ingest();
    await acceptItem({
      token: tokens.post_server_item,
      body: item({ fingerprint: 'f'.repeat(41), level: 7 }),
    });
    const [message] = queue.messages;
    expect(message!.data.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(message!.data.level).toBeUndefined();
    expect(message!.data._faultline).toEqual({
      changes: expect.arrayContaining([
        {
          field: 'data.fingerprint',
          action: 'hashed',
          reason: 'longer than 40 characters: its SHA-1 is used',
        },
        expect.objectContaining({ field: 'data.level', action: 'dropped' }),
      ]),
    });
  });

  it.each([
    ['its body', (numbers: number[]) => item({ body: { message: { body: 'Hello', numbers } } })],
    ['custom data', (numbers: number[]) => item({ custom: { numbers } })],
  ])(
    'that serializes past what SQS carries, by %s, is truncated to fit, and says so',
    async (_case, posted) => {
      const { queue, acceptItem } = ingest();
      // Within 512 KiB as posted; each 1e20 is written out as 21 digits once serialized.
      const numbers = Array.from({ length: 100_000 }, () => 1e20);
      const { uuid } = await acceptItem({ token: tokens.post_server_item, body: posted(numbers) });
      const [message] = queue.messages;
      expect(Buffer.byteLength(occurrenceMessageBody(message!))).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect((message!.data._faultline as { changes: unknown[] }).changes).toContainEqual(
        expect.objectContaining({ field: 'data', action: 'truncated' }),
      );
      expect(message!.data).toMatchObject({ environment: 'production', uuid, _truncated: true });
      expect((message!.data.body as { message: { body: string } }).message.body).toBe('Hello');
    },
  );
});

describe('an item that is refused', () => {
  it.each([
    ['without a token', undefined, MissingTokenError, 403],
    ['with a read token', 'read', AccessDeniedError, 403],
    ['with a write token', 'write', AccessDeniedError, 403],
    ['with an unknown token', 'unknown', AccessDeniedError, 403],
  ] as const)('%s is refused with a %s and queues nothing', async (_case, scope, refusal, statusCode) => {
    const { queue, acceptItem } = ingest();
    const token = scope === undefined ? undefined : scope === 'unknown' ? 'a'.repeat(32) : tokens[scope];
    const accepting = acceptItem({ token, body: item() });
    await expect(accepting).rejects.toBeInstanceOf(refusal);
    await expect(accepting).rejects.toMatchObject({ statusCode });
    expect(queue.messages).toEqual([]);
  });

  it.each([
    ['no data', { payload: {} }],
    ['no environment', { data: { body: { message: { body: 'x' } } } }],
    ['no body of a known kind', { data: { environment: 'production', body: { telemetry: [] } } }],
  ])('with %s is refused with a 422 in Rollbar’s words, and queues nothing', async (_case, body) => {
    const { queue, acceptItem } = ingest();
    const accepting = acceptItem({ token: tokens.post_server_item, body });
    await expect(accepting).rejects.toBeInstanceOf(ValidationError);
    await expect(accepting).rejects.toThrow(/^Invalid format\. /);
    expect(queue.messages).toEqual([]);
  });

  it('past its token’s rate limit is refused with a 429, and queues nothing', async () => {
    const limited = await projects.createProject({ name: 'limited-too' });
    await projects.setAccessTokenRateLimit('limited-too', 'post_server_item', 2);
    const { queue, acceptItem } = ingest();
    const post = () => acceptItem({ token: limited.tokens.post_server_item, body: item() });
    expect((await post()).rateLimit).toMatchObject({ limit: 2, remaining: 1 });
    expect((await post()).rateLimit).toMatchObject({ limit: 2, remaining: 0 });
    await expect(post()).rejects.toBeInstanceOf(RateLimitExceededError);
    expect(queue.messages).toHaveLength(2);
  });

  it('by the queue fails the post, so the client is not told it was kept', async () => {
    const failing = createItemIngest({
      projects,
      rateLimiter: rateLimiter(),
      queue: { send: () => Promise.reject(new Error('AWS.SimpleQueueService.NonExistentQueue')) },
    });
    await expect(failing({ token: tokens.post_server_item, body: item() })).rejects.toThrow(
      'NonExistentQueue',
    );
  });
});
