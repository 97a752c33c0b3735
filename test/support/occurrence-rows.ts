// Rows of the occurrences and items tables written as the worker and the fold write them, for the
// store's read tests: occurrences, listing pages, and a walk through a listing's cursors.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { type Key, occurrenceKeys } from '#shared/store/keys';
import type { OccurrencePage } from '#shared/store/occurrences';
import { packUuids } from '#shared/store/pages';

/** The clock of the read repositories: graphs are read on 2026-11-25, within the hourly retention. */
export const NOW = Date.parse('2026-11-25T12:00:00Z');

/** When the rows' occurrences were received, unless a test says otherwise. */
export const BASE = Date.UTC(2026, 10, 23, 10, 0, 0);
export const EXPIRES_AT = Math.floor(BASE / 1000) + 90 * 86_400;

let nextId = 1;

/** Ids of their own for each test, so tests share one table without seeing each other's rows. */
export function freshIds() {
  const id = nextId++;
  return { projectId: 100 + id, itemId: 9_000_000 + id };
}

export interface OccurrenceRow {
  projectId: number;
  itemId: number;
  uuid?: string;
  receivedAt?: number;
  personId?: string;
  codeVersion?: string;
  /** The payload's `data`; written gzip'd. */
  data?: Record<string, unknown>;
  /** `undefined` writes no codec attribute, as rows from before codecs. */
  codec?: string | undefined;
  payload?: Uint8Array;
  /** Epoch seconds; 90 days after BASE unless told. */
  expiresAt?: number;
}

/** Writers of rows into the given tables. */
export function occurrenceRows(
  documents: DynamoDBDocumentClient,
  tableNames: Record<'items' | 'occurrences', string>,
) {
  async function put(table: string, item: Record<string, unknown>): Promise<void> {
    await documents.send(new PutCommand({ TableName: table, Item: item }));
  }

  /** An occurrence row as the storing worker writes it; returns its uuid. */
  async function putOccurrence(row: OccurrenceRow): Promise<string> {
    const uuid = row.uuid ?? randomUUID();
    const receivedAt = row.receivedAt ?? BASE;
    const data = row.data ?? { uuid, body: { message: { body: `occurrence ${uuid}` } } };
    await put(tableNames.occurrences, {
      ...occurrenceKeys.occurrence(row.projectId, uuid),
      entity: 'occurrence',
      uuid,
      project_id: row.projectId,
      item_id: row.itemId,
      timestamp: Math.floor(receivedAt / 1000),
      received_at: receivedAt,
      environment: 'production',
      platform: 'node',
      language: 'javascript',
      level: 'error',
      code_version: row.codeVersion,
      person_id: row.personId,
      title: 'TypeError: x is not a function',
      hash: 'h',
      grouping_method: 'trace',
      payload: row.payload ?? gzipSync(JSON.stringify(data)),
      codec: 'codec' in row ? row.codec : 'gzip',
      expires_at: row.expiresAt ?? EXPIRES_AT,
    });
    return uuid;
  }

  /** A listing page as the fold writes it. */
  async function putPage(key: Key, projectId: number, uuids: string[]): Promise<void> {
    await put(tableNames.occurrences, {
      ...key,
      entity: 'page',
      project_id: projectId,
      uuids: packUuids(uuids),
      expires_at: EXPIRES_AT,
    });
  }

  return { put, putOccurrence, putPage };
}

/** Every occurrence of a listing, page by page through its cursors. */
export async function walk(
  fetchPage: (cursor: string | undefined) => Promise<OccurrencePage>,
  limit: number,
): Promise<{ uuids: string[]; pages: number }> {
  const uuids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fetchPage(cursor);
    pages++;
    // Only the last page may be short, and no page is empty.
    expect(page.occurrences.length).toBeGreaterThan(0);
    if (page.cursor) expect(page.occurrences).toHaveLength(limit);
    else expect(page.occurrences.length).toBeLessThanOrEqual(limit);
    uuids.push(...page.occurrences.map((occurrence) => occurrence.uuid));
    cursor = page.cursor;
    expect(pages).toBeLessThan(100);
  } while (cursor);
  return { uuids, pages };
}

export type OccurrenceRows = ReturnType<typeof occurrenceRows>;
