// Occurrence payloads, compressed against their project's dictionary of the day.
//
// Occurrences of one project repeat each other: the same field names, libraries, frames, headers
// and servers. Deflating each payload against a few of the project's own recent payloads takes a
// typical Node payload from ~1.5 KB of gzip to ~0.35 KB, which keeps an occurrence row under the
// 1 KB that DynamoDB bills one write unit for. See docs/benchmarks.md.

import { deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { occurrenceKeys } from './keys';
import { DAY_SECONDS, expiresAt, OCCURRENCE_RETENTION_DAYS } from './retention';

export interface EncodeRequest {
  projectId: number;
  itemId: number;
  /** When ingest accepted it (ms): it picks the dictionary (one per project and UTC day). */
  receivedAt: number;
  /** The payload as JSON text. */
  json: string;
}

export interface EncodedPayload {
  payload: Uint8Array;
  /** How to read `payload` back: `gzip`, or `deflate:<dictionary id>`. */
  codec: string;
}

export interface PayloadCodec {
  /** Encodes each request, in order; creates the day's dictionary of a project that has none. */
  encode(requests: readonly EncodeRequest[]): Promise<EncodedPayload[]>;
  /** The JSON text of a stored payload; `codec` undefined means gzip (rows written before codecs). */
  decode(projectId: number, payload: Uint8Array, codec: string | undefined): Promise<string>;
}

/** The day's dictionary of a project is at most this long: deflate's window reaches back 32 KiB. */
const DICTIONARY_MAX_BYTES = 24 * 1024;
/** Payloads of this many different items make a dictionary: more bugs, more shared frames. */
const DICTIONARY_SAMPLES = 4;
/**
 * A dictionary outlives every occurrence compressed with it: those are received by the end of its
 * day and expire OCCURRENCE_RETENTION_DAYS later. TTL deletes expired rows days late and in no
 * order, and reads treat an expired occurrence as gone but a missing dictionary as a fault, so the
 * margin is a week, well past clock skew and TTL's lag.
 */
const DICTIONARY_RETENTION_DAYS = OCCURRENCE_RETENTION_DAYS + 7;
const DEFLATE_PREFIX = 'deflate:';

export class UnknownCodecError extends Error {
  override readonly name = 'UnknownCodecError';
}

export class MissingDictionaryError extends Error {
  override readonly name = 'MissingDictionaryError';
}

export interface DynamoDBPayloadCodecOptions {
  /** How many dictionaries (project and day) are kept in memory; 256 unless told. */
  cacheSize?: number;
}

/** The payload codec over the occurrences table, where each project's dictionaries live. */
export class DynamoDBPayloadCodec implements PayloadCodec {
  private readonly cache: DictionaryCache;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDBPayloadCodecOptions = {},
  ) {
    this.cache = new DictionaryCache(options.cacheSize ?? 256);
  }

  async encode(requests: readonly EncodeRequest[]): Promise<EncodedPayload[]> {
    const groups = new Map<string, { projectId: number; day: string; requests: EncodeRequest[] }>();
    for (const request of requests) {
      const day = dictionaryDay(request.receivedAt);
      const key = cacheKey(request.projectId, day);
      const group = groups.get(key) ?? { projectId: request.projectId, day, requests: [] };
      group.requests.push(request);
      groups.set(key, group);
    }
    const dictionaries = new Map<string, Uint8Array>();
    await Promise.all(
      [...groups].map(async ([key, group]) => {
        dictionaries.set(key, await this.dictionaryFor(group.projectId, group.day, group.requests));
      }),
    );
    return requests.map((request) => {
      const day = dictionaryDay(request.receivedAt);
      const dictionary = dictionaries.get(cacheKey(request.projectId, day))!;
      const json = Buffer.from(request.json, 'utf8');
      const deflated = deflateRawSync(json, { level: 9, dictionary });
      const gzipped = gzipSync(json);
      // Never worse than the rows written before dictionaries.
      return deflated.length < gzipped.length
        ? { payload: deflated, codec: `${DEFLATE_PREFIX}${day}` }
        : { payload: gzipped, codec: 'gzip' };
    });
  }

  async decode(projectId: number, payload: Uint8Array, codec: string | undefined): Promise<string> {
    if (codec === undefined || codec === 'gzip') return gunzipSync(payload).toString('utf8');
    if (codec.startsWith(DEFLATE_PREFIX) && codec.length > DEFLATE_PREFIX.length) {
      const dictionaryId = codec.slice(DEFLATE_PREFIX.length);
      const dictionary = await this.storedDictionary(projectId, dictionaryId);
      return inflateRawSync(payload, { dictionary }).toString('utf8');
    }
    throw new UnknownCodecError(`unknown payload codec ${JSON.stringify(codec)} in project ${projectId}`);
  }

  /** The day's dictionary of a project, created from `requests` if it has none. */
  private async dictionaryFor(
    projectId: number,
    day: string,
    requests: readonly EncodeRequest[],
  ): Promise<Uint8Array> {
    const cached = this.cache.get(cacheKey(projectId, day));
    if (cached) return cached;
    // Consistent, so a dictionary another worker has just written is used rather than raced.
    const stored = await this.readDictionary(projectId, day, true);
    if (stored) return this.remember(projectId, day, stored);
    const dictionary = buildDictionary(requests);
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...occurrenceKeys.dictionary(projectId, day),
            entity: 'dictionary',
            project_id: projectId,
            dictionary_id: day,
            dictionary: gzipSync(dictionary),
            expires_at: expiresAt(endOfDay(day), DICTIONARY_RETENTION_DAYS),
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return this.remember(projectId, day, dictionary);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Another worker created it first: its payloads are already deflated against its dictionary.
    const winner = await this.readDictionary(projectId, day, true);
    if (!winner) {
      throw new MissingDictionaryError(`dictionary ${day} of project ${projectId} vanished after a race`);
    }
    return this.remember(projectId, day, winner);
  }

  /** A dictionary some payload was encoded with: it must exist, and never changes once written. */
  private async storedDictionary(projectId: number, dictionaryId: string): Promise<Uint8Array> {
    const cached = this.cache.get(cacheKey(projectId, dictionaryId));
    if (cached) return cached;
    // Eventually consistent reads cost half, and a dictionary is written once, long before most of
    // its reads; one written a moment ago may not show in them yet, so a miss asks again, consistently.
    const stored =
      (await this.readDictionary(projectId, dictionaryId, false)) ??
      (await this.readDictionary(projectId, dictionaryId, true));
    if (!stored) {
      throw new MissingDictionaryError(
        `dictionary ${dictionaryId} of project ${projectId} not found in ${this.tableName}: the payload cannot be read`,
      );
    }
    return this.remember(projectId, dictionaryId, stored);
  }

  private async readDictionary(
    projectId: number,
    dictionaryId: string,
    consistent: boolean,
  ): Promise<Uint8Array | undefined> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: occurrenceKeys.dictionary(projectId, dictionaryId),
        ProjectionExpression: 'dictionary',
        ConsistentRead: consistent,
      }),
    );
    const stored = result.Item?.dictionary;
    return stored instanceof Uint8Array ? gunzipSync(stored) : undefined;
  }

  private remember(projectId: number, dictionaryId: string, dictionary: Uint8Array): Uint8Array {
    this.cache.set(cacheKey(projectId, dictionaryId), dictionary);
    return dictionary;
  }
}

/** The id of the dictionary a payload received at `receivedAt` uses: its UTC day, `2026-11-23`. */
function dictionaryDay(receivedAt: number): string {
  return new Date(receivedAt).toISOString().slice(0, 10);
}

/** The first instant (ms) after the UTC day `2026-11-23`. */
function endOfDay(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) + DAY_SECONDS * 1000;
}

function cacheKey(projectId: number, dictionaryId: string): string {
  return `${projectId}/${dictionaryId}`;
}

/**
 * The first payloads of different items, whole while they fit; a first payload too long alone
 * gives its end, which is what deflate reaches best.
 */
function buildDictionary(requests: readonly EncodeRequest[]): Buffer {
  const samples: Buffer[] = [];
  const items = new Set<number>();
  for (const request of requests) {
    if (items.size === DICTIONARY_SAMPLES) break;
    if (items.has(request.itemId)) continue;
    items.add(request.itemId);
    samples.push(Buffer.from(request.json, 'utf8'));
  }
  const first = samples[0];
  if (first && first.length > DICTIONARY_MAX_BYTES) {
    return first.subarray(first.length - DICTIONARY_MAX_BYTES);
  }
  const taken: Buffer[] = [];
  let length = 0;
  for (const sample of samples) {
    if (length + sample.length > DICTIONARY_MAX_BYTES) break;
    taken.push(sample);
    length += sample.length;
  }
  return Buffer.concat(taken);
}

/** Least recently used first out: a Map iterates in insertion order, so a hit is moved to the end. */
class DictionaryCache {
  private readonly entries = new Map<string, Uint8Array>();

  constructor(private readonly capacity: number) {}

  get(key: string): Uint8Array | undefined {
    const value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: Uint8Array): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }
}
