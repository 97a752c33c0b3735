// Creates the declared tables in DynamoDB Local, as the CDK stack creates them in AWS.
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { type KeyDeclaration, type TableDeclaration, type TableName, tables } from '#shared/wiring/tables';

/** The local name of a declared table: `${prefix}-${logicalId}`. */
export function localTableName(prefix: string, name: TableName): string {
  return `${prefix}-${tables[name].logicalId}`;
}

/**
 * Creates every declared table that does not exist yet and returns their names. Existing tables are
 * left as they are, so a persistent data directory (FAULTLINE_DATA_DIR) survives a restart.
 */
export async function createTables(
  client: DynamoDBClient,
  prefix: string,
): Promise<Record<TableName, string>> {
  const names = Object.keys(tables) as TableName[];
  await Promise.all(names.map((name) => createTable(client, localTableName(prefix, name), tables[name])));
  return Object.fromEntries(names.map((name) => [name, localTableName(prefix, name)])) as Record<
    TableName,
    string
  >;
}

async function createTable(
  client: DynamoDBClient,
  tableName: string,
  table: TableDeclaration,
): Promise<void> {
  if (await exists(client, tableName)) return;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions(table),
        KeySchema: keySchema(table),
        GlobalSecondaryIndexes:
          table.globalIndexes.length > 0
            ? table.globalIndexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: keySchema(index),
                Projection: { ProjectionType: index.projection },
              }))
            : undefined,
        StreamSpecification: table.stream ? { StreamEnabled: true, StreamViewType: table.stream } : undefined,
      }),
    );
  } catch (error) {
    // Created meanwhile by another caller: idempotent all the same.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists(
    { client, maxWaitTime: 30, minDelay: 0.2, maxDelay: 1 },
    { TableName: tableName },
  );
  if (table.timeToLiveAttribute) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: table.timeToLiveAttribute },
      }),
    );
  }
}

async function exists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

function keySchema(key: KeyDeclaration): KeySchemaElement[] {
  const schema: KeySchemaElement[] = [{ AttributeName: key.partitionKey.name, KeyType: 'HASH' }];
  if (key.sortKey) schema.push({ AttributeName: key.sortKey.name, KeyType: 'RANGE' });
  return schema;
}

/** Every key attribute of the table and its indexes, once each, as CreateTable requires. */
function attributeDefinitions(table: TableDeclaration): AttributeDefinition[] {
  const byName = new Map<string, AttributeDefinition>();
  for (const key of [table, ...table.globalIndexes]) {
    for (const attribute of [key.partitionKey, key.sortKey]) {
      if (attribute)
        byName.set(attribute.name, { AttributeName: attribute.name, AttributeType: attribute.type });
    }
  }
  return [...byName.values()];
}
