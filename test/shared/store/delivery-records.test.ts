// Delivery records and destination pace against DynamoDB Local: which records a sender may claim,
// that only the claim's holder settles it, and that concurrent bookings of a destination never share a slot.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { DynamoDBDeliveryRecords } from '#shared/store/delivery-records';
import { DynamoDBDestinationPace } from '#shared/store/destination-pace';
import { notificationKeys } from '#shared/store/keys';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'notifications', string> };
let documents: DynamoDBDocumentClient;
let records: DynamoDBDeliveryRecords;
let pace: DynamoDBDestinationPace;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('records');
  documents = createDocumentClient(dynamo.client);
  records = new DynamoDBDeliveryRecords(documents, dynamo.tableNames.notifications);
  pace = new DynamoDBDestinationPace(documents, dynamo.tableNames.notifications);
});

afterAll(async () => {
  await dynamo?.stop();
});

// In the future: the table's TTL is on, and DynamoDB Local deletes rows whose `expires_at` has passed,
// as DynamoDB does, so a booking made "now" at a past instant could vanish between two calls.
const NOW = 4_102_444_800_000; // 2100-01-01
const claimAt = (key: string, lease: string, now = NOW) =>
  records.claim(key, { ruleId: 3, lease, now, leaseUntil: now + 60_000, expiresAt: now / 1000 + 7 * 86_400 });

async function putRecord(key: string, row: Record<string, unknown>) {
  await documents.send(
    new PutCommand({
      TableName: dynamo.tableNames.notifications,
      Item: { ...notificationKeys.delivery(key), ...row },
    }),
  );
}

describe('claiming a delivery record', () => {
  it.each([
    ['absent (the fan-out put none)', undefined, true],
    ['queued by the fan-out', { status: 'queued' }, true],
    ['retrying', { status: 'retrying', attempts: 2 }, true],
    ['back from the dead-letter queue', { status: 'dead_lettered', attempts: 10 }, true],
    ['held by a sender whose lease ran out', { status: 'sending', lease: 'old', lease_until: NOW - 1 }, true],
    ['held by a live sender', { status: 'sending', lease: 'other', lease_until: NOW + 1 }, false],
    ['sent', { status: 'sent', attempts: 1 }, false],
    ['failed', { status: 'failed', attempts: 1 }, false],
    ['skipped', { status: 'skipped', attempts: 0 }, false],
  ] as const)('a record %s: claimable %s', async (what, row, claimable) => {
    const key = `claim-${what}#3`;
    if (row) await putRecord(key, row);
    const result = await claimAt(key, 'mine');
    expect(result.claimed).toBe(claimable);
    if (!result.claimed) expect(result.status).toBe(row?.status);
    if (result.claimed) expect(result.attempts).toBe(row && 'attempts' in row ? row.attempts : 0);
  });

  it('two senders claiming at once: exactly one gets it', async () => {
    const results = await Promise.all(['a', 'b', 'c'].map((lease) => claimAt('race#3', lease)));
    expect(results.filter((result) => result.claimed)).toHaveLength(1);
  });

  // DynamoDB Local on a busy machine has twice answered one of these dependent writes as if an
  // earlier one had not happened yet (DynamoDB's item writes are linearizable): tried again, on a key
  // of its own, up to twice.
  it('only the holder settles; a settled record is claimed again only while retrying, and keeps its pace slot', {
    retry: 2,
  }, async () => {
    const key = `settle-${Math.random().toString(36).slice(2)}#3`;
    expect((await claimAt(key, 'first')).claimed).toBe(true);
    expect(
      await records.settle(key, 'stranger', {
        status: 'sent',
        attempts: 1,
        httpStatus: 200,
        now: NOW,
      }),
    ).toBe(false);
    expect(
      await records.settle(key, 'first', {
        status: 'queued',
        attempts: 0,
        httpStatus: null,
        now: NOW,
        paceSlotAt: NOW + 5_000,
      }),
    ).toBe(true);
    expect(await claimAt(key, 'second')).toEqual({
      claimed: true,
      attempts: 0,
      paceSlotAt: NOW + 5_000,
    });
    expect(
      await records.settle(key, 'second', { status: 'sent', attempts: 1, httpStatus: 200, now: NOW }),
    ).toBe(true);
    expect(await claimAt(key, 'third')).toEqual({ claimed: false, status: 'sent' });
  });
});

describe("a destination's pace", () => {
  it('a free destination is posted to now; each later booking gets the next slot, one interval apart', async () => {
    // Booked one after another; the claim race above holds the protocol's concurrency, and the
    // sender's test two senders' pace at the receiver.
    const slots: number[] = [];
    for (let booking = 0; booking < 5; booking++) slots.push(await pace.reserve('dest-a', 1_000, NOW));
    expect(slots).toEqual([NOW, NOW + 1_000, NOW + 2_000, NOW + 3_000, NOW + 4_000]);
  });

  it('a booking that has lapsed leaves the destination free', async () => {
    await pace.reserve('dest-b', 1_000, NOW);
    expect(await pace.reserve('dest-b', 1_000, NOW + 60_000)).toBe(NOW + 60_000);
    expect(await pace.reserve('dest-b', 1_000, NOW + 60_000)).toBe(NOW + 61_000);
  });
});
