// Reading stored occurrences: one by uuid, an item's newest first, a person's newest first.
import { gunzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BadRequestError } from '#shared/errors';
import { batchGetAll } from './batch-get';
import { occurrenceKeys } from './keys';

export interface OccurrenceRecord {
  uuid: string;
  project_id: number;
  item_id: number;
  timestamp: number;
  received_at: number;
  environment: string;
  level: string;
  code_version: string | null;
  person_id: string | null;
  payload_truncated: boolean;
  data: Record<string, unknown>;
}

export interface OccurrencePage {
  occurrences: OccurrenceRecord[];
  /** Pass back to get the next page; absent on the last page. */
  cursor: string | undefined;
}

export interface OccurrenceRepository {
  get(projectId: number, uuid: string): Promise<OccurrenceRecord | undefined>;
  listByItem(itemId: number, options: { limit: number; cursor?: string }): Promise<OccurrencePage>;
  listByPerson(
    projectId: number,
    personId: string,
    options: { limit: number; cursor?: string },
  ): Promise<OccurrencePage>;
}

export class DynamoDBOccurrenceRepository implements OccurrenceRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(projectId: number, uuid: string): Promise<OccurrenceRecord | undefined> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: occurrenceKeys.occurrence(projectId, uuid.toLowerCase()),
      }),
    );
    return result.Item ? toOccurrence(result.Item) : undefined;
  }

  listByItem(itemId: number, options: { limit: number; cursor?: string }): Promise<OccurrencePage> {
    return this.listIndex('ByItem', 'GSI1PK', occurrenceKeys.byItemPartition(itemId), options);
  }

  listByPerson(
    projectId: number,
    personId: string,
    options: { limit: number; cursor?: string },
  ): Promise<OccurrencePage> {
    return this.listIndex(
      'ByPerson',
      'GSI2PK',
      occurrenceKeys.byPersonPartition(projectId, personId),
      options,
    );
  }

  private async listIndex(
    indexName: string,
    partitionAttribute: string,
    partition: string,
    options: { limit: number; cursor?: string },
  ): Promise<OccurrencePage> {
    const startKey = options.cursor ? decodeCursor(options.cursor) : undefined;
    if (options.cursor && startKey?.[partitionAttribute] !== partition) {
      throw new BadRequestError('invalid page cursor');
    }
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: `${partitionAttribute} = :pk`,
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: startKey,
      }),
    );
    const keys = (result.Items ?? []).map((row) => ({ PK: String(row.PK), SK: String(row.SK) }));
    const rows = new Map(
      (await batchGetAll(this.documents, this.tableName, keys)).map((row) => [String(row.PK), row]),
    );
    return {
      occurrences: keys.flatMap((key) => {
        const row = rows.get(key.PK);
        return row ? [toOccurrence(row)] : [];
      }),
      cursor: result.LastEvaluatedKey ? encodeCursor(result.LastEvaluatedKey) : undefined,
    };
  }
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function toOccurrence(row: Record<string, unknown>): OccurrenceRecord {
  const payload = row.payload instanceof Uint8Array ? row.payload : undefined;
  return {
    uuid: String(row.uuid),
    project_id: Number(row.project_id),
    item_id: Number(row.item_id),
    timestamp: Number(row.timestamp),
    received_at: Number(row.received_at),
    environment: String(row.environment),
    level: String(row.level),
    code_version: typeof row.code_version === 'string' ? row.code_version : null,
    person_id: typeof row.person_id === 'string' ? row.person_id : null,
    payload_truncated: row.payload_truncated === true,
    data: payload ? (JSON.parse(gunzipSync(payload).toString('utf8')) as Record<string, unknown>) : {},
  };
}
