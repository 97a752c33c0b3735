// The storing worker against DynamoDB Local: poison messages fail alone, the rest of the batch is stored.
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { createQueuedDeployRecorder } from '#shared/ingest/deploy-ingest';
import type { OccurrenceMessage, QueuedDeployMessage } from '#shared/queue/ingest-queue';
import type { Forwarder, ReceivedMessage } from '#shared/regions/forwarder';
import { type Home, initialHome } from '#shared/regions/home';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { prepareOccurrence } from '#shared/storing/occurrence';
import {
  createRegionalStoringWorker,
  createStoringWorker,
  type StoringWorkerOptions,
} from '#shared/storing/worker';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';
import { errorData } from '../../support/occurrences';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('worker');
  documents = createDocumentClient(dynamo.client);
});

afterAll(async () => {
  await dynamo?.stop();
});

/** DynamoDB refusing, for good, every write that stores this uuid (a fault at the AWS boundary). */
function refusing(uuid: string): DynamoDBDocumentClient {
  return new Proxy(documents, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: { constructor: { name: string }; input: unknown }) => {
        if (command.constructor.name === 'PutCommand' && JSON.stringify(command.input).includes(uuid)) {
          throw Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
            name: 'ValidationException',
          });
        }
        return target.send(command as never);
      };
    },
  });
}

function message(projectId: number, uuid: string, className: string) {
  return {
    messageId: `m-${uuid}`,
    body: JSON.stringify({
      version: 1,
      project_id: projectId,
      grouping_version: 2,
      received_at: Date.now(),
      uuid,
      data: errorData({ className, uuid }),
    }),
  };
}

/**
 * A queued occurrence that cannot be prepared: its `custom` is nested 100,000 deep, which JSON.parse
 * reads but JSON.stringify cannot write back (its stack overflows), so truncating its payload throws.
 */
function unpreparable(projectId: number, uuid: string) {
  const depth = 100_000;
  const envelope = JSON.stringify({
    version: 1,
    project_id: projectId,
    grouping_version: 2,
    received_at: Date.now(),
    uuid,
    data: errorData({ className: 'DeeplyNested', uuid, custom: { deep: 0 } as never }),
  });
  return {
    messageId: `m-${uuid}`,
    body: envelope.replace('{"deep":0}', `{"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`),
  };
}

async function newProject(name: string): Promise<number> {
  const projects = new DynamoDBProjectRepository(documents, dynamo.tableNames.projects);
  const { projectId } = await projects.createProject({ name, groupingVersion: 2, now: Date.now() });
  return projectId;
}

function storing(options: Omit<StoringWorkerOptions, 'writer'> = {}) {
  const codec = new DynamoDBPayloadCodec(documents, dynamo.tableNames.occurrences);
  return {
    worker: createStoringWorker({
      writer: new DynamoDBOccurrenceWriter(documents, dynamo.tableNames.occurrences, codec),
      ...options,
    }),
    occurrences: new DynamoDBOccurrenceRepository(documents, dynamo.tableNames.occurrences, codec),
  };
}

describe('storing worker', () => {
  it('fails only the unreadable message and the one DynamoDB refuses; stores the rest once', async () => {
    const projects = new DynamoDBProjectRepository(documents, dynamo.tableNames.projects);
    const { projectId } = await projects.createProject({
      name: 'worker',
      groupingVersion: 2,
      now: Date.now(),
    });
    const poisoned = crypto.randomUUID();
    const batch = [
      ...Array.from({ length: 4 }, (_, index) => message(projectId, crypto.randomUUID(), `Good${index}`)),
      message(projectId, poisoned, 'Refused'),
      { messageId: 'm-unreadable', body: '{"version": 1, "project_id": "not a number"}' },
    ];
    const client = refusing(poisoned);
    const worker = createStoringWorker({
      writer: new DynamoDBOccurrenceWriter(
        client,
        dynamo.tableNames.occurrences,
        new DynamoDBPayloadCodec(client, dynamo.tableNames.occurrences),
      ),
    });

    const result = await worker(batch);
    expect(result.failedMessageIds.sort()).toEqual([`m-${poisoned}`, 'm-unreadable'].sort());
    expect(result).toMatchObject({ stored: 4, duplicates: 0 });

    // Delivered again, the good ones change nothing.
    const again = await worker(batch.slice(0, 4));
    expect(again).toMatchObject({ failedMessageIds: [], stored: 0, duplicates: 4 });
  });

  it('stores an occurrence whose preparation fails, with the fallback fingerprint, beside 10 valid ones', async () => {
    const projectId = await newProject('worker-poison');
    const poison = crypto.randomUUID();
    const valid = Array.from({ length: 10 }, (_, index) =>
      message(projectId, crypto.randomUUID(), `Valid${index}`),
    );
    const batch = [...valid.slice(0, 5), message(projectId, poison, 'Poison'), ...valid.slice(5)];
    // The real preparation, failing for one occurrence the way a normalizer's bug would.
    const prepare = (queued: OccurrenceMessage) => {
      if (queued.uuid === poison) throw new RangeError('Maximum call stack size exceeded');
      return prepareOccurrence(queued);
    };
    const { worker, occurrences } = storing({ prepare });

    expect(await worker(batch)).toEqual({ failedMessageIds: [], stored: 11, duplicates: 0 });
    expect(await worker(batch)).toEqual({ failedMessageIds: [], stored: 0, duplicates: 11 });

    const stored = await occurrences.get(projectId, poison);
    expect(stored?.data).toMatchObject({
      environment: 'production',
      _grouping_fallback: 'preparing it failed: RangeError',
    });
    const row = await documents.send(
      new GetCommand({
        TableName: dynamo.tableNames.occurrences,
        Key: { PK: `OCC#${projectId}#${poison}`, SK: 'OCC' },
      }),
    );
    expect(row.Item).toMatchObject({
      grouping_method: 'fallback',
      title: 'Poison: x is not a function',
    });
  });

  it('stores an occurrence nested 100,000 levels deep, cut, with its usual fingerprint', async () => {
    const projectId = await newProject('worker-deep');
    const deep = crypto.randomUUID();
    const { worker, occurrences } = storing();

    expect(await worker([unpreparable(projectId, deep)])).toEqual({
      failedMessageIds: [],
      stored: 1,
      duplicates: 0,
    });
    const stored = await occurrences.get(projectId, deep);
    expect(stored?.data).toMatchObject({ environment: 'production', _truncated: true });
    const row = await documents.send(
      new GetCommand({
        TableName: dynamo.tableNames.occurrences,
        Key: { PK: `OCC#${projectId}#${deep}`, SK: 'OCC' },
      }),
    );
    expect(row.Item).toMatchObject({ grouping_method: 'trace', title: 'DeeplyNested: x is not a function' });
  });

  it('once the batch has spent its preparation budget, the rest are stored with the fallback fingerprint', async () => {
    const projectId = await newProject('worker-budget');
    const uuids = Array.from({ length: 4 }, () => crypto.randomUUID());
    // A clock one second further on each time it is read: the first occurrence takes a second to prepare.
    let clock = 0;
    const { worker } = storing({ preparationBudgetMs: 2_500, now: () => (clock += 1_000) });

    const result = await worker(uuids.map((uuid, index) => message(projectId, uuid, `Slow${index}`)));
    expect(result).toEqual({ failedMessageIds: [], stored: 4, duplicates: 0 });
    const methods = [];
    for (const uuid of uuids) {
      const row = await documents.send(
        new GetCommand({
          TableName: dynamo.tableNames.occurrences,
          Key: { PK: `OCC#${projectId}#${uuid}`, SK: 'OCC' },
        }),
      );
      methods.push(row.Item?.grouping_method);
    }
    expect(methods).toEqual(['trace', 'fallback', 'fallback', 'fallback']);
  });
});

/** A forwarder that keeps what it is given (the real one is tested against two queues). */
function keepingForwarder() {
  const forwarded: Array<{ to: string; bodies: string[] }> = [];
  const held: string[] = [];
  const forwarder: Forwarder = {
    async forward(messages, to) {
      forwarded.push({ to, bodies: messages.map((message) => message.body) });
      return { forwarded: messages.length, failedMessageIds: [] };
    },
    async holdBack(messages) {
      held.push(...messages.map((message) => message.messageId));
      return { forwarded: 0, failedMessageIds: messages.map((message) => message.messageId) };
    },
  };
  return { forwarder, forwarded, held };
}

function received(message: { messageId: string; body: string }): ReceivedMessage {
  return { ...message, attributes: {}, receiveCount: 1 };
}

describe('storing worker in several regions', () => {
  function regional(self: string, home: Home) {
    const codec = new DynamoDBPayloadCodec(documents, dynamo.tableNames.occurrences);
    const store = createStoringWorker({
      writer: new DynamoDBOccurrenceWriter(documents, dynamo.tableNames.occurrences, codec, self),
    });
    const keeping = keepingForwarder();
    return {
      ...keeping,
      worker: createRegionalStoringWorker(store, {
        self,
        home: { current: async () => home },
        forwarder: keeping.forwarder,
      }),
    };
  }

  async function row(projectId: number, uuid: string) {
    const result = await documents.send(
      new GetCommand({
        TableName: dynamo.tableNames.occurrences,
        Key: { PK: `OCC#${projectId}#${uuid}`, SK: 'OCC' },
      }),
    );
    return result.Item;
  }

  it('at home, stores each occurrence with the region that stored it', async () => {
    const projectId = await newProject('regions-home');
    const uuid = crypto.randomUUID();
    const { worker, forwarded } = regional('us-east-1', initialHome('us-east-1'));

    expect(await worker([received(message(projectId, uuid, 'AtHome'))])).toMatchObject({ stored: 1 });
    expect((await row(projectId, uuid))?.stored_in).toBe('us-east-1');
    expect(forwarded).toEqual([]);
  });

  it('in a standby, forwards the batch to the home region and stores nothing', async () => {
    const projectId = await newProject('regions-standby');
    const uuid = crypto.randomUUID();
    const { worker, forwarded } = regional('eu-west-1', initialHome('us-east-1'));
    const batch = [received(message(projectId, uuid, 'AtStandby'))];

    expect(await worker(batch)).toEqual({ failedMessageIds: [], stored: 0, duplicates: 0, forwarded: 1 });
    expect(forwarded).toEqual([{ to: 'us-east-1', bodies: [batch[0]!.body] }]);
    expect(await row(projectId, uuid)).toBeUndefined();
  });

  it('while a promotion toward its region is under way, holds the batch in its queue', async () => {
    const projectId = await newProject('regions-promoting');
    const uuid = crypto.randomUUID();
    const promoting: Home = { region: 'eu-west-1', epoch: 1, state: 'promoting', promotedAt: Date.now() };
    const { worker, held, forwarded } = regional('eu-west-1', promoting);

    const result = await worker([received(message(projectId, uuid, 'WhilePromoting'))]);
    expect(result.failedMessageIds).toEqual([`m-${uuid}`]);
    expect(held).toEqual([`m-${uuid}`]);
    expect(forwarded).toEqual([]);
    expect(await row(projectId, uuid)).toBeUndefined();
  });

  it('records a deploy posted to an edge once, however often its message comes, and its new status', async () => {
    const projects = new DynamoDBProjectRepository(documents, dynamo.tableNames.projects);
    const projectId = await newProject('regions-deploys');
    const deploys = new DynamoDBDeployRepository(documents, dynamo.tableNames.items);
    const codec = new DynamoDBPayloadCodec(documents, dynamo.tableNames.occurrences);
    const worker = createStoringWorker({
      writer: new DynamoDBOccurrenceWriter(documents, dynamo.tableNames.occurrences, codec, 'us-east-1'),
      deploys: createQueuedDeployRecorder({ projectRepository: projects, deploys }),
    });
    const receivedAt = Date.UTC(2026, 10, 30, 12, 0, 0);
    const deploy: QueuedDeployMessage = {
      version: 1,
      kind: 'deploy',
      uuid: crypto.randomUUID(),
      project_id: projectId,
      received_at: receivedAt,
      deploy: {
        environment: 'production',
        revision: 'abc123',
        local_username: 'ci',
        rollbar_username: null,
        comment: null,
        status: 'started',
      },
    };
    const occurrenceUuid = crypto.randomUUID();
    const batch = [
      { messageId: 'm-deploy', body: JSON.stringify(deploy) },
      message(projectId, occurrenceUuid, 'BesideADeploy'),
    ];

    expect(await worker(batch)).toMatchObject({ failedMessageIds: [], stored: 1, deploys: 1 });
    // Delivered again: the deploy is found recorded, the occurrence found stored.
    expect(await worker(batch)).toMatchObject({ failedMessageIds: [], stored: 0, duplicates: 1, deploys: 1 });
    const listed = await deploys.list(projectId, { limit: 10, page: 1 });
    expect(listed).toEqual([
      {
        id: 1,
        project_id: projectId,
        environment: 'production',
        revision: 'abc123',
        local_username: 'ci',
        rollbar_username: null,
        comment: null,
        status: 'started',
        start_time: receivedAt / 1000,
        finish_time: null,
      },
    ]);

    const status: QueuedDeployMessage = {
      version: 1,
      kind: 'deploy_status',
      project_id: projectId,
      deploy_id: 1,
      status: 'succeeded',
      received_at: receivedAt + 60_000,
    };
    expect(await worker([{ messageId: 'm-status', body: JSON.stringify(status) }])).toMatchObject({
      failedMessageIds: [],
      deploys: 1,
    });
    expect(await deploys.get(projectId, 1)).toMatchObject({
      status: 'succeeded',
      finish_time: receivedAt / 1000 + 60,
    });
  });

  it('fails a deploy message where no deploys are recorded, and an unreadable one, until the dead-letter queue', async () => {
    const { worker } = storing();
    const result = await worker([
      {
        messageId: 'm-unexpected',
        body: JSON.stringify({
          version: 1,
          kind: 'deploy_status',
          project_id: 1,
          deploy_id: 1,
          status: 'failed',
          received_at: 0,
        }),
      },
      { messageId: 'm-unknown-kind', body: JSON.stringify({ version: 1, kind: 'release' }) },
    ]);
    expect(result.failedMessageIds.sort()).toEqual(['m-unexpected', 'm-unknown-kind']);
  });
});
