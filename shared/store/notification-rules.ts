// Notification rules in the notifications table: a project's rules in one partition (the fan-out
// reads them with one query), numbered from one installation-wide counter, credentials sealed.
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ChannelName, Rule, RuleFilter, TriggerName } from '#shared/notifications/model';
import { openConfig, SealedValueError, type SecretBox, sealConfig } from '#shared/notifications/secrets';
import { notificationKeys } from './keys';
import { queryAll } from './query-all';

export class RuleNotFoundError extends Error {
  override readonly name = 'RuleNotFoundError';
}

/** What a caller decides of a rule; ids and times are the repository's. */
export interface RuleDraft {
  channel: ChannelName;
  trigger: TriggerName;
  status: 'enabled' | 'disabled';
  filters: RuleFilter[];
  config: Record<string, unknown>;
}

export interface RuleRepository {
  create(projectId: number, draft: RuleDraft, nowSeconds: number): Promise<Rule>;
  get(projectId: number, ruleId: number): Promise<Rule | undefined>;
  /** Every rule of a project (all channels), oldest first; one query. */
  list(projectId: number): Promise<Rule[]>;
  /** Replaces a rule's trigger, status, filters and config; RuleNotFoundError when it is gone. */
  replace(projectId: number, ruleId: number, draft: RuleDraft, nowSeconds: number): Promise<Rule>;
  /** RuleNotFoundError when it is not there. */
  delete(projectId: number, ruleId: number): Promise<void>;
  /** The enabled daily summary rules of every project: the schedule's reading list. */
  listSummaryRules(): Promise<Array<{ project_id: number; rule_id: number }>>;
}

interface RuleRow {
  entity: 'rule';
  id: number;
  project_id: number;
  channel: ChannelName;
  trigger: TriggerName;
  status: 'enabled' | 'disabled';
  filters: RuleFilter[];
  config: Record<string, unknown>;
  sealed?: string;
  created_at: number;
  updated_at: number;
}

export class DynamoDBRuleRepository implements RuleRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly box: SecretBox,
  ) {}

  async create(projectId: number, draft: RuleDraft, nowSeconds: number): Promise<Rule> {
    const { Attributes } = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: notificationKeys.ruleCounter(),
        UpdateExpression: 'ADD #value :one',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const id = Number(Attributes?.value);
    const rule: Rule = {
      id,
      project_id: projectId,
      ...draft,
      created_at: nowSeconds,
      updated_at: nowSeconds,
    };
    await this.write(rule, 'attribute_not_exists(PK)');
    return rule;
  }

  async get(projectId: number, ruleId: number): Promise<Rule | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: notificationKeys.rule(projectId, ruleId),
        ConsistentRead: true,
      }),
    );
    return Item ? this.ruleOf(Item as RuleRow) : undefined;
  }

  async list(projectId: number): Promise<Rule[]> {
    const rows = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :rule)',
      ExpressionAttributeValues: { ':pk': notificationKeys.rulesPartition(projectId), ':rule': 'RULE#' },
      ConsistentRead: true,
    });
    return rows.map((row) => this.ruleOf(row as unknown as RuleRow));
  }

  async replace(projectId: number, ruleId: number, draft: RuleDraft, nowSeconds: number): Promise<Rule> {
    const existing = await this.get(projectId, ruleId);
    if (!existing) throw new RuleNotFoundError(`rule ${ruleId} not found`);
    const rule: Rule = { ...existing, ...draft, updated_at: nowSeconds };
    await this.write(rule, 'attribute_exists(PK)');
    return rule;
  }

  async delete(projectId: number, ruleId: number): Promise<void> {
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: notificationKeys.rule(projectId, ruleId),
                ConditionExpression: 'attribute_exists(PK)',
              },
            },
            { Delete: { TableName: this.tableName, Key: notificationKeys.summaryRule(ruleId) } },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error))
        throw new RuleNotFoundError(`rule ${ruleId} not found`, { cause: error });
      throw error;
    }
  }

  async listSummaryRules(): Promise<Array<{ project_id: number; rule_id: number }>> {
    const rows = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': notificationKeys.summaryRule(0).PK },
    });
    return rows.map((row) => ({ project_id: Number(row.project_id), rule_id: Number(row.rule_id) }));
  }

  /** The rule and its entry in the summary list move together, so the schedule never misses one. */
  private async write(rule: Rule, condition: string): Promise<void> {
    const { config, sealed } = sealConfig(rule.channel, rule.config, this.box);
    const row: RuleRow = {
      entity: 'rule',
      id: rule.id,
      project_id: rule.project_id,
      channel: rule.channel,
      trigger: rule.trigger,
      status: rule.status,
      filters: rule.filters,
      config,
      ...(sealed ? { sealed } : {}),
      created_at: rule.created_at,
      updated_at: rule.updated_at,
    };
    const summarized = rule.trigger === 'daily_summary' && rule.status === 'enabled';
    const summaryKey = notificationKeys.summaryRule(rule.id);
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: { ...notificationKeys.rule(rule.project_id, rule.id), ...row },
                ConditionExpression: condition,
              },
            },
            summarized
              ? {
                  Put: {
                    TableName: this.tableName,
                    Item: { ...summaryKey, project_id: rule.project_id, rule_id: rule.id },
                  },
                }
              : { Delete: { TableName: this.tableName, Key: summaryKey } },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error))
        throw new RuleNotFoundError(`rule ${rule.id} not found`, { cause: error });
      throw error;
    }
  }

  /**
   * A rule whose credentials this key cannot open (the key was replaced) keeps its other settings:
   * it is shown and listed without them, and its deliveries fail saying the config is incomplete,
   * rather than one rule breaking its project's fan-out and rule listing. Saving it again with its
   * credentials repairs it.
   */
  private configOf(row: RuleRow): Record<string, unknown> {
    try {
      return openConfig(row.config ?? {}, row.sealed, this.box);
    } catch (error) {
      if (error instanceof SealedValueError) return { ...(row.config ?? {}) };
      throw error;
    }
  }

  private ruleOf(row: RuleRow): Rule {
    return {
      id: Number(row.id),
      project_id: Number(row.project_id),
      channel: row.channel,
      trigger: row.trigger,
      status: row.status,
      filters: row.filters ?? [],
      config: this.configOf(row),
      created_at: Number(row.created_at),
      updated_at: Number(row.updated_at),
    };
  }
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof TransactionCanceledException &&
      (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed'))
  );
}
