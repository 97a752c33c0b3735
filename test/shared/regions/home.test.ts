// The home row on DynamoDB Local: read (absent: the plan's home), cached per container, written only on
// condition of the epoch read; and what a pipeline region's worker and fan-out do given the home.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import {
  createHomeReader,
  DynamoDBHomeStore,
  type Home,
  HomeChangedError,
  initialHome,
  storingPartOf,
  whileHome,
} from '#shared/regions/home';
import { HOME_CACHE_SECONDS } from '#shared/wiring/regions';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'projects', string> };
let documents: DynamoDBDocumentClient;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('home');
  documents = createDocumentClient(dynamo.client);
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A fresh projects table for each test that writes the row (the row has one key). */
async function freshStore(): Promise<DynamoDBHomeStore> {
  const { createTables } = await import('#infra/local/tables');
  const names = await createTables(dynamo.client, `home-${++tableCount}`);
  return new DynamoDBHomeStore(documents, names.projects);
}

const promoting: Home = { region: 'eu-west-1', epoch: 1, state: 'promoting', promotedAt: 1_700_000_000_000 };

describe('the home row', () => {
  it('is the plan’s home, active, at epoch 0 before any promotion', async () => {
    const store = new DynamoDBHomeStore(documents, dynamo.tableNames.projects);
    expect(await store.read()).toBeUndefined();
    const reader = createHomeReader({ store, initialHome: 'us-east-1' });
    expect(await reader.current()).toEqual({
      region: 'us-east-1',
      epoch: 0,
      state: 'active',
      promotedAt: null,
    });
  });

  it('is written on condition of the epoch read: a second promotion from the same read changes nothing', async () => {
    const store = await freshStore();
    await store.write(promoting, undefined);
    expect(await store.read({ consistent: true })).toEqual(promoting);

    // Another operator read the row before the first promotion wrote it.
    await expect(
      store.write({ region: 'ap-south-1', epoch: 1, state: 'promoting', promotedAt: 1 }, undefined),
    ).rejects.toBeInstanceOf(HomeChangedError);
    await expect(store.write({ ...promoting, region: 'ap-south-1', epoch: 2 }, 0)).rejects.toBeInstanceOf(
      HomeChangedError,
    );
    expect(await store.read({ consistent: true })).toEqual(promoting);

    await store.write({ ...promoting, state: 'active' }, 1);
    expect(await store.read({ consistent: true })).toEqual({ ...promoting, state: 'active' });
  });

  it('is read again only after the cache time, and concurrent askers share one read', async () => {
    let reads = 0;
    let row: Home | undefined;
    const store = {
      read: async () => {
        reads++;
        return row;
      },
    };
    const clock = { now: 1_000_000 };
    const reader = createHomeReader({ store, initialHome: 'us-east-1', now: () => clock.now });

    await Promise.all([reader.current(), reader.current(), reader.current()]);
    expect(reads).toBe(1);
    row = promoting;
    clock.now += HOME_CACHE_SECONDS * 1000 - 1;
    expect((await reader.current()).region).toBe('us-east-1');
    clock.now += 1;
    expect(await reader.current()).toEqual(promoting);
    expect(reads).toBe(2);
  });
});

describe('what a pipeline region does given the home', () => {
  it('stores when home and active, forwards when another region is home, holds while promoted toward', () => {
    expect(storingPartOf(initialHome('us-east-1'), 'us-east-1')).toEqual({ part: 'store' });
    expect(storingPartOf(initialHome('us-east-1'), 'eu-west-1')).toEqual({
      part: 'forward',
      to: 'us-east-1',
    });
    // The old home forwards to the region being promoted; that region holds until the recount is done.
    expect(storingPartOf(promoting, 'us-east-1')).toEqual({ part: 'forward', to: 'eu-west-1' });
    expect(storingPartOf(promoting, 'eu-west-1')).toEqual({ part: 'hold' });
  });

  it('the fan-out runs at home (promoting included) and acknowledges untold elsewhere', async () => {
    const calls: string[] = [];
    const fanOut = async (record: string) => {
      calls.push(record);
      return 'told';
    };
    const at = (home: Home, self: string) =>
      whileHome({ current: async () => home }, self, fanOut, () => 'acknowledged');

    expect(await at(initialHome('us-east-1'), 'eu-west-1')('a')).toBe('acknowledged');
    expect(await at(initialHome('us-east-1'), 'us-east-1')('b')).toBe('told');
    expect(await at(promoting, 'eu-west-1')('c')).toBe('told');
    expect(calls).toEqual(['b', 'c']);
  });
});
