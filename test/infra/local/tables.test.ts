// createTables builds every declared table as the CDK stack would: keys, indexes, streams and TTL.
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables } from '#infra/local/tables';
import { type TableDeclaration, type TableName, tables } from '#shared/wiring/tables';
import { type Dynamo, startDynamo } from '../../support/emulators';

let dynamo: Dynamo;

beforeAll(async () => {
  dynamo = await startDynamo();
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('createTables', () => {
  it('creates every declared table with its keys, indexes, stream and TTL', async () => {
    const names = await createTables(dynamo.client, 'tables-test');
    const declared = Object.keys(tables) as TableName[];
    expect(Object.keys(names).sort()).toEqual([...declared].sort());

    for (const name of declared) {
      // Typed as any declaration: with no table declaring an index today, the literal type has none.
      const declaration: TableDeclaration = tables[name];
      expect(names[name]).toBe(`tables-test-${declaration.logicalId}`);
      const { Table: table } = await dynamo.client.send(new DescribeTableCommand({ TableName: names[name] }));
      expect(table?.TableStatus).toBe('ACTIVE');
      expect(table?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe('PAY_PER_REQUEST');
      expect(table?.KeySchema).toEqual([
        { AttributeName: declaration.partitionKey.name, KeyType: 'HASH' },
        ...(declaration.sortKey ? [{ AttributeName: declaration.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);

      const indexes = table?.GlobalSecondaryIndexes ?? [];
      expect(indexes.map((index) => index.IndexName).sort()).toEqual(
        declaration.globalIndexes.map((index) => index.indexName).sort(),
      );
      for (const index of declaration.globalIndexes) {
        const created = indexes.find((candidate) => candidate.IndexName === index.indexName);
        expect(created?.Projection?.ProjectionType).toBe(index.projection);
        expect(created?.KeySchema).toEqual([
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
        ]);
      }

      const stream = 'stream' in declaration ? declaration.stream : undefined;
      expect(table?.StreamSpecification?.StreamEnabled ?? false).toBe(stream !== undefined);
      if (stream) expect(table?.StreamSpecification?.StreamViewType).toBe(stream);

      const ttlAttribute = 'timeToLiveAttribute' in declaration ? declaration.timeToLiveAttribute : undefined;
      const { TimeToLiveDescription: ttl } = await dynamo.client.send(
        new DescribeTimeToLiveCommand({ TableName: names[name] }),
      );
      if (ttlAttribute) {
        expect(ttl?.TimeToLiveStatus).toBe('ENABLED');
        expect(ttl?.AttributeName).toBe(ttlAttribute);
      } else {
        expect(ttl?.TimeToLiveStatus).toBe('DISABLED');
      }
    }
  });

  it('declares a stream on the items table and a TTL on the occurrences table', () => {
    // Guards the loop above against passing vacuously if the declarations lose these.
    expect(Object.values(tables).some((table) => 'stream' in table)).toBe(true);
    expect(Object.values(tables).some((table) => 'timeToLiveAttribute' in table)).toBe(true);
  });

  it('leaves existing tables alone when run again', async () => {
    const first = await createTables(dynamo.client, 'again');
    const before = await dynamo.client.send(new DescribeTableCommand({ TableName: first.items }));
    const second = await createTables(dynamo.client, 'again');
    const after = await dynamo.client.send(new DescribeTableCommand({ TableName: second.items }));
    expect(second).toEqual(first);
    expect(after.Table?.CreationDateTime).toEqual(before.Table?.CreationDateTime);
    expect(after.Table?.LatestStreamArn).toBe(before.Table?.LatestStreamArn);
  });
});
