// Item lifecycle through the API on the local stack: resolve, reactivate, reopen, mute, levels,
// counts and people; and every change visible to stream consumers as an event.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#infra/local/stack';
import { latestStreamArn } from '#infra/local/stream-poller';
import { type ItemEvent, type ItemImage, itemEventsOf } from '#shared/items/events';
import type { Scope } from '#shared/projects/access-tokens';
import { startStackWithProject } from '../support/local-stack';

const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
let stack: LocalStack;
let tokens: Record<Scope, string>;

interface Item {
  id: number;
  counter: number;
  status: string;
  level: string;
  level_lock: number;
  total_occurrences: number;
  reactivated_count: number;
  unique_people: number;
  resolved_in_version: string | null;
  created_at: number;
  first_occurrence_timestamp: number;
  last_activated_timestamp: number;
  resolved_timestamp: number | null;
}

async function call(method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'X-Rollbar-Access-Token': token, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answerOf(response);
}

async function answerOf(response: Response) {
  return {
    status: response.status,
    body: (await response.json()) as { err: number; result: never; message?: string },
  };
}

/** Posts occurrences of one error and waits until they are grouped; returns the item. */
async function report(
  title: string,
  occurrences: Array<{
    code_version?: string;
    level?: string;
    person?: { id: string; username?: string };
  }> = [{}],
): Promise<Item> {
  for (const extra of occurrences) {
    const answer = await call('POST', '/api/1/item/', tokens.post_server_item, {
      data: {
        environment: 'production',
        level: 'error',
        body: {
          trace: {
            exception: { class: 'LifecycleError', message: title },
            frames: [{ filename: `/app/${title.replace(/\W/g, '')}.js`, lineno: 1, method: 'run' }],
          },
        },
        ...extra,
      },
    });
    expect(answer.status).toBe(200);
  }
  await stack.idle();
  // The listing reads the search index, which the indexer writes after the fold made the item
  // (eventually consistent): a new item may take a moment to be listed after the pipeline is idle.
  for (let attempt = 0; ; attempt++) {
    const listed = await call('GET', '/api/1/items', tokens.read);
    const item = (listed.body.result as { items: Array<Item & { title: string }> }).items.find((candidate) =>
      candidate.title.endsWith(title),
    );
    if (item) return item;
    if (attempt === 20) throw new Error(`no item for ${title}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const patch = (item: Item, body: unknown, token = tokens.write) =>
  call('PATCH', `/api/1/item/${item.id}`, token, body);

beforeAll(async () => {
  ({ stack, tokens } = await startStackWithProject('lifecycle'));
});

afterAll(async () => {
  await stack?.stop();
});

describe('item lifecycle', () => {
  it('an occurrence of a resolved item reactivates it', async () => {
    const item = await report('reactivates');
    const resolved = await patch(item, { status: 'resolved' });
    expect(resolved.body.result).toMatchObject({ status: 'resolved' });
    const again = await report('reactivates');
    expect(again).toMatchObject({ status: 'active', reactivated_count: 1, total_occurrences: 2 });
  });

  it('an occurrence from a version older than the fix does not reactivate it; a newer one does', async () => {
    const item = await report('fixed in 2.0.0', [{ code_version: '1.9.0' }]);
    await patch(item, { status: 'resolved', resolved_in_version: '2.0.0' });
    expect(await report('fixed in 2.0.0', [{ code_version: '1.9.3' }])).toMatchObject({
      status: 'resolved',
      total_occurrences: 2,
      resolved_in_version: '2.0.0',
    });
    expect(await report('fixed in 2.0.0', [{ code_version: '2.0.1' }])).toMatchObject({
      status: 'active',
      reactivated_count: 1,
    });
  });

  it('a resolve without a version forgets the version of an earlier resolve', async () => {
    const item = await report('resolved twice', [{ code_version: '1.0.0' }]);
    await patch(item, { status: 'resolved', resolved_in_version: '2.0.0' });
    const plain = await patch(item, { status: 'resolved' });
    expect(plain.body.result).toMatchObject({ status: 'resolved', resolved_in_version: null });
    // No version to be older than: an occurrence of any release reactivates it.
    expect(await report('resolved twice', [{ code_version: '1.0.0' }])).toMatchObject({
      status: 'active',
      reactivated_count: 1,
    });
  });

  it('after a reopen, a resolve without a version lets an old release reactivate the item', async () => {
    const item = await report('reopened then resolved', [{ code_version: '1.0.0' }]);
    await patch(item, { status: 'resolved', resolved_in_version: '2.0.0' });
    const reopened = await patch(item, { status: 'active' });
    expect(reopened.body.result).toMatchObject({ status: 'active', resolved_in_version: null });
    expect((await patch(item, { status: 'resolved' })).body.result).toMatchObject({
      resolved_in_version: null,
    });
    expect(await report('reopened then resolved', [{ code_version: '1.0.0' }])).toMatchObject({
      status: 'active',
      reactivated_count: 1,
      resolved_in_version: null,
    });
  });

  it('an occurrence that reactivates an item clears the version it was resolved in', async () => {
    const item = await report('reactivated in a newer release', [{ code_version: '1.0.0' }]);
    await patch(item, { status: 'resolved', resolved_in_version: '2.0.0' });
    expect(await report('reactivated in a newer release', [{ code_version: '2.1.0' }])).toMatchObject({
      status: 'active',
      resolved_in_version: null,
    });
  });

  it('resolves by a form body as well as by JSON, the version as text', async () => {
    const item = await report('resolved by a form');
    const resolved = await answerOf(
      await fetch(`${stack.url}/api/1/item/${item.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          access_token: tokens.write,
          status: 'resolved',
          resolved_in_version: '3.1.4',
        }),
      }),
    );
    expect(resolved).toMatchObject({
      status: 200,
      body: { err: 0, result: { status: 'resolved', resolved_in_version: '3.1.4' } },
    });
    const form = new FormData();
    form.set('status', 'active');
    const reopened = await answerOf(
      await fetch(`${stack.url}/api/1/item/${item.id}`, {
        method: 'PATCH',
        headers: { 'X-Rollbar-Access-Token': tokens.write },
        body: form,
      }),
    );
    expect(reopened).toMatchObject({ status: 200, body: { result: { status: 'active' } } });
    // An empty version in a form is none.
    const plain = await answerOf(
      await fetch(`${stack.url}/api/1/item/${item.id}`, {
        method: 'PATCH',
        headers: {
          'X-Rollbar-Access-Token': tokens.write,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'status=resolved&resolved_in_version=',
      }),
    );
    expect(plain.body.result).toMatchObject({ status: 'resolved', resolved_in_version: null });
    const refused = await answerOf(
      await fetch(`${stack.url}/api/1/item/${item.id}`, {
        method: 'PATCH',
        headers: {
          'X-Rollbar-Access-Token': tokens.write,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'status=archived',
      }),
    );
    expect(refused).toMatchObject({
      status: 422,
      body: { err: 1, message: expect.stringContaining('status') },
    });
  });

  it('shows every time in seconds, as Rollbar does', async () => {
    const before = Math.floor(Date.now() / 1000);
    const item = await report('timed');
    const resolved = (await patch(item, { status: 'resolved' })).body.result as Item;
    const after = Math.ceil(Date.now() / 1000);
    for (const time of [item.created_at, item.first_occurrence_timestamp, item.last_activated_timestamp]) {
      expect(time).toBeGreaterThanOrEqual(before - 60);
      expect(time).toBeLessThanOrEqual(after);
    }
    expect(resolved.resolved_timestamp).toBeGreaterThanOrEqual(before);
    expect(resolved.resolved_timestamp).toBeLessThanOrEqual(after);
    expect(resolved.created_at).toBe(item.created_at);

    await call('POST', '/api/1/deploy/', tokens.write, { environment: 'production', revision: 'abc123' });
    const deploys = await call('GET', '/api/1/deploys', tokens.read);
    const [deploy] = (deploys.body.result as { deploys: Array<{ start_time: number; finish_time: number }> })
      .deploys;
    expect(deploy?.start_time).toBeGreaterThanOrEqual(before);
    expect(deploy?.finish_time).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  });

  it('a muted item stays muted but keeps counting; reopening makes it active', async () => {
    const item = await report('muted');
    await patch(item, { status: 'muted' });
    expect(await report('muted')).toMatchObject({ status: 'muted', total_occurrences: 2 });
    expect((await patch(item, { status: 'active' })).body.result).toMatchObject({ status: 'active' });
  });

  it('the level is the highest seen unless set by hand', async () => {
    const item = await report('levels', [{ level: 'warning' }]);
    expect(item.level).toBe('warning');
    expect((await report('levels', [{ level: 'critical' }])).level).toBe('critical');
    await patch(item, { level: 'info' });
    expect(await report('levels', [{ level: 'critical' }])).toMatchObject({ level: 'info', level_lock: 1 });
  });

  it('refuses changes without the write scope, of unknown items, and of unknown fields', async () => {
    const item = await report('refusals');
    expect((await patch(item, { status: 'resolved' }, tokens.read)).status).toBe(403);
    expect((await patch(item, { status: 'archived' })).status).toBe(422);
    expect((await patch(item, { title: 'renamed' })).status).toBe(422);
    expect((await patch(item, {})).status).toBe(422);
    // As in Rollbar, the version is only read by a resolve: alone it changes nothing.
    expect(await patch(item, { resolved_in_version: '2.0.0' })).toMatchObject({
      status: 422,
      body: { err: 1, message: expect.stringContaining('resolved_in_version goes with status') },
    });
    expect((await call('PATCH', '/api/1/item/12345', tokens.write, { status: 'resolved' })).status).toBe(404);
    expect(await report('refusals')).toMatchObject({ status: 'active' });
  });
});

describe('counts and people', () => {
  it('serves hourly and daily counts for an item and its environment', async () => {
    const item = await report('counted', [{}, {}, {}]);
    const hourly = await call('GET', `/api/1/item/${item.id}/counts?granularity=hour`, tokens.read);
    const series = (hourly.body.result as { counts: Array<{ timestamp: number; count: number }> }).counts;
    expect(series).toHaveLength(24);
    expect(series.at(-1)?.count).toBe(3);
    expect(series.slice(0, -1).every((bucket) => bucket.count === 0)).toBe(true);

    const daily = await call('GET', '/api/1/counts?environment=production&granularity=day', tokens.read);
    const days = (daily.body.result as { counts: Array<{ count: number }> }).counts;
    expect(days).toHaveLength(30);
    expect(days.at(-1)?.count).toBeGreaterThanOrEqual(3);
    expect((await call('GET', '/api/1/counts?granularity=day', tokens.read)).status).toBe(422);
    expect((await call('GET', `/api/1/item/${item.id}/counts?granularity=week`, tokens.read)).status).toBe(
      422,
    );
  });

  it('counts each affected person once and lists a person’s occurrences', async () => {
    const item = await report('people', [
      { person: { id: 'u-1', username: 'ada' } },
      { person: { id: 'u-2' } },
      { person: { id: 'u-1', username: 'ada' } },
      {},
    ]);
    expect(item).toMatchObject({ unique_people: 2, total_occurrences: 4 });
    const ada = await call('GET', '/api/1/person/u-1/instances', tokens.read);
    expect((ada.body.result as { instances: unknown[] }).instances).toHaveLength(2);
  });
});

describe('stream consumers see every change as an event', () => {
  async function streamRecords(): Promise<_Record[]> {
    const client = new DynamoDBStreamsClient({ endpoint: stack.endpoints.dynamodb, ...local });
    const dynamodb = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, ...local });
    const streamArn = await latestStreamArn(dynamodb, stack.tableNames.items);
    const description = await client.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const records: _Record[] = [];
    for (const shard of description.StreamDescription?.Shards ?? []) {
      let iterator = (
        await client.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      while (iterator) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...(page.Records ?? []));
        if (!page.Records?.length) break;
        iterator = page.NextShardIterator;
      }
    }
    return records;
  }

  it('new, 10th occurrence, resolved, reactivated and reopened', async () => {
    const item = await report(
      'streamed',
      Array.from({ length: 10 }, () => ({})),
    );
    await patch(item, { status: 'resolved' });
    await report('streamed');
    await patch(item, { status: 'muted' });
    await patch(item, { status: 'active' });

    const events: ItemEvent[] = [];
    for (const record of await streamRecords()) {
      const before = record.dynamodb?.OldImage
        ? (unmarshall(record.dynamodb.OldImage as never) as ItemImage & { id?: number })
        : undefined;
      const after = record.dynamodb?.NewImage
        ? (unmarshall(record.dynamodb.NewImage as never) as ItemImage & { id?: number })
        : undefined;
      if ((after ?? before)?.id === item.id) events.push(...itemEventsOf(before, after));
    }
    expect(events.map((event) => event.type)).toEqual([
      'new_item',
      'occurrence_milestone',
      'resolved_item',
      'reactivated_item',
      'muted_item',
      'reopened_item',
    ]);
    expect(events[1]).toEqual({ type: 'occurrence_milestone', occurrences: 10 });
  });
});
