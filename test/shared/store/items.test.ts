// The items repository against DynamoDB Local: a change made by hand to an item while the fold's
// transaction holds it.

import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { planUserChange } from '#shared/items/rules';
import { DynamoDBItemRepository } from '#shared/store/items';
import { itemKeys } from '#shared/store/keys';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';
import { freshIds, NOW, type OccurrenceRows, occurrenceRows } from '../../support/occurrence-rows';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let rows: OccurrenceRows;

const put: OccurrenceRows['put'] = (...args) => rows.put(...args);

beforeAll(async () => {
  dynamo = await startDynamoWithTables('items');
  documents = createDocumentClient(dynamo.client);
  rows = occurrenceRows(documents, dynamo.tableNames);
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('a change made by hand to an item the fold is writing', () => {
  /** A document client whose first `conflicts` UpdateItems fail as they do while a transaction holds the item. */
  function conflictingClient(conflicts: number) {
    const client = createDocumentClient(dynamo.client);
    const send = client.send.bind(client) as (command: object) => Promise<unknown>;
    let updates = 0;
    client.send = (async (command: object) => {
      if (command instanceof UpdateCommand && ++updates <= conflicts) {
        throw new TransactionConflictException({
          message: 'Transaction is ongoing for the item',
          $metadata: { httpStatusCode: 400 },
        });
      }
      return send(command);
    }) as typeof client.send;
    return { client, updates: () => updates };
  }

  async function activeItem() {
    const { projectId, itemId } = freshIds();
    await put(dynamo.tableNames.items, {
      ...itemKeys.item(itemId),
      entity: 'item',
      id: itemId,
      project_id: projectId,
      environment: 'production',
      hash: 'h',
      status: 'active',
    });
    return { projectId, itemId };
  }

  it('goes through once the transaction is done, within five tries', async () => {
    const { projectId, itemId } = await activeItem();
    const conflicting = conflictingClient(4);
    const items = new DynamoDBItemRepository(conflicting.client, dynamo.tableNames.items);

    const changed = await items.applyUserChange(
      planUserChange(projectId, itemId, { status: 'resolved' }, NOW),
    );

    expect(changed).toMatchObject({ id: itemId, status: 'resolved', resolved_timestamp: NOW / 1000 });
    expect(conflicting.updates()).toBe(5);
    expect((await new DynamoDBItemRepository(documents, dynamo.tableNames.items).get(itemId))?.status).toBe(
      'resolved',
    );
  });

  it('fails after five conflicts, and changes nothing', async () => {
    const { projectId, itemId } = await activeItem();
    const conflicting = conflictingClient(5);
    const items = new DynamoDBItemRepository(conflicting.client, dynamo.tableNames.items);

    await expect(
      items.applyUserChange(planUserChange(projectId, itemId, { status: 'muted' }, NOW)),
    ).rejects.toBeInstanceOf(TransactionConflictException);
    expect(conflicting.updates()).toBe(5);
    expect((await new DynamoDBItemRepository(documents, dynamo.tableNames.items).get(itemId))?.status).toBe(
      'active',
    );
  });
});
