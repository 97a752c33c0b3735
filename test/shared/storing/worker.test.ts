// The storing worker against DynamoDB Local: poison messages fail alone, the rest of the batch is stored.
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import type { OccurrenceMessage } from '#shared/queue/ingest-queue';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBOccurrenceRepository } from '#shared/store/occurrences';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { prepareOccurrence } from '#shared/storing/occurrence';
import { createStoringWorker, type StoringWorkerOptions } from '#shared/storing/worker';
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
