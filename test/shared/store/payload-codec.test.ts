// Payloads deflated against each project's dictionary of the day, against DynamoDB Local: round trips,
// one dictionary row per project and day, racing workers, the size gained, and what cannot be read.

import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '#shared/aws/clients';
import { occurrenceKeys } from '#shared/store/keys';
import {
  DynamoDBPayloadCodec,
  type EncodeRequest,
  MissingDictionaryError,
  UnknownCodecError,
} from '#shared/store/payload-codec';
import { DAY_SECONDS, OCCURRENCE_RETENTION_DAYS } from '#shared/store/retention';
import { nodeErrorData, seededRandom } from '../../../bench/payloads';
import { type Dynamo, startDynamoWithTables } from '../../support/emulators';

let dynamo: Dynamo & { tableNames: Record<'projects' | 'items' | 'occurrences', string> };
let documents: DynamoDBDocumentClient;
let nextProjectId = 1000;

const DAY_1 = Date.UTC(2026, 10, 23, 10, 15);
const DAY_2 = Date.UTC(2026, 10, 24, 0, 0, 1);
const DAY_3 = Date.UTC(2026, 10, 25, 23, 59, 59);

/**
 * The JSON of one occurrence of `bug`, as rollbar.js sends it; `seed` varies what varies per
 * occurrence (its request id is random, so two calls never give the same text).
 */
function payload(bug: number, seed = bug): string {
  return JSON.stringify(nodeErrorData(bug, seededRandom(seed)));
}

function request(projectId: number, bug: number, receivedAt: number, seed = bug): EncodeRequest {
  return { projectId, itemId: bug, receivedAt, json: payload(bug, seed) };
}

/**
 * A document client that records the name of each command it sends; `afterSend` runs after a
 * command succeeded, before its caller sees the answer.
 */
function recordingClient(afterSend?: (command: object) => Promise<void>) {
  const client = createDocumentClient(dynamo.client);
  const send = client.send.bind(client) as (command: object) => Promise<unknown>;
  const commands: string[] = [];
  client.send = (async (command: object) => {
    commands.push(command.constructor.name);
    const result = await send(command);
    await afterSend?.(command);
    return result;
  }) as typeof client.send;
  return { client, commands };
}

/**
 * A document client whose eventually consistent GetItems do not see the table yet, as a replica
 * a moment behind a write; records whether each GetItem asked for a consistent read.
 */
function laggingClient() {
  const client = createDocumentClient(dynamo.client);
  const send = client.send.bind(client) as (command: object) => Promise<unknown>;
  const gets: boolean[] = [];
  client.send = (async (command: object) => {
    if (command instanceof GetCommand) {
      const consistent = command.input.ConsistentRead === true;
      gets.push(consistent);
      if (!consistent) return { $metadata: {} };
    }
    return send(command);
  }) as typeof client.send;
  return { client, gets };
}

function codecWith(client: DynamoDBDocumentClient = documents, cacheSize?: number) {
  return new DynamoDBPayloadCodec(client, dynamo.tableNames.occurrences, { cacheSize });
}

async function dictionaryRow(projectId: number, day: string) {
  const result = await documents.send(
    new GetCommand({
      TableName: dynamo.tableNames.occurrences,
      Key: occurrenceKeys.dictionary(projectId, day),
      ConsistentRead: true,
    }),
  );
  return result.Item;
}

async function storedDictionary(projectId: number, day: string): Promise<string | undefined> {
  const row = await dictionaryRow(projectId, day);
  return row ? gunzipSync(row.dictionary as Uint8Array).toString('utf8') : undefined;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

beforeAll(async () => {
  dynamo = await startDynamoWithTables('codec');
  documents = createDocumentClient(dynamo.client);
});

afterAll(async () => {
  await dynamo?.stop();
});

describe('payload codec', () => {
  it('reads back every payload of a batch that spans projects and days, in order, from any worker', async () => {
    const projects = [nextProjectId++, nextProjectId++];
    const days = [DAY_1, DAY_2, DAY_3];
    const requests: EncodeRequest[] = [];
    for (let index = 0; index < 60; index++) {
      const projectId = projects[index % 2]!;
      const receivedAt = days[Math.floor(index / 3) % 3]!;
      requests.push(request(projectId, index % 7, receivedAt, index));
    }

    const writer = codecWith();
    const encoded = await writer.encode(requests);

    expect(encoded).toHaveLength(requests.length);
    const reader = codecWith();
    for (const [index, { payload, codec }] of encoded.entries()) {
      const { projectId, receivedAt, json } = requests[index]!;
      expect(codec).toBe(`deflate:${new Date(receivedAt).toISOString().slice(0, 10)}`);
      expect(await writer.decode(projectId, payload, codec)).toBe(json);
      // Another Lambda, whose cache is empty, reads the dictionary from the table.
      expect(await reader.decode(projectId, payload, codec)).toBe(json);
    }
  });

  it('writes one dictionary row per project and day, however many batches use it', async () => {
    const [first, second] = [nextProjectId++, nextProjectId++];
    const recording = recordingClient();
    const codec = codecWith(recording.client);

    const firstBatch = [
      request(first, 1, DAY_1),
      request(second, 2, DAY_1),
      request(first, 3, DAY_1),
      request(first, 4, DAY_2),
    ];
    await codec.encode(firstBatch);
    await codec.encode([request(first, 5, DAY_1), request(second, 6, DAY_1), request(first, 7, DAY_2)]);

    const writes = recording.commands.filter((name) => name !== 'GetCommand');
    expect(writes).toEqual(['PutCommand', 'PutCommand', 'PutCommand']);
    expect(await dictionaryRow(first, '2026-11-23')).toMatchObject({
      ...occurrenceKeys.dictionary(first, '2026-11-23'),
      entity: 'dictionary',
      project_id: first,
      dictionary_id: '2026-11-23',
      // The end of its day, plus the occurrences' retention, plus a week for TTL's lag.
      expires_at: Date.UTC(2026, 10, 24) / 1000 + (OCCURRENCE_RETENTION_DAYS + 7) * DAY_SECONDS,
    });
    expect(await dictionaryRow(first, '2026-11-24')).toBeDefined();
    expect(await dictionaryRow(second, '2026-11-24')).toBeUndefined();

    // Each project's dictionary holds its own payloads.
    const [one, two, three, four] = firstBatch.map(({ json }) => json);
    expect(await storedDictionary(first, '2026-11-23')).toBe(one! + three!);
    expect(await storedDictionary(second, '2026-11-23')).toBe(two);
    expect(await storedDictionary(first, '2026-11-24')).toBe(four);

    // A worker with an empty cache reads the rows and writes nothing.
    const other = recordingClient();
    await codecWith(other.client).encode([request(first, 8, DAY_1), request(second, 9, DAY_1)]);
    expect(other.commands).toEqual(['GetCommand', 'GetCommand']);
  });

  it.each([
    {
      case: 'the first payload of each of four different items, in order',
      items: [1, 1, 2, 3, 2, 4, 5],
      pad: 0,
      expected: (jsons: string[]) => jsons[0]! + jsons[2]! + jsons[3]! + jsons[5]!,
    },
    {
      case: 'whole payloads only, while they fit in 24 KiB',
      items: [1, 2, 3],
      pad: 6_000,
      expected: (jsons: string[]) => jsons[0]! + jsons[1]!,
    },
    {
      case: 'the end of a first payload longer than 24 KiB',
      items: [1, 2],
      pad: 30_000,
      expected: (jsons: string[]) => jsons[0]!.slice(-24 * 1024),
    },
  ])('makes the dictionary from $case', async ({ items, pad, expected }) => {
    const projectId = nextProjectId++;
    const requests = items.map((itemId, index) => ({
      projectId,
      itemId,
      receivedAt: DAY_1,
      json: JSON.stringify({ ...nodeErrorData(itemId, seededRandom(index)), filler: 'x'.repeat(pad) }),
    }));

    const encoded = await codecWith().encode(requests);

    expect(await storedDictionary(projectId, '2026-11-23')).toBe(expected(requests.map((r) => r.json)));
    const reader = codecWith();
    for (const [index, { payload, codec }] of encoded.entries()) {
      expect(await reader.decode(projectId, payload, codec)).toBe(requests[index]!.json);
    }
  });

  it("two workers racing to create a project's dictionary both use the winner's", async () => {
    const projectId = nextProjectId++;
    // Both workers find no dictionary before either writes one, so both try to create it.
    let reads = 0;
    let release = () => {};
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const afterSend = async (command: object) => {
      if (!(command instanceof GetCommand)) return;
      reads += 1;
      if (reads === 2) release();
      await bothRead;
    };
    const [a, b] = [recordingClient(afterSend), recordingClient(afterSend)];
    const batchA = [1, 2, 3].map((bug) => request(projectId, bug, DAY_1));
    const batchB = [12, 13, 14].map((bug) => request(projectId, bug, DAY_1));

    const [encodedA, encodedB] = await Promise.all([
      codecWith(a.client).encode(batchA),
      codecWith(b.client).encode(batchB),
    ]);

    expect([...a.commands, ...b.commands].filter((name) => name === 'PutCommand')).toHaveLength(2);
    const stored = await storedDictionary(projectId, '2026-11-23');
    expect([batchA, batchB].map((batch) => batch.map((r) => r.json).join(''))).toContain(stored);
    const reader = codecWith();
    for (const [batch, encoded] of [
      [batchA, encodedA],
      [batchB, encodedB],
    ] as const) {
      for (const [index, { payload, codec }] of encoded.entries()) {
        expect(codec).toBe('deflate:2026-11-23');
        expect(await reader.decode(projectId, payload, codec)).toBe(batch[index]!.json);
      }
    }
  });

  it("deflates a project's payloads of other bugs to much less than gzip", async () => {
    const projectId = nextProjectId++;
    const codec = codecWith();
    await codec.encode([1, 2, 3, 4].map((bug) => request(projectId, bug, DAY_1)));
    const later = Array.from({ length: 50 }, (_, index) => request(projectId, 100 + index, DAY_1 + 60_000));

    const encoded = await codec.encode(later);

    expect(encoded.every(({ codec }) => codec === 'deflate:2026-11-23')).toBe(true);
    const gzipped = mean(later.map(({ json }) => gzipSync(json).length));
    const deflated = mean(encoded.map(({ payload }) => payload.length));
    expect(deflated).toBeLessThan(0.4 * gzipped);
  });

  it('keeps the most recently used dictionaries in memory', async () => {
    const projectId = nextProjectId++;
    const [day1, day2, day3] = await codecWith().encode([
      request(projectId, 1, DAY_1),
      request(projectId, 2, DAY_2),
      request(projectId, 3, DAY_3),
    ]);
    const recording = recordingClient();
    const reader = codecWith(recording.client, 2);
    const read = async (encoded: { payload: Uint8Array; codec: string } | undefined) => {
      await reader.decode(projectId, encoded!.payload, encoded!.codec);
      return recording.commands.length;
    };

    expect(await read(day1)).toBe(1);
    expect(await read(day2)).toBe(2);
    // Reading day 1 again makes day 2 the least recently used, so day 3 pushes day 2 out.
    expect(await read(day1)).toBe(2);
    expect(await read(day3)).toBe(3);
    expect(await read(day1)).toBe(3);
    expect(await read(day2)).toBe(4);
  });

  it('reads a payload stored before codecs as gzip', async () => {
    const json = payload(1);
    const codec = codecWith();

    expect(await codec.decode(nextProjectId++, gzipSync(json), undefined)).toBe(json);
    expect(await codec.decode(nextProjectId++, gzipSync(json), 'gzip')).toBe(json);
  });

  it('refuses a payload whose dictionary is missing', async () => {
    const projectId = nextProjectId++;
    const [encoded] = await codecWith().encode([request(projectId, 1, DAY_1)]);

    const decoding = codecWith().decode(projectId, encoded!.payload, 'deflate:2020-01-01');

    await expect(decoding).rejects.toThrow(MissingDictionaryError);
    await expect(decoding).rejects.toThrow(`dictionary 2020-01-01 of project ${projectId} not found`);
  });

  it('reads a dictionary written a moment ago, which an eventually consistent read does not see yet', async () => {
    const projectId = nextProjectId++;
    const json = payload(1);
    const [encoded] = await codecWith().encode([{ projectId, itemId: 1, receivedAt: DAY_1, json }]);
    const lagging = laggingClient();
    const reader = codecWith(lagging.client);

    expect(await reader.decode(projectId, encoded!.payload, encoded!.codec)).toBe(json);
    // The eventually consistent read first, then one consistent read; after that, memory.
    expect(lagging.gets).toEqual([false, true]);
    expect(await reader.decode(projectId, encoded!.payload, encoded!.codec)).toBe(json);
    expect(lagging.gets).toEqual([false, true]);
  });

  it('reads a dictionary once when the eventually consistent read finds it', async () => {
    const projectId = nextProjectId++;
    const [encoded] = await codecWith().encode([request(projectId, 1, DAY_1)]);
    const recording = recordingClient();

    await codecWith(recording.client).decode(projectId, encoded!.payload, encoded!.codec);

    expect(recording.commands).toEqual(['GetCommand']);
  });

  it('refuses a missing dictionary only after a consistent read finds none either', async () => {
    const projectId = nextProjectId++;
    const [encoded] = await codecWith().encode([request(projectId, 1, DAY_1)]);
    const lagging = laggingClient();

    const decoding = codecWith(lagging.client).decode(projectId, encoded!.payload, 'deflate:2020-01-01');

    await expect(decoding).rejects.toThrow(MissingDictionaryError);
    expect(lagging.gets).toEqual([false, true]);
  });

  it.each(['zstd', 'deflate:', 'brotli:2026-11-23', 'GZIP'])('refuses the unknown codec %j', async (name) => {
    const decoding = codecWith().decode(nextProjectId++, gzipSync(payload(1)), name);

    await expect(decoding).rejects.toThrow(UnknownCodecError);
    await expect(decoding).rejects.toThrow(`unknown payload codec ${JSON.stringify(name)}`);
  });
});
