// The project service against DynamoDB Local: names, revocation, and the per-container token cache.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { AccessDeniedError } from '#shared/errors';
import { createItemIngest } from '#shared/ingest/item-ingest';
import { generateAccessToken, hashAccessToken } from '#shared/projects/access-tokens';
import {
  AccessTokenNotFoundError,
  AmbiguousAccessTokenError,
  InvalidProjectNameError,
  InvalidRateLimitError,
} from '#shared/projects/errors';
import { createProjectService, type ProjectServiceDeps } from '#shared/projects/service';
import { SqsOccurrenceQueue } from '#shared/queue/ingest-queue';
import { createRateLimiter } from '#shared/rate-limits/limiter';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { DynamoDBRateLimitCounter } from '#shared/store/rate-limit-counter';
import { type Dynamo, type Queues, startDynamoWithTables, startQueues } from '../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences' | 'rateLimits', string> };
let documents: DynamoDBDocumentClient;
let queues: Queues;

beforeAll(async () => {
  [dynamo, queues] = await Promise.all([
    startDynamoWithTables('service'),
    startQueues({ prefix: 'service' }),
  ]);
  documents = createDocumentClient(dynamo.client);
});

afterAll(async () => {
  await Promise.all([dynamo?.stop(), queues?.stop()]);
});

/** The DynamoDB client as it is, counting the reads that reach it. */
function countingReads() {
  const counter = { reads: 0 };
  const client = new Proxy(documents, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (command: { constructor: { name: string } }) => {
        if (command.constructor.name === 'GetCommand') counter.reads++;
        return target.send(command as never);
      };
    },
  });
  return { client, counter };
}

/** A container's project service, with its own clock and cache. */
function container(options: Omit<ProjectServiceDeps, 'projects'> = {}, client = documents) {
  return createProjectService({
    projects: new DynamoDBProjectRepository(client, dynamo.tableNames.projects),
    ...options,
  });
}

const clock = (start = Date.UTC(2026, 10, 23)) => {
  const time = { now: start };
  return { time, now: () => time.now };
};

describe('project names', () => {
  it.each([['bad name!'], ['Shop'], ['-leading-dash'], [''], ['x'.repeat(65)], ['shop/../admin']])(
    'refuses %j with a message that says what a name may be, and takes no id',
    async (name) => {
      const service = container();
      const before = (await service.listProjects()).length;
      const refusal = service.createProject({ name });
      await expect(refusal).rejects.toBeInstanceOf(InvalidProjectNameError);
      await expect(refusal).rejects.toThrow(/^invalid project name .*: use 1 to 64 lowercase letters/);
      expect(await service.listProjects()).toHaveLength(before);
    },
  );

  it.each([['shop'], ['my-app.web_2'], ['0'], ['x'.repeat(64)]])('accepts %j', async (name) => {
    await expect(container().createProject({ name })).resolves.toMatchObject({ project: { name } });
  });
});

describe('revoking access tokens', () => {
  it('a revoked token is refused by ingest (403) once the cache time has passed', async () => {
    const { time, now } = clock();
    const ingestContainer = container({ now, tokenCacheMs: 60_000 });
    const { tokens } = await container().createProject({ name: 'leaky' });
    const acceptItem = createItemIngest({
      projects: ingestContainer,
      rateLimiter: createRateLimiter({
        counter: new DynamoDBRateLimitCounter(documents, dynamo.tableNames.rateLimits),
      }),
      queue: new SqsOccurrenceQueue(queues.client, queues.queues.ingest.url),
    });
    const post = () =>
      acceptItem({
        token: tokens.post_server_item,
        body: { data: { environment: 'production', body: { message: { body: 'hi' } } } },
      });
    await expect(post()).resolves.toMatchObject({ uuid: expect.any(String) });

    // Revoked elsewhere (the CLI): this warm container trusts its cached lookup for the documented time.
    await container().revokeAccessToken('leaky', 'post_server_item');
    time.now += 59_999;
    await expect(post()).resolves.toMatchObject({ uuid: expect.any(String) });
    time.now += 1;
    const refused = post();
    await expect(refused).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(refused).rejects.toMatchObject({ statusCode: 403, message: 'invalid access token' });
    // A cold container refuses it at once.
    await expect(container().authorize(tokens.post_server_item, ['post_server_item'])).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
  });

  it('the container that revokes a token refuses it at once', async () => {
    const service = container();
    const { tokens } = await service.createProject({ name: 'revoked-here' });
    await service.authorize(tokens.read, ['read']);
    await service.revokeAccessToken('revoked-here', 'read');
    await expect(service.authorize(tokens.read, ['read'])).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('revokes a token by a prefix of its hash, and refuses a name or prefix that several tokens answer to', async () => {
    const service = container();
    const { project, tokens } = await service.createProject({ name: 'prefixed' });
    const first = await service.createAccessToken(project.projectId, ['read'], 'ci');
    await service.createAccessToken(project.projectId, ['read'], 'ci');

    const ambiguous = service.revokeAccessToken('prefixed', 'ci');
    await expect(ambiguous).rejects.toBeInstanceOf(AmbiguousAccessTokenError);
    await expect(ambiguous).rejects.toThrow(/^2 tokens of project prefixed match ci \(/);
    expect(await service.listAccessTokens(project.projectId)).toHaveLength(6);

    const revoked = await service.revokeAccessToken(
      'prefixed',
      hashAccessToken(first).slice(0, 10).toUpperCase(),
    );
    expect(revoked).toMatchObject({ name: 'ci', tokenHash: hashAccessToken(first) });
    await expect(service.authorize(first, ['read'])).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(service.authorize(tokens.write, ['write'])).resolves.toBeDefined();
    expect(await service.listAccessTokens(project.projectId)).toHaveLength(5);
  });

  it('refuses a token it cannot find, and a hash prefix too short to be safe', async () => {
    const service = container();
    const { tokens } = await service.createProject({ name: 'unfound' });
    await expect(service.revokeAccessToken('unfound', 'deploy-bot')).rejects.toBeInstanceOf(
      AccessTokenNotFoundError,
    );
    await expect(
      service.revokeAccessToken('unfound', hashAccessToken(tokens.read).slice(0, 3)),
    ).rejects.toThrow(AccessTokenNotFoundError);
    expect(await service.listAccessTokens((await service.projectNamed('unfound')).projectId)).toHaveLength(4);
  });
});

describe('the token cache of a container', () => {
  it('remembers an unknown token for a few seconds only: one read per token meanwhile', async () => {
    const { time, now } = clock();
    const { client, counter } = countingReads();
    const service = container({ now, unknownTokenCacheMs: 5_000 }, client);
    const random = generateAccessToken();
    for (let attempt = 0; attempt < 20; attempt++) {
      await expect(service.authorize(random, ['read'])).rejects.toBeInstanceOf(AccessDeniedError);
    }
    expect(counter.reads).toBe(1);
    time.now += 5_000;
    await expect(service.authorize(random, ['read'])).rejects.toBeInstanceOf(AccessDeniedError);
    expect(counter.reads).toBe(2);
  });

  it('keeps a bounded number of unknown tokens: a flood of random ones pushes the oldest out', async () => {
    const { now } = clock();
    const { client, counter } = countingReads();
    const service = container({ now, unknownTokenCacheSize: 3 }, client);
    const flood = Array.from({ length: 4 }, () => generateAccessToken());
    for (const token of flood) await expect(service.authorize(token, ['read'])).rejects.toThrow();
    expect(counter.reads).toBe(4);
    // The three newest are still remembered; the first was pushed out and is read again.
    for (const token of flood.slice(1)) await expect(service.authorize(token, ['read'])).rejects.toThrow();
    expect(counter.reads).toBe(4);
    await expect(service.authorize(flood[0], ['read'])).rejects.toThrow();
    expect(counter.reads).toBe(5);
  });

  it('keeps a bounded number of known tokens, forgetting the least recently used first', async () => {
    const { client, counter } = countingReads();
    const { project } = await container().createProject({ name: 'busy' });
    const tokens = await Promise.all(
      [1, 2, 3].map((n) => container().createAccessToken(project.projectId, ['read'], `reader-${n}`)),
    );
    const [a, b, c] = tokens as [string, string, string];
    const service = container({ tokenCacheSize: 2 }, client);
    await service.authorize(a, ['read']);
    await service.authorize(b, ['read']);
    await service.authorize(a, ['read']); // a is now the most recently used
    await service.authorize(c, ['read']); // pushes b out
    const readsSoFar = counter.reads;
    await service.authorize(a, ['read']);
    await service.authorize(c, ['read']);
    expect(counter.reads).toBe(readsSoFar);
    await service.authorize(b, ['read']);
    expect(counter.reads).toBeGreaterThan(readsSoFar);
  });

  it('makes one lookup for many concurrent requests with the same token', async () => {
    const { tokens } = await container().createProject({ name: 'concurrent' });
    const { client, counter } = countingReads();
    const service = container({}, client);
    const results = await Promise.all(
      Array.from({ length: 25 }, () => service.authorize(tokens.post_client_item, ['post_client_item'])),
    );
    expect(results.every((result) => result.project.name === 'concurrent')).toBe(true);
    // One read of the token, one of its project.
    expect(counter.reads).toBe(2);
  });
});

describe('rate limits', () => {
  it('a token’s own limit wins over its project’s, which wins over the default; 0 removes one', async () => {
    const admin = container();
    const { tokens } = await admin.createProject({ name: 'metered' });
    const limitOf = async (token: string) =>
      (await container().authorize(token, ['post_server_item', 'read'])).rateLimitPerMinute;
    expect(await limitOf(tokens.read)).toBe(5000);
    await admin.setProjectRateLimit('metered', 300);
    await admin.setAccessTokenRateLimit('metered', 'post_server_item', 20);
    expect(await limitOf(tokens.read)).toBe(300);
    expect(await limitOf(tokens.post_server_item)).toBe(20);
    await admin.setAccessTokenRateLimit('metered', 'post_server_item', 0);
    expect(await limitOf(tokens.post_server_item)).toBe(300);
    await admin.setProjectRateLimit('metered', undefined);
    expect(await limitOf(tokens.post_server_item)).toBe(5000);
  });

  it.each([[-1], [1.5], [1_000_001]])('refuses a limit of %j and changes nothing', async (limit) => {
    const admin = container();
    const name = `refused-limit-${String(limit).replace('.', '-')}`;
    await admin.createProject({ name });
    await expect(admin.setProjectRateLimit(name, limit)).rejects.toBeInstanceOf(InvalidRateLimitError);
    await expect(admin.setAccessTokenRateLimit(name, 'read', limit)).rejects.toBeInstanceOf(
      InvalidRateLimitError,
    );
    expect((await admin.projectNamed(name)).rateLimitPerMinute).toBeUndefined();
  });
});
