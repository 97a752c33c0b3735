// Deploys in the items table, so the same stream that carries item changes carries deploys too.

import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { itemKeys } from './keys';

export const DEPLOY_STATUSES = ['started', 'succeeded', 'failed', 'timed_out'] as const;
export type DeployStatus = (typeof DEPLOY_STATUSES)[number];

/** A deploy as stored and as served, in Rollbar's field names. */
export interface Deploy {
  id: number;
  project_id: number;
  environment: string;
  revision: string;
  local_username: string | null;
  rollbar_username: string | null;
  comment: string | null;
  status: DeployStatus;
  /** Unix seconds, as every time the API shows. */
  start_time: number;
  finish_time: number | null;
}

export interface DeployRepository {
  put(deploy: Deploy): Promise<void>;
  /**
   * Records a deploy sent through the ingest queue once per message `uuid`: a message delivered again
   * finds its marker and records nothing (`recorded: false`, with the id the first delivery took).
   * `takeNumber` numbers it; a delivery that loses a race to the marker leaves that number unused.
   */
  putOnce(
    deploy: Omit<Deploy, 'id'>,
    uuid: string,
    takeNumber: () => Promise<number>,
  ): Promise<{ id: number; recorded: boolean }>;
  get(projectId: number, deployId: number): Promise<Deploy | undefined>;
  /** Undefined when the deploy does not exist. `now` in seconds, as Rollbar's deploy times are. */
  updateStatus(
    projectId: number,
    deployId: number,
    status: DeployStatus,
    now: number,
  ): Promise<Deploy | undefined>;
  list(projectId: number, options: { limit: number; page: number }): Promise<Deploy[]>;
}

export class DynamoDBDeployRepository implements DeployRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(deploy: Deploy): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...itemKeys.deploy(deploy.project_id, deploy.id), entity: 'deploy', ...deploy },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async putOnce(
    deploy: Omit<Deploy, 'id'>,
    uuid: string,
    takeNumber: () => Promise<number>,
  ): Promise<{ id: number; recorded: boolean }> {
    const marker = itemKeys.deployMessage(deploy.project_id, uuid);
    // Read first, so a redelivery takes no number; the transaction's condition settles a race.
    const seen = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: marker, ConsistentRead: true }),
    );
    if (seen.Item) return { id: Number(seen.Item.deploy_id), recorded: false };
    const recorded: Deploy = { ...deploy, id: await takeNumber() };
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...marker, entity: 'deploy_message', deploy_id: recorded.id },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...itemKeys.deploy(recorded.project_id, recorded.id), entity: 'deploy', ...recorded },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
          ],
        }),
      );
      return { id: recorded.id, recorded: true };
    } catch (error) {
      const markerTaken =
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
      if (!markerTaken) throw error;
      const winner = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: marker, ConsistentRead: true }),
      );
      return { id: Number(winner.Item?.deploy_id), recorded: false };
    }
  }

  async get(projectId: number, deployId: number): Promise<Deploy | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: itemKeys.deploy(projectId, deployId) }),
    );
    return result.Item ? toDeploy(result.Item) : undefined;
  }

  async updateStatus(
    projectId: number,
    deployId: number,
    status: DeployStatus,
    now: number,
  ): Promise<Deploy | undefined> {
    const finished = status !== 'started';
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKeys.deploy(projectId, deployId),
          UpdateExpression: finished
            ? 'SET #status = :status, finish_time = :now'
            : 'SET #status = :status, finish_time = :null',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: finished
            ? { ':status': status, ':now': now }
            : { ':status': status, ':null': null },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toDeploy(result.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async list(projectId: number, options: { limit: number; page: number }): Promise<Deploy[]> {
    // Pages are short and deploys few: walking to page N is cheaper than keeping cursors in URLs.
    const wanted = options.limit * options.page;
    const rows: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': itemKeys.deployPartition(projectId) },
          ScanIndexForward: false,
          Limit: wanted - rows.length,
          ExclusiveStartKey: startKey,
        }),
      );
      rows.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey && rows.length < wanted);
    return rows.slice(options.limit * (options.page - 1)).map(toDeploy);
  }
}

export function toDeploy(row: Record<string, unknown>): Deploy {
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    id: Number(row.id),
    project_id: Number(row.project_id),
    environment: String(row.environment),
    revision: String(row.revision),
    local_username: text(row.local_username),
    rollbar_username: text(row.rollbar_username),
    comment: text(row.comment),
    status: row.status as DeployStatus,
    start_time: Number(row.start_time),
    finish_time: typeof row.finish_time === 'number' ? row.finish_time : null,
  };
}
