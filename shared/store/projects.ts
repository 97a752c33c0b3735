// Projects and their hashed access tokens in the projects table.

import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { GroupingVersion } from '#shared/domain/fingerprint';
import type { Scope } from '#shared/projects/access-tokens';
import { ProjectNameTakenError } from '#shared/projects/errors';
import { backOff, batchGetAll } from './batch-get';
import { projectKeys } from './keys';

export interface Project {
  projectId: number;
  name: string;
  groupingVersion: GroupingVersion;
  createdAt: number;
  /** Calls per minute each of its tokens may make, unless the token sets its own; absent: the default. */
  rateLimitPerMinute?: number;
}

export interface AccessTokenRecord {
  tokenHash: string;
  projectId: number;
  scopes: Scope[];
  name: string;
  createdAt: number;
  /** Calls per minute this token may make; absent: its project's limit. */
  rateLimitPerMinute?: number;
}

/** Creating a project retries while other projects are being created at the same moment, then gives up. */
const CREATE_PROJECT_ATTEMPTS = 10;

export interface ProjectRepository {
  createProject(input: { name: string; groupingVersion: GroupingVersion; now: number }): Promise<Project>;
  getProject(projectId: number): Promise<Project | undefined>;
  findProjectByName(name: string): Promise<Project | undefined>;
  listProjects(): Promise<Project[]>;
  /** Applies to occurrences accepted from now on; existing items are never regrouped. */
  setGroupingVersion(projectId: number, groupingVersion: GroupingVersion): Promise<void>;
  putAccessToken(token: AccessTokenRecord): Promise<void>;
  findAccessToken(tokenHash: string): Promise<AccessTokenRecord | undefined>;
  listAccessTokens(projectId: number): Promise<AccessTokenRecord[]>;
  /** Deletes the token's row and its copy under the project together; deleting twice is harmless. */
  deleteAccessToken(projectId: number, tokenHash: string): Promise<void>;
  /** Sets the project's rate limit (calls per minute); undefined removes it. False when there is no such project. */
  setProjectRateLimit(projectId: number, perMinute: number | undefined): Promise<boolean>;
  /** Sets the token's rate limit on both its rows; undefined removes it. False when there is no such token. */
  setAccessTokenRateLimit(
    projectId: number,
    tokenHash: string,
    perMinute: number | undefined,
  ): Promise<boolean>;
  /** Takes the next number from one of the project's counters: `#1`, `#2`, … */
  takeNumber(projectId: number, counter: 'item_counter' | 'deploy_counter', count?: number): Promise<number>;
}

export class DynamoDBProjectRepository implements ProjectRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Takes the next project id and the name together, in one transaction: the name reservation on
   * condition that the name is free, the counter on condition that it still holds the value read.
   * A taken name therefore fails the whole transaction and consumes no id (an `ADD` cannot be
   * used: a transaction does not return the number it made). Another creator moving the counter
   * between the read and the write makes the transaction fail; it is retried with the new value.
   */
  async createProject(input: {
    name: string;
    groupingVersion: GroupingVersion;
    now: number;
  }): Promise<Project> {
    for (let attempt = 0; ; attempt++) {
      const counter = await this.documents.send(
        new GetCommand({
          TableName: this.tableName,
          Key: projectKeys.projectCounter(),
          ConsistentRead: true,
        }),
      );
      const lastId = counter.Item ? Number(counter.Item.value) : 0;
      const project: Project = {
        projectId: lastId + 1,
        name: input.name,
        groupingVersion: input.groupingVersion,
        createdAt: input.now,
      };
      try {
        await this.documents.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...projectKeys.projectName(input.name), project_id: project.projectId },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: projectKeys.projectCounter(),
                  UpdateExpression: 'SET #value = :next',
                  ConditionExpression: counter.Item ? '#value = :last' : 'attribute_not_exists(#value)',
                  ExpressionAttributeNames: { '#value': 'value' },
                  ExpressionAttributeValues: {
                    ':next': project.projectId,
                    ...(counter.Item ? { ':last': lastId } : {}),
                  },
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    ...projectKeys.project(project.projectId),
                    project_id: project.projectId,
                    name: project.name,
                    grouping_version: project.groupingVersion,
                    created_at: project.createdAt,
                  },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
            ],
          }),
        );
        return project;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        if (error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
          throw new ProjectNameTakenError(`a project named ${input.name} exists already`, { cause: error });
        }
        // The counter moved (another project was created) or the transaction met another one.
        if (attempt + 1 >= CREATE_PROJECT_ATTEMPTS) throw error;
        await backOff(attempt);
      }
    }
  }

  /** Every project, by id: ids run from 1 to the counter (ids taken before names were checked first may be missing). */
  async listProjects(): Promise<Project[]> {
    const counter = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: projectKeys.projectCounter(), ConsistentRead: true }),
    );
    const lastId = counter.Item ? Number(counter.Item.value) : 0;
    const keys = Array.from({ length: lastId }, (_, index) => projectKeys.project(index + 1));
    const rows = await batchGetAll(this.documents, this.tableName, keys);
    return rows.map(toProject).sort((a, b) => a.projectId - b.projectId);
  }

  async getProject(projectId: number): Promise<Project | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: projectKeys.project(projectId) }),
    );
    return result.Item ? toProject(result.Item) : undefined;
  }

  async findProjectByName(name: string): Promise<Project | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: projectKeys.projectName(name), ConsistentRead: true }),
    );
    return result.Item ? this.getProject(Number(result.Item.project_id)) : undefined;
  }

  async setGroupingVersion(projectId: number, groupingVersion: GroupingVersion): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: projectKeys.project(projectId),
        UpdateExpression: 'SET grouping_version = :version',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':version': groupingVersion },
      }),
    );
  }

  async setProjectRateLimit(projectId: number, perMinute: number | undefined): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: projectKeys.project(projectId),
          ...rateLimitUpdate(perMinute),
          ConditionExpression: 'attribute_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Both rows in one transaction: ingest reads the token's own row, `token list` the project's copy. */
  async setAccessTokenRateLimit(
    projectId: number,
    tokenHash: string,
    perMinute: number | undefined,
  ): Promise<boolean> {
    const update = (key: { PK: string; SK: string }) => ({
      Update: {
        TableName: this.tableName,
        Key: key,
        ...rateLimitUpdate(perMinute),
        ConditionExpression: 'attribute_exists(PK)',
      },
    });
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            update(projectKeys.accessToken(tokenHash)),
            update(projectKeys.projectToken(projectId, tokenHash)),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.some((reason) => reason.Code === 'ConditionalCheckFailed')
      ) {
        return false;
      }
      throw error;
    }
  }

  async putAccessToken(token: AccessTokenRecord): Promise<void> {
    const attributes = {
      token_hash: token.tokenHash,
      project_id: token.projectId,
      scopes: token.scopes,
      name: token.name,
      created_at: token.createdAt,
      ...(token.rateLimitPerMinute ? { rate_limit_per_minute: token.rateLimitPerMinute } : {}),
    };
    await this.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: { ...projectKeys.accessToken(token.tokenHash), ...attributes },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: { ...projectKeys.projectToken(token.projectId, token.tokenHash), ...attributes },
            },
          },
        ],
      }),
    );
  }

  async findAccessToken(tokenHash: string): Promise<AccessTokenRecord | undefined> {
    const result = await this.documents.send(
      // Consistent: an eventual read just after a revoke could find the token and cache it for
      // another minute. A lookup happens once per token per cache time, so the double cost is small.
      new GetCommand({
        TableName: this.tableName,
        Key: projectKeys.accessToken(tokenHash),
        ConsistentRead: true,
      }),
    );
    return result.Item ? toAccessToken(result.Item) : undefined;
  }

  async listAccessTokens(projectId: number): Promise<AccessTokenRecord[]> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :token)',
        ExpressionAttributeValues: { ':pk': projectKeys.project(projectId).PK, ':token': 'TOKEN#' },
        // Revoking right after creating must find the new token.
        ConsistentRead: true,
      }),
    );
    return (result.Items ?? []).map(toAccessToken);
  }

  async deleteAccessToken(projectId: number, tokenHash: string): Promise<void> {
    await this.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.tableName, Key: projectKeys.accessToken(tokenHash) } },
          { Delete: { TableName: this.tableName, Key: projectKeys.projectToken(projectId, tokenHash) } },
        ],
      }),
    );
  }

  async takeNumber(
    projectId: number,
    counter: 'item_counter' | 'deploy_counter',
    count = 1,
  ): Promise<number> {
    const result = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: projectKeys.project(projectId),
        UpdateExpression: 'ADD #counter :count',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#counter': counter },
        ExpressionAttributeValues: { ':count': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(result.Attributes?.[counter]);
  }
}

/** Sets `rate_limit_per_minute`, or removes it (0 and undefined both mean "not set here"). */
function rateLimitUpdate(perMinute: number | undefined) {
  return perMinute
    ? {
        UpdateExpression: 'SET rate_limit_per_minute = :limit',
        ExpressionAttributeValues: { ':limit': perMinute },
      }
    : { UpdateExpression: 'REMOVE rate_limit_per_minute' };
}

const rateLimitOf = (row: Record<string, unknown>) =>
  typeof row.rate_limit_per_minute === 'number' && row.rate_limit_per_minute > 0
    ? { rateLimitPerMinute: row.rate_limit_per_minute }
    : {};

function toProject(row: Record<string, unknown>): Project {
  return {
    projectId: Number(row.project_id),
    name: String(row.name),
    groupingVersion: row.grouping_version === 1 ? 1 : 2,
    createdAt: Number(row.created_at),
    ...rateLimitOf(row),
  };
}

function toAccessToken(row: Record<string, unknown>): AccessTokenRecord {
  return {
    tokenHash: String(row.token_hash),
    projectId: Number(row.project_id),
    scopes: (Array.isArray(row.scopes) ? row.scopes : []) as Scope[],
    name: String(row.name),
    createdAt: Number(row.created_at),
    ...rateLimitOf(row),
  };
}
