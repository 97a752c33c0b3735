// The worker's writes against DynamoDB Local: each occurrence is stored once, and a redelivered one
// writes nothing and adds no record to the stream the fold reads.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { occurrenceKeys } from '#shared/store/keys';
import { type FoldTables, openFoldTables } from '../../support/fold-tables';
import { occurrence } from '../../support/occurrences';

let tables: FoldTables;

beforeAll(async () => {
  tables = await openFoldTables('occurrence-writer');
});

afterAll(async () => {
  await tables?.stop();
});

describe('the worker stores each occurrence once', () => {
  it('writes one row per new uuid; a redelivered occurrence writes nothing and adds no stream record', async () => {
    const projectId = await tables.newProject();
    const first = occurrence(projectId);
    const second = occurrence(projectId);
    expect(await tables.writer().write([first, second])).toMatchObject({
      stored: 2,
      duplicates: 0,
      failed: 0,
    });
    expect(await tables.writer().write([first])).toMatchObject({
      outcomes: ['duplicate'],
      stored: 0,
      duplicates: 1,
    });
    const records = await tables.stream.readNewOccurrences(projectId);
    expect(records.map((record) => record.occurrence.uuid).sort()).toEqual([first.uuid, second.uuid].sort());
    const stored = await tables.row(occurrenceKeys.occurrence(projectId, first.uuid));
    expect(stored).toMatchObject({ entity: 'occurrence', item_id: first.itemId, title: first.title });
    expect(String(stored?.codec)).toMatch(/^deflate:|^gzip$/);
  });

  it('one occurrence that cannot be stored fails alone', async () => {
    const projectId = await tables.newProject();
    const good = occurrence(projectId);
    const bad = occurrence(projectId);
    const refusing = new Proxy(tables.documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return (command: unknown) =>
          command instanceof PutCommand && (command.input.Item as { uuid?: string }).uuid === bad.uuid
            ? Promise.reject(new Error('ValidationException'))
            : target.send(command as never);
      },
    });
    const report = await tables.writer(refusing).write([good, bad]);
    expect(report.outcomes[0]).toBe('stored');
    expect(report.outcomes[1]).toMatchObject({ error: expect.any(Error) });
    expect(await tables.row(occurrenceKeys.occurrence(projectId, bad.uuid))).toBeUndefined();
  });
});
