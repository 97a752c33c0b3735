// The deploys repository against DynamoDB Local: each deploy once, listed newest first page by page
// within its project, and a status change only to a deploy that exists.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { type Deploy, DynamoDBDeployRepository } from '#shared/store/deploys';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let deploys: DynamoDBDeployRepository;
let nextProject = 1;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('deploys');
  deploys = new DynamoDBDeployRepository(createDocumentClient(dynamo.client), dynamo.tableNames.items);
});

afterAll(async () => {
  await dynamo?.stop();
});

const deploy = (projectId: number, id: number, fields: Partial<Deploy> = {}): Deploy => ({
  id,
  project_id: projectId,
  environment: 'production',
  revision: `rev-${id}`,
  local_username: null,
  rollbar_username: null,
  comment: null,
  status: 'succeeded',
  start_time: 1_795_000_000 + id,
  finish_time: 1_795_000_000 + id,
  ...fields,
});

describe('deploys', () => {
  it('are read back as stored, none of another project', async () => {
    const projectId = nextProject++;
    const stored = deploy(projectId, 1, {
      local_username: 'ada',
      comment: 'v1.2',
      status: 'started',
      finish_time: null,
    });
    await deploys.put(stored);
    expect(await deploys.get(projectId, 1)).toEqual(stored);
    expect(await deploys.get(projectId, 2)).toBeUndefined();
    expect(await deploys.get(projectId + 1000, 1)).toBeUndefined();
  });

  it('are stored once: a second deploy with the same number is refused and the first kept', async () => {
    const projectId = nextProject++;
    await deploys.put(deploy(projectId, 1));
    await expect(deploys.put(deploy(projectId, 1, { revision: 'other' }))).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
    expect((await deploys.get(projectId, 1))?.revision).toBe('rev-1');
  });

  it('are listed newest first, page by page, past deploy 9 and 10 in number order', async () => {
    const projectId = nextProject++;
    await Promise.all(Array.from({ length: 12 }, (_, index) => deploys.put(deploy(projectId, index + 1))));
    await deploys.put(deploy(projectId + 1000, 13));
    const ids = async (page: number) => (await deploys.list(projectId, { limit: 5, page })).map((d) => d.id);
    expect(await ids(1)).toEqual([12, 11, 10, 9, 8]);
    expect(await ids(2)).toEqual([7, 6, 5, 4, 3]);
    expect(await ids(3)).toEqual([2, 1]);
    expect(await ids(4)).toEqual([]);
  });
});

describe("a deploy's status", () => {
  it('when done sets its finish time, and back to started clears it', async () => {
    const projectId = nextProject++;
    await deploys.put(deploy(projectId, 1, { status: 'started', finish_time: null }));
    expect(await deploys.updateStatus(projectId, 1, 'timed_out', 1_795_000_600)).toMatchObject({
      status: 'timed_out',
      finish_time: 1_795_000_600,
    });
    expect(await deploys.updateStatus(projectId, 1, 'started', 1_795_000_700)).toMatchObject({
      status: 'started',
      finish_time: null,
    });
    expect(await deploys.get(projectId, 1)).toMatchObject({ status: 'started', finish_time: null });
  });

  it('of a deploy that does not exist is none, and creates no deploy', async () => {
    const projectId = nextProject++;
    expect(await deploys.updateStatus(projectId, 7, 'failed', 1_795_000_600)).toBeUndefined();
    expect(await deploys.get(projectId, 7)).toBeUndefined();
  });
});
