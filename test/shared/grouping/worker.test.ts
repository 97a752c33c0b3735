// The grouping worker against DynamoDB Local: poison messages fail alone, the rest of the batch is stored.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { createGroupingWorker } from '#shared/grouping/worker';
import { DynamoDBOccurrenceWriter } from '#shared/store/occurrence-writer';
import { DynamoDBPayloadCodec } from '#shared/store/payload-codec';
import { DynamoDBProjectRepository } from '#shared/store/projects';
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

describe('grouping worker', () => {
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
    const worker = createGroupingWorker({
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
});
