// Recording deploys as deploy scripts send them, and updating their status, with projects and deploys
// in DynamoDB Local: who may record one, what is stored, and that what is refused stores nothing.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { AccessDeniedError, MissingTokenError, NotFoundError, ValidationError } from '#shared/errors';
import {
  createDeployIngest,
  createEdgeDeployIngest,
  createQueuedDeployRecorder,
} from '#shared/ingest/deploy-ingest';
import type { Scope } from '#shared/projects/access-tokens';
import { createProjectService, type ProjectService } from '#shared/projects/service';
import type { DeployQueue, QueuedDeployMessage } from '#shared/queue/ingest-queue';
import { DynamoDBDeployRepository } from '#shared/store/deploys';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

const STARTED_AT = Date.UTC(2026, 10, 30, 9, 0, 0);

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let projects: ProjectService;
let deploys: DynamoDBDeployRepository;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('deploy-ingest');
  documents = createDocumentClient(dynamo.client);
  projects = createProjectService({
    projects: new DynamoDBProjectRepository(documents, dynamo.tableNames.projects),
  });
  deploys = new DynamoDBDeployRepository(documents, dynamo.tableNames.items);
});

afterAll(async () => {
  await dynamo?.stop();
});

let nextProject = 1;

/** A project of its own for each test, and deploy ingest at a clock the test moves. */
async function project(): Promise<{
  projectId: number;
  tokens: Record<Scope, string>;
  time: { now: number };
  ingest: ReturnType<typeof createDeployIngest>;
}> {
  const { project, tokens } = await projects.createProject({ name: `deploying-${nextProject++}` });
  const time = { now: STARTED_AT };
  const ingest = createDeployIngest({
    projects,
    projectRepository: new DynamoDBProjectRepository(documents, dynamo.tableNames.projects),
    deploys,
    now: () => time.now,
  });
  return { projectId: project.projectId, tokens, time, ingest };
}

describe('recording a deploy', () => {
  it('stores it as succeeded and finished when sent, numbered 1, 2, … in its project', async () => {
    const { projectId, tokens, ingest } = await project();
    const first = await ingest.recordDeploy({
      token: tokens.post_server_item,
      fields: { environment: 'production', revision: 'a1b2c3', local_username: 'ada', comment: 'v1.2' },
    });
    expect(first).toEqual({
      id: 1,
      project_id: projectId,
      environment: 'production',
      revision: 'a1b2c3',
      local_username: 'ada',
      rollbar_username: null,
      comment: 'v1.2',
      status: 'succeeded',
      start_time: STARTED_AT / 1000,
      finish_time: STARTED_AT / 1000,
    });
    expect(await deploys.get(projectId, 1)).toEqual(first);
    const second = await ingest.recordDeploy({
      token: tokens.write,
      fields: { environment: 'staging', revision: 'd4e5f6' },
    });
    expect(second.id).toBe(2);
  });

  it('one that has started has no finish time until its status says it is done', async () => {
    const { projectId, tokens, time, ingest } = await project();
    const started = await ingest.recordDeploy({
      token: tokens.write,
      fields: { environment: 'production', revision: 'a1', status: 'started' },
    });
    expect(started).toMatchObject({ status: 'started', finish_time: null });
    time.now += 90_000;
    const failed = await ingest.updateDeployStatus({
      token: tokens.post_server_item,
      deployId: started.id,
      fields: { status: 'failed' },
    });
    expect(failed).toMatchObject({
      status: 'failed',
      start_time: STARTED_AT / 1000,
      finish_time: STARTED_AT / 1000 + 90,
    });
    expect(await deploys.get(projectId, started.id)).toEqual(failed);
  });

  it('reads what deploy scripts send: numbers as text, empty fields as none', async () => {
    const { tokens, ingest } = await project();
    const deploy = await ingest.recordDeploy({
      token: tokens.write,
      fields: {
        environment: 2026,
        revision: 42,
        local_username: '',
        rollbar_username: 'ada',
        access_token: 'x',
      },
    });
    expect(deploy).toMatchObject({
      environment: '2026',
      revision: '42',
      local_username: null,
      rollbar_username: 'ada',
    });
  });

  it('keeps text DynamoDB can store: an unpaired surrogate becomes U+FFFD', async () => {
    const { projectId, tokens, ingest } = await project();
    const deploy = await ingest.recordDeploy({
      token: tokens.write,
      fields: { environment: 'production', revision: 'a1', comment: 'half an emoji \uD83D' },
    });
    expect((await deploys.get(projectId, deploy.id))?.comment).toBe('half an emoji \uFFFD');
  });

  it.each([
    ['without an environment', { revision: 'a1' }, 'environment: '],
    ['with an empty revision', { environment: 'production', revision: '' }, 'revision: revision is required'],
    ['with an unknown status', { environment: 'production', revision: 'a1', status: 'done' }, 'status: '],
    [
      'with a comment over 4096 characters',
      { environment: 'p', revision: 'a1', comment: 'x'.repeat(4097) },
      'comment: ',
    ],
  ])('%s is refused with a 422 that names the field, and takes no number', async (_case, fields, message) => {
    const { projectId, tokens, ingest } = await project();
    const recording = ingest.recordDeploy({ token: tokens.write, fields });
    await expect(recording).rejects.toBeInstanceOf(ValidationError);
    await expect(recording).rejects.toThrow(message);
    const next = await ingest.recordDeploy({
      token: tokens.write,
      fields: { environment: 'p', revision: 'a1' },
    });
    expect(next.id).toBe(1);
    expect(await deploys.list(projectId, { limit: 10, page: 1 })).toEqual([next]);
  });

  it.each([
    ['without a token', undefined, MissingTokenError],
    ['with a read token', 'read', AccessDeniedError],
    ['with a browser’s client token', 'post_client_item', AccessDeniedError],
  ] as const)('%s is refused with a 403 and stores nothing', async (_case, scope, refusal) => {
    const { projectId, tokens, ingest } = await project();
    const recording = ingest.recordDeploy({
      token: scope && tokens[scope],
      fields: { environment: 'production', revision: 'a1' },
    });
    await expect(recording).rejects.toBeInstanceOf(refusal);
    await expect(recording).rejects.toMatchObject({ statusCode: 403 });
    expect(await deploys.list(projectId, { limit: 10, page: 1 })).toEqual([]);
  });
});

describe("updating a deploy's status", () => {
  it('back to started clears its finish time', async () => {
    const { tokens, ingest } = await project();
    const deploy = await ingest.recordDeploy({
      token: tokens.write,
      fields: { environment: 'p', revision: 'a1' },
    });
    const restarted = await ingest.updateDeployStatus({
      token: tokens.write,
      deployId: deploy.id,
      fields: { status: 'started' },
    });
    expect(restarted).toMatchObject({ status: 'started', finish_time: null });
  });

  it('of a deploy that is not there, or is another project’s, is a 404 that creates nothing', async () => {
    const mine = await project();
    const theirs = await project();
    const deploy = await theirs.ingest.recordDeploy({
      token: theirs.tokens.write,
      fields: { environment: 'p', revision: 'a1' },
    });
    for (const deployId of [deploy.id, 99]) {
      const updating = mine.ingest.updateDeployStatus({
        token: mine.tokens.write,
        deployId,
        fields: { status: 'failed' },
      });
      await expect(updating).rejects.toBeInstanceOf(NotFoundError);
      await expect(updating).rejects.toThrow(`deploy ${deployId} not found`);
    }
    expect(await deploys.list(mine.projectId, { limit: 10, page: 1 })).toEqual([]);
    expect(await deploys.get(theirs.projectId, deploy.id)).toEqual(deploy);
  });

  it('to a status that is not one is a 422 that changes nothing', async () => {
    const { projectId, tokens, ingest } = await project();
    const deploy = await ingest.recordDeploy({
      token: tokens.write,
      fields: { environment: 'p', revision: 'a1' },
    });
    for (const fields of [{ status: 'rolled_back' }, {}]) {
      const updating = ingest.updateDeployStatus({ token: tokens.write, deployId: deploy.id, fields });
      await expect(updating).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await deploys.get(projectId, deploy.id)).toEqual(deploy);
  });

  it('with a read token is refused with a 403 and changes nothing', async () => {
    const { projectId, tokens, ingest } = await project();
    const deploy = await ingest.recordDeploy({
      token: tokens.write,
      fields: { environment: 'p', revision: 'a1' },
    });
    const updating = ingest.updateDeployStatus({
      token: tokens.read,
      deployId: deploy.id,
      fields: { status: 'failed' },
    });
    await expect(updating).rejects.toBeInstanceOf(AccessDeniedError);
    expect(await deploys.get(projectId, deploy.id)).toEqual(deploy);
  });
});

/** The ingest queue as the edge's deploys see it: it keeps what is sent (SqsDeployQueue sends it to SQS). */
function keepingQueue(): DeployQueue & { sent: QueuedDeployMessage[] } {
  const sent: QueuedDeployMessage[] = [];
  return { sent, send: async (message) => void sent.push(JSON.parse(JSON.stringify(message))) };
}

describe('deploys posted to an edge region', () => {
  async function edgeAndHome() {
    const { projectId, tokens, time } = await project();
    const queue = keepingQueue();
    const warnings: string[] = [];
    return {
      projectId,
      tokens,
      time,
      queue,
      warnings,
      edge: createEdgeDeployIngest({ projects, queue, now: () => time.now }),
      home: createQueuedDeployRecorder({
        projectRepository: new DynamoDBProjectRepository(documents, dynamo.tableNames.projects),
        deploys,
        warn: (message) => warnings.push(message),
      }),
    };
  }

  it('go through the queue and are recorded once at home, at the time the edge accepted them', async () => {
    const { projectId, tokens, time, queue, edge, home } = await edgeAndHome();
    const answer = await edge.recordDeploy({
      token: tokens.post_server_item,
      fields: { environment: 'production', revision: 42, local_username: 'ada', status: 'started' },
    });
    expect(answer).toEqual({ project_id: projectId, uuid: expect.any(String) });
    expect(queue.sent).toHaveLength(1);
    expect(await deploys.list(projectId, { limit: 10, page: 1 })).toEqual([]);

    time.now += 3_600_000; // the home region was away for an hour
    await home.record(queue.sent[0]!);
    await home.record(queue.sent[0]!); // delivered again
    expect(await deploys.list(projectId, { limit: 10, page: 1 })).toEqual([
      {
        id: 1,
        project_id: projectId,
        environment: 'production',
        revision: '42',
        local_username: 'ada',
        rollbar_username: null,
        comment: null,
        status: 'started',
        start_time: STARTED_AT / 1000,
        finish_time: null,
      },
    ]);

    const status = await edge.updateDeployStatus({
      token: tokens.write,
      deployId: 1,
      fields: { status: 'failed' },
    });
    expect(status).toEqual({ id: 1, project_id: projectId, status: 'failed' });
    await home.record(queue.sent[1]!);
    expect(await deploys.get(projectId, 1)).toMatchObject({ status: 'failed', finish_time: time.now / 1000 });
  });

  it('are refused at the edge as at home, sending nothing', async () => {
    const { tokens, queue, edge } = await edgeAndHome();
    await expect(
      edge.recordDeploy({ token: tokens.write, fields: { environment: 'production' } }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      edge.recordDeploy({ token: tokens.read, fields: { environment: 'production', revision: 'a' } }),
    ).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(
      edge.updateDeployStatus({ token: tokens.write, deployId: 1, fields: { status: 'done' } }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(queue.sent).toEqual([]);
  });

  it('a status for a deploy home does not have is dropped with a warning, creating nothing', async () => {
    const { projectId, tokens, queue, edge, home, warnings } = await edgeAndHome();
    await edge.updateDeployStatus({ token: tokens.write, deployId: 7, fields: { status: 'succeeded' } });
    await home.record(queue.sent[0]!);
    expect(warnings).toEqual(['deploy status for a deploy that does not exist; dropped']);
    expect(await deploys.get(projectId, 7)).toBeUndefined();
  });
});
