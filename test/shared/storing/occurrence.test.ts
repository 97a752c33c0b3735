// An accepted occurrence made ready to store: its item id follows from what groups it, its facts
// from its payload, and one that cannot be prepared is still stored, grouped apart.
import { describe, expect, it } from 'vitest';
import type { ItemData } from '#shared/domain/payload';
import type { OccurrenceMessage } from '#shared/queue/ingest-queue';
import { itemIdOf, prepareFallbackOccurrence, prepareOccurrence } from '#shared/storing/occurrence';
import { errorData } from '../../support/occurrences';

const RECEIVED_AT = Date.UTC(2026, 10, 30, 9, 0, 0);

function message(data: ItemData, fields: Partial<OccurrenceMessage> = {}): OccurrenceMessage {
  return {
    version: 1,
    project_id: 7,
    grouping_version: 2,
    received_at: RECEIVED_AT,
    uuid: '0b5cfa1c-6e4d-4d3a-9b8e-2f1a3c4d5e6f',
    data,
    ...fields,
  };
}

describe('an item id', () => {
  it('is the same for the same project, environment, platform and fingerprint, and a safe integer', () => {
    const id = itemIdOf(7, 'production', 'node', 'abc');
    expect(itemIdOf(7, 'production', 'node', 'abc')).toBe(id);
    expect(Number.isSafeInteger(id)).toBe(true);
    expect(id).toBeGreaterThan(0);
    expect(id).toBeLessThan(2 ** 52);
  });

  it('differs when any of them differs', () => {
    const ids = [
      itemIdOf(7, 'production', 'node', 'abc'),
      itemIdOf(8, 'production', 'node', 'abc'),
      itemIdOf(7, 'staging', 'node', 'abc'),
      itemIdOf(7, 'production', 'browser', 'abc'),
      itemIdOf(7, 'production', 'node', 'abd'),
      // The parts are separated: moving text from one to the next is another group.
      itemIdOf(7, 'productio', 'nnode', 'abc'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('a prepared occurrence', () => {
  it('carries its group, item id, title, level and times, and its payload as JSON', () => {
    const data = errorData({ code_version: 'v1.2', person: { id: 'u1', email: 'a@example.com' } });
    const prepared = prepareOccurrence(message(data));
    expect(prepared).toMatchObject({
      projectId: 7,
      uuid: '0b5cfa1c-6e4d-4d3a-9b8e-2f1a3c4d5e6f',
      itemId: itemIdOf(7, 'production', 'node', prepared.fingerprint),
      groupingMethod: 'trace',
      environment: 'production',
      platform: 'node',
      title: 'TypeError: x is not a function',
      level: 'error',
      timestamp: RECEIVED_AT / 1000,
      receivedAt: RECEIVED_AT,
      codeVersion: 'v1.2',
      person: { id: 'u1', username: null, email: 'a@example.com' },
      payloadTruncated: false,
    });
    expect(JSON.parse(prepared.payloadJson)).toEqual(data);
  });

  it('of a message without a level is info, of an exception without one an error, as Rollbar does', () => {
    const withoutLevel = (data: ItemData) => ({ ...data, level: undefined }) as ItemData;
    const logged = { environment: 'production', body: { message: { body: 'hello' } } } as ItemData;
    expect(prepareOccurrence(message(withoutLevel(logged))).level).toBe('info');
    expect(prepareOccurrence(message(withoutLevel(errorData()))).level).toBe('error');
  });

  it('keeps a plausible client time, and takes the time received for an implausible one', () => {
    const seconds = RECEIVED_AT / 1000;
    expect(prepareOccurrence(message(errorData({ timestamp: seconds - 60 }))).timestamp).toBe(seconds - 60);
    expect(prepareOccurrence(message(errorData({ timestamp: RECEIVED_AT }))).timestamp).toBe(seconds);
  });

  it('counts a person without an id as nobody', () => {
    expect(prepareOccurrence(message(errorData({ person: { username: 'ada' } as never }))).person).toBeNull();
  });

  it('has a payload over the stored size truncated, and marked so', () => {
    const prepared = prepareOccurrence(message(errorData({ custom: { blob: 'x'.repeat(200_000) } })));
    expect(prepared.payloadTruncated).toBe(true);
    expect(JSON.parse(prepared.payloadJson)._truncated).toBe(true);
  });
});

describe('an occurrence that cannot be prepared', () => {
  it('is grouped apart by its exception class, the same poison always into the same item', () => {
    const first = prepareFallbackOccurrence(message(errorData({ message: 'one' })), 'timed out');
    const again = prepareFallbackOccurrence(message(errorData({ message: 'two' })), 'threw');
    const other = prepareFallbackOccurrence(message(errorData({ className: 'RangeError' })), 'threw');
    expect(first.groupingMethod).toBe('fallback');
    expect(again.itemId).toBe(first.itemId);
    expect(other.itemId).not.toBe(first.itemId);
    expect(first.itemId).not.toBe(prepareOccurrence(message(errorData({ message: 'one' }))).itemId);
  });

  it('keeps its payload with the reason it fell back', () => {
    const fallback = prepareFallbackOccurrence(message(errorData()), 'its batch ran out of time');
    expect(JSON.parse(fallback.payloadJson)).toMatchObject({
      environment: 'production',
      _grouping_fallback: 'its batch ran out of time',
    });
    expect(fallback.title).toBe('TypeError: x is not a function');
  });

  it('of a log message is grouped by the first 1 KiB of its text', () => {
    const logged = (body: string) =>
      message({ environment: 'production', body: { message: { body } } } as ItemData);
    const long = 'x'.repeat(1024);
    expect(prepareFallbackOccurrence(logged(`${long}a`), 'threw').itemId).toBe(
      prepareFallbackOccurrence(logged(`${long}b`), 'threw').itemId,
    );
    expect(prepareFallbackOccurrence(logged('a'), 'threw').itemId).not.toBe(
      prepareFallbackOccurrence(logged('b'), 'threw').itemId,
    );
  });
});
