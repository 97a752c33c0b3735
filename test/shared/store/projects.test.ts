// The projects repository against DynamoDB Local: ids taken with names, listing projects, deleting tokens.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { ProjectNameTakenError } from '#shared/projects/errors';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let projects: DynamoDBProjectRepository;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('projects');
  documents = createDocumentClient(dynamo.client);
  projects = new DynamoDBProjectRepository(documents, dynamo.tableNames.projects);
});

afterAll(async () => {
  await dynamo?.stop();
});

const create = (name: string, now = Date.now()) => projects.createProject({ name, groupingVersion: 2, now });

describe('projects repository', () => {
  it('a second project named like an existing one is refused and burns no id: the next project gets the next id', async () => {
    const shop = await create('shop');
    await expect(create('shop')).rejects.toBeInstanceOf(ProjectNameTakenError);
    await expect(create('shop')).rejects.toThrow('a project named shop exists already');
    const shop2 = await create('shop2');
    expect(shop2.projectId).toBe(shop.projectId + 1);
    expect(await projects.findProjectByName('shop')).toMatchObject({ projectId: shop.projectId });
  });

  it('projects created at the same moment get different ids, none skipped', async () => {
    const before = (await projects.listProjects()).length;
    const created = await Promise.all(Array.from({ length: 6 }, (_, index) => create(`burst-${index}`)));
    const ids = created.map((project) => project.projectId).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 6 }, (_, index) => before + 1 + index));
  });

  it('lists every project by id, with its grouping version and creation time', async () => {
    const old = await projects.createProject({
      name: 'listed-v1',
      groupingVersion: 1,
      now: Date.UTC(2026, 0, 2),
    });
    const listed = await projects.listProjects();
    expect(listed.map((project) => project.projectId)).toEqual(
      Array.from({ length: listed.length }, (_, index) => index + 1),
    );
    expect(listed.at(-1)).toEqual({
      projectId: old.projectId,
      name: 'listed-v1',
      groupingVersion: 1,
      createdAt: Date.UTC(2026, 0, 2),
    });
  });

  it('deleting a token removes it and its copy under the project, and deleting it again is harmless', async () => {
    const project = await create('revoking');
    const token = { projectId: project.projectId, scopes: ['read' as const], name: 'read', createdAt: 1 };
    await projects.putAccessToken({ ...token, tokenHash: 'a'.repeat(64) });
    await projects.putAccessToken({ ...token, tokenHash: 'b'.repeat(64) });
    await projects.deleteAccessToken(project.projectId, 'a'.repeat(64));
    expect(await projects.findAccessToken('a'.repeat(64))).toBeUndefined();
    expect((await projects.listAccessTokens(project.projectId)).map((row) => row.tokenHash)).toEqual([
      'b'.repeat(64),
    ]);
    await projects.deleteAccessToken(project.projectId, 'a'.repeat(64));
    expect(await projects.findAccessToken('b'.repeat(64))).toMatchObject({ projectId: project.projectId });
  });
});
