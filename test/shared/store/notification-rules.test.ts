// Notification rules in the notifications table, on DynamoDB Local: credentials sealed at rest, and a
// rule whose credentials the key cannot open still read (without them) rather than failing its project.
import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { createSecretBox } from '#shared/notifications/secrets';
import { notificationKeys } from '#shared/store/keys';
import { DynamoDBRuleRepository, type RuleDraft } from '#shared/store/notification-rules';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'notifications', string> };

beforeAll(async () => {
  dynamo = await startDynamoWithTables('rules');
});

afterAll(async () => {
  await dynamo?.stop();
});

const github: RuleDraft = {
  channel: 'github',
  trigger: 'new_item',
  status: 'enabled',
  filters: [],
  config: { token: 'ghp_theTokenThatMustNeverBeStoredInTheClear', owner: 'acme', repo: 'shop' },
};

const repositoryWith = (key: Buffer) =>
  new DynamoDBRuleRepository(
    createDocumentClient(dynamo.client),
    dynamo.tableNames.notifications,
    createSecretBox(key),
  );

describe('notification rules at rest', () => {
  it('stores credentials sealed, and reads them back whole', async () => {
    const key = randomBytes(32);
    const rules = repositoryWith(key);
    const created = await rules.create(7, github, 1_790_000_000);
    const { Item } = await createDocumentClient(dynamo.client).send(
      new GetCommand({
        TableName: dynamo.tableNames.notifications,
        Key: notificationKeys.rule(7, created.id),
      }),
    );
    expect(JSON.stringify(Item)).not.toContain('ghp_theTokenThatMustNeverBeStoredInTheClear');
    expect(Item?.config).toEqual({ owner: 'acme', repo: 'shop' });
    expect((await rules.get(7, created.id))?.config).toEqual(github.config);
  });

  it('a rule sealed under another key is read without its credentials; its project still lists', async () => {
    const created = await repositoryWith(randomBytes(32)).create(8, github, 1_790_000_000);
    const other = repositoryWith(randomBytes(32));
    expect((await other.get(8, created.id))?.config).toEqual({ owner: 'acme', repo: 'shop' });
    expect((await other.list(8)).map((rule) => rule.id)).toEqual([created.id]);
  });
});
