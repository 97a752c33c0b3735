// Projects and their hashed access tokens in the projects table.

import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { GroupingVersion } from '#shared/domain/fingerprint';
import type { Scope } from '#shared/projects/access-tokens';
import { projectKeys } from './keys';

export interface Project {
  projectId: number;
  name: string;
  groupingVersion: GroupingVersion;
  createdAt: number;
}

export interface AccessTokenRecord {
  tokenHash: string;
  projectId: number;
  scopes: Scope[];
  name: string;
  createdAt: number;
}

export class ProjectNameTakenError extends Error {
  override readonly name = 'ProjectNameTakenError';
}

export interface ProjectRepository {
  createProject(input: { name: string; groupingVersion: GroupingVersion; now: number }): Promise<Project>;
  getProject(projectId: number): Promise<Project | undefined>;
  findProjectByName(name: string): Promise<Project | undefined>;
  /** Applies to occurrences accepted from now on; existing items are never regrouped. */
  setGroupingVersion(projectId: number, groupingVersion: GroupingVersion): Promise<void>;
  putAccessToken(token: AccessTokenRecord): Promise<void>;
  findAccessToken(tokenHash: string): Promise<AccessTokenRecord | undefined>;
  listAccessTokens(projectId: number): Promise<AccessTokenRecord[]>;
  /** Takes the next number from one of the project's counters: `#1`, `#2`, … */
  takeNumber(projectId: number, counter: 'item_counter' | 'deploy_counter', count?: number): Promise<number>;
}

export class DynamoDBProjectRepository implements ProjectRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createProject(input: {
    name: string;
    groupingVersion: GroupingVersion;
    now: number;
  }): Promise<Project> {
    const counter = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: projectKeys.projectCounter(),
        UpdateExpression: 'ADD #value :one',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const projectId = Number(counter.Attributes?.value);
    const project: Project = {
      projectId,
      name: input.name,
      groupingVersion: input.groupingVersion,
      createdAt: input.now,
    };
    try {
      // The name reservation and the project are written together, so a name never points nowhere.
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...projectKeys.projectName(input.name), project_id: projectId },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...projectKeys.project(projectId),
                  project_id: projectId,
                  name: input.name,
                  grouping_version: input.groupingVersion,
                  created_at: input.now,
                },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        throw new ProjectNameTakenError(`a project named ${input.name} exists already`, { cause: error });
      }
      throw error;
    }
    return project;
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

  async putAccessToken(token: AccessTokenRecord): Promise<void> {
    const attributes = {
      token_hash: token.tokenHash,
      project_id: token.projectId,
      scopes: token.scopes,
      name: token.name,
      created_at: token.createdAt,
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
      new GetCommand({ TableName: this.tableName, Key: projectKeys.accessToken(tokenHash) }),
    );
    return result.Item ? toAccessToken(result.Item) : undefined;
  }

  async listAccessTokens(projectId: number): Promise<AccessTokenRecord[]> {
    const result = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :token)',
        ExpressionAttributeValues: { ':pk': projectKeys.project(projectId).PK, ':token': 'TOKEN#' },
      }),
    );
    return (result.Items ?? []).map(toAccessToken);
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

function toProject(row: Record<string, unknown>): Project {
  return {
    projectId: Number(row.project_id),
    name: String(row.name),
    groupingVersion: row.grouping_version === 1 ? 1 : 2,
    createdAt: Number(row.created_at),
  };
}

function toAccessToken(row: Record<string, unknown>): AccessTokenRecord {
  return {
    tokenHash: String(row.token_hash),
    projectId: Number(row.project_id),
    scopes: (Array.isArray(row.scopes) ? row.scopes : []) as Scope[],
    name: String(row.name),
    createdAt: Number(row.created_at),
  };
}
