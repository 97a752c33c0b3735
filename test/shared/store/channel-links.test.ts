// The channel links on DynamoDB Local: what a tracker remembers of an item per rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBChannelLinks } from '#shared/store/channel-links';
import type { Dynamo } from '../../support/emulators';
import { startLinks } from '../../support/tracker-delivery';

let dynamo: Dynamo;
let links: DynamoDBChannelLinks;

beforeAll(async () => {
  ({ dynamo, links } = await startLinks());
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('channel links', () => {
  it('an item nothing was filed for has no link', async () => {
    expect(await links.get(1, 1)).toBeUndefined();
  });

  it('a remembered issue is found again by its rule and item', async () => {
    await links.put(2, 7, { issue: '42' });
    expect(await links.get(2, 7)).toEqual({ issue: '42' });
  });

  it('links are per rule and per item: two rules filing the same item keep their own issues', async () => {
    await links.put(3, 8, { issue: 'OPS-1' });
    await links.put(4, 8, { card: '5f00aa' });
    expect(await links.get(3, 8)).toEqual({ issue: 'OPS-1' });
    expect(await links.get(4, 8)).toEqual({ card: '5f00aa' });
    expect(await links.get(3, 9)).toBeUndefined();
  });

  it('remembering again replaces the link', async () => {
    await links.put(5, 1, { task: '1' });
    await links.put(5, 1, { task: '2' });
    expect(await links.get(5, 1)).toEqual({ task: '2' });
  });

  it('a link written is read back at once (a retry right after a create finds it)', async () => {
    const written = Array.from({ length: 20 }, (_, index) => links.put(6, index, { issue: String(index) }));
    await Promise.all(written);
    const read = await Promise.all(Array.from({ length: 20 }, (_, index) => links.get(6, index)));
    expect(read).toEqual(Array.from({ length: 20 }, (_, index) => ({ issue: String(index) })));
  });
});
