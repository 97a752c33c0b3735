// Changing an item by hand against DynamoDB Local: what is stored and answered, and that refusals
// change nothing, with the item rows as the fold leaves them.
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { AccessDeniedError, NotFoundError, ValidationError } from '#shared/errors';
import { type ItemImage, itemEventsOf } from '#shared/items/events';
import { createItemLifecycle } from '#shared/items/lifecycle';
import type { Scope } from '#shared/projects/access-tokens';
import { createProjectService } from '#shared/projects/service';
import { DynamoDBItemRepository } from '#shared/store/items';
import { itemKeys } from '#shared/store/keys';
import { DynamoDBProjectRepository } from '#shared/store/projects';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

/** The clock of the lifecycle: changes by hand happen at this time. */
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let updateItem: ReturnType<typeof createItemLifecycle>;
let tokens: Record<Scope, string>;
let projectId: number;
let otherProjectId: number;
let nextItemId = 1_000;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('lifecycle');
  documents = createDocumentClient(dynamo.client);
  const projects = createProjectService({
    projects: new DynamoDBProjectRepository(documents, dynamo.tableNames.projects),
  });
  const shop = await projects.createProject({ name: 'shop' });
  const other = await projects.createProject({ name: 'other' });
  tokens = shop.tokens;
  projectId = shop.project.projectId;
  otherProjectId = other.project.projectId;
  updateItem = createItemLifecycle({
    projects,
    items: new DynamoDBItemRepository(documents, dynamo.tableNames.items),
    now: () => NOW,
  });
});

afterAll(async () => {
  await dynamo?.stop();
});

/** An item row as the fold leaves it: keys and bookkeeping beside Rollbar's fields. */
async function itemRow(fields: Record<string, unknown> = {}, inProject = projectId): Promise<number> {
  const id = nextItemId++;
  await documents.send(
    new PutCommand({
      TableName: dynamo.tableNames.items,
      Item: {
        ...itemKeys.item(id),
        entity: 'item',
        id,
        project_id: inProject,
        counter: id,
        created_at: 1_700_000_000,
        environment: 'production',
        platform: 'node',
        hash: 'fingerprint',
        title: 'TypeError: x is not a function',
        level: 'error',
        level_lock: false,
        status: 'active',
        total_occurrences: 3,
        unique_people: 1,
        first_occurrence_id: '11111111-1111-4111-8111-111111111111',
        first_occurrence_timestamp: 1_700_000_000,
        last_occurrence_id: '22222222-2222-4222-8222-222222222222',
        last_occurrence_timestamp: 1_700_000_100,
        people: new Set(['aaaaaaaa']),
        created_by: 'event-1/000123',
        ...fields,
      },
    }),
  );
  return id;
}

/** The item's row as stored, bookkeeping and all. */
async function stored(id: number): Promise<Record<string, unknown> | undefined> {
  const result = await documents.send(
    new GetCommand({ TableName: dynamo.tableNames.items, Key: itemKeys.item(id), ConsistentRead: true }),
  );
  return result.Item;
}

const change = (id: number, fields: unknown, token = tokens.write) =>
  updateItem({ token, itemId: String(id), fields });

describe('changing an item by hand', () => {
  it('a resolve in a version is stored and answered with the time of the resolve, in seconds', async () => {
    const id = await itemRow();
    const answer = await change(id, { status: 'resolved', resolved_in_version: '2.0.0' });
    const expected = { status: 'resolved', resolved_in_version: '2.0.0', resolved_timestamp: NOW / 1000 };
    expect(answer).toMatchObject(expected);
    expect(await stored(id)).toMatchObject({ ...expected, status_changed_by: 'user' });
  });

  it('a resolve without a version forgets the version of an earlier resolve', async () => {
    const id = await itemRow({ status: 'resolved', resolved_in_version: '2.0.0', resolved_timestamp: 1 });
    expect(await change(id, { status: 'resolved' })).toMatchObject({ resolved_in_version: null });
    expect(await stored(id)).toMatchObject({ resolved_in_version: null, resolved_timestamp: NOW / 1000 });
  });

  it('a reopen forgets the resolve and its version, and is told as reopened, never as reactivated', async () => {
    const id = await itemRow({ status: 'resolved', resolved_in_version: '2.0.0', resolved_timestamp: 1 });
    const before = await stored(id);
    const answer = await change(id, { status: 'active' });
    expect(answer).toMatchObject({
      status: 'active',
      resolved_in_version: null,
      resolved_timestamp: null,
      last_activated_timestamp: NOW / 1000,
    });
    expect(itemEventsOf(before as ItemImage, (await stored(id)) as ItemImage)).toEqual([
      { type: 'reopened_item' },
    ]);
  });

  it('a mute forgets the version and keeps the time it was resolved and its counts', async () => {
    const id = await itemRow({ status: 'resolved', resolved_in_version: '2.0.0', resolved_timestamp: 1 });
    expect(await change(id, { status: 'muted' })).toMatchObject({
      status: 'muted',
      resolved_in_version: null,
      resolved_timestamp: 1,
      total_occurrences: 3,
    });
  });

  it.each<[string, Record<string, unknown>, string | null]>([
    ['a form’s version is its text', { status: 'resolved', resolved_in_version: '3.1.4' }, '3.1.4'],
    [
      'an empty version (all a form can send for none) is none',
      { status: 'resolved', resolved_in_version: '' },
      null,
    ],
    ['a version sent as a number is its decimal text', { status: 'resolved', resolved_in_version: 2 }, '2'],
  ])('%s', async (_name, fields, version) => {
    const id = await itemRow();
    expect(await change(id, fields)).toMatchObject({ resolved_in_version: version });
  });

  it('a level set by hand is locked, and the status is left as it was', async () => {
    const id = await itemRow({ status: 'resolved', resolved_in_version: '2.0.0' });
    expect(await change(id, { level: 'info' })).toMatchObject({
      level: 'info',
      level_lock: 1,
      status: 'resolved',
      resolved_in_version: '2.0.0',
    });
  });

  it('answers Rollbar’s fields only, never the row’s keys and bookkeeping, which it keeps', async () => {
    const id = await itemRow();
    const answer = await change(id, { status: 'muted', access_token: tokens.write });
    for (const hidden of ['PK', 'SK', 'entity', 'people', 'created_by', 'status_changed_by']) {
      expect(answer).not.toHaveProperty(hidden);
    }
    expect(await stored(id)).toMatchObject({ people: new Set(['aaaaaaaa']), created_by: 'event-1/000123' });
  });
});

describe('a change refused changes nothing', () => {
  it.each<[string, unknown, string, new (...args: never[]) => Error]>([
    [
      'a version alone',
      { resolved_in_version: '2.0.0' },
      'resolved_in_version goes with status',
      ValidationError,
    ],
    ['an unknown status', { status: 'fixed' }, 'status', ValidationError],
    ['an unknown field', { status: 'resolved', assigned_user_id: 7 }, 'assigned_user_id', ValidationError],
    [
      'a version over 40 characters',
      { status: 'resolved', resolved_in_version: 'v'.repeat(41) },
      'resolved_in_version',
      ValidationError,
    ],
    ['an unknown level', { level: 'fatal' }, 'level', ValidationError],
  ])('%s', async (_name, fields, message, refusal) => {
    const id = await itemRow();
    const before = await stored(id);
    const refused = change(id, fields);
    await expect(refused).rejects.toBeInstanceOf(refusal);
    await expect(refused).rejects.toThrow(message);
    expect(await stored(id)).toEqual(before);
  });

  it('a token without the write scope', async () => {
    const id = await itemRow();
    const before = await stored(id);
    await expect(change(id, { status: 'resolved' }, tokens.read)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(await stored(id)).toEqual(before);
  });

  it('another project’s item is not found, and left as it was', async () => {
    const id = await itemRow({}, otherProjectId);
    const before = await stored(id);
    await expect(change(id, { status: 'resolved' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await stored(id)).toEqual(before);
  });

  it('an item that does not exist is not found, and not created', async () => {
    const id = nextItemId++;
    await expect(change(id, { status: 'muted' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await stored(id)).toBeUndefined();
  });

  it.each(['0', '-1', 'abc', '9007199254740992'])('an item id of %s', async (itemId) => {
    await expect(
      updateItem({ token: tokens.write, itemId, fields: { status: 'resolved' } }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
