// What the regional stack must always hold, derived from the declarations in shared/wiring/.
// Over 400 lines on purpose: one synthesized template read by tables of cases per declared function,
// queue and table; the template is built once for all of them.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FaultlineFunction, repositoryRoot } from '#infra/constructs/faultline-function';
import { REGION_THROTTLES_ALARM_ID } from '#infra/stacks/monitoring';
import { RegionalStack } from '#infra/stacks/regional-stack';
import { EMAIL_FROM_VAR } from '#shared/notifications/email/ses';
import { PUBLIC_URL_VAR } from '#shared/notifications/links';
import { SECRETS_KEY_SECRET_VAR } from '#shared/notifications/secrets';
import { OPERATIONS_REGIONS_VAR } from '#shared/operations/service';
import { type TableDeclaration, type TableName, tables } from '#shared/wiring/tables';
import {
  commonEnvironment,
  type FunctionDeclaration,
  type FunctionName,
  functions,
  httpApi,
  type QueueDeclaration,
  type QueueName,
  queues,
} from '#shared/wiring/topology';
import { FREE_TIER } from '../../bench/prices';

// The one-region stack's functions: the forwarder runs in edge regions only (test/infra/regions.test.ts).
const functionDeclarations = (Object.entries(functions) as Array<[FunctionName, FunctionDeclaration]>).filter(
  ([name]) => name !== 'forwardOccurrences',
);
const tableDeclarations = Object.entries(tables) as Array<[TableName, TableDeclaration]>;
const tableByName: Record<TableName, TableDeclaration> = tables;
const queueDeclarations = Object.entries(queues) as Array<[QueueName, QueueDeclaration]>;

// Skipping esbuild keeps a synth at a fraction of a second; one test below bundles for real.
const skipBundling = { 'aws:cdk:bundling-stacks': [] };

interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

let stack: RegionalStack;
let template: Template;
/** The same stack with `-c cloudwatchDashboard=true`: the opt-in CloudWatch dashboard. */
let withDashboard: Template;

beforeAll(() => {
  const app = new App({ context: skipBundling });
  stack = new RegionalStack(app, 'Faultline-test', { env: { region: 'eu-west-1', account: '123456789012' } });
  template = Template.fromStack(stack);
  const optedIn = new App({ context: { ...skipBundling, cloudwatchDashboard: 'true' } });
  withDashboard = Template.fromStack(
    new RegionalStack(optedIn, 'Faultline-test', { env: { region: 'eu-west-1', account: '123456789012' } }),
  );
});

const logicalId = (construct: IConstruct): string =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);
const functionId = (name: FunctionName): string => logicalId(stack.functions[name]);
/** Triggers invoke a function's `live` alias (test/infra/releases.test.ts holds that for every one). */
const aliasId = (name: FunctionName): string => logicalId(stack.functions[name].live);
/** An event source mapping's `FunctionName` when it targets the alias: `<function name>:live`. */
const aliasTarget = (name: FunctionName) => ({
  'Fn::Join': ['', [{ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: aliasId(name) }] }] }, ':live']],
});
const tableId = (name: TableName): string => logicalId(stack.tables[name]);
const queueId = (name: QueueName): string => logicalId(stack.queues[name].queue);
const deadLetterId = (name: QueueName): string => logicalId(stack.queues[name].deadLetterQueue);

/** Every statement of the policies attached to a function's execution role. */
function statementsOf(name: FunctionName): PolicyStatement[] {
  const roleId = logicalId(stack.functions[name].role);
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }).Properties
        .PolicyDocument.Statement,
  );
}

/** The actions a function is allowed on a resource, recognized by `Fn::GetAtt [id, attribute]`. */
function actionsOn(name: FunctionName, resourceId: string, attribute = 'Arn'): Set<string> {
  const reference = JSON.stringify([resourceId, attribute]);
  const actions = statementsOf(name)
    .filter(
      (statement) => statement.Effect === 'Allow' && JSON.stringify(statement.Resource).includes(reference),
    )
    .flatMap((statement) => [statement.Action].flat());
  return new Set(actions);
}

/** The actions a function is allowed on exactly this resource (a table's ARN, or its `/index/*`). */
function actionsOnResource(name: FunctionName, resource: unknown): string[] {
  const wanted = JSON.stringify(resource);
  const actions = statementsOf(name)
    .filter(
      (statement) =>
        statement.Effect === 'Allow' &&
        [statement.Resource].flat().some((granted) => JSON.stringify(granted) === wanted),
    )
    .flatMap((statement) => [statement.Action].flat());
  return [...new Set(actions)].sort();
}

const tableArn = (name: TableName) => ({ 'Fn::GetAtt': [tableId(name), 'Arn'] });
const indexesArn = (name: TableName) => ({ 'Fn::Join': ['', [tableArn(name), '/index/*']] });

interface EventSourceMappingProperties {
  EventSourceArn: unknown;
  BatchSize?: number;
  StartingPosition?: string;
  MaximumBatchingWindowInSeconds?: number;
  BisectBatchOnFunctionError?: boolean;
  MaximumRetryAttempts?: number;
  FunctionResponseTypes?: string[];
  DestinationConfig?: { OnFailure?: { Destination?: unknown } };
  FilterCriteria?: { Filters?: Array<{ Pattern: string }> };
}

/** The properties of the one event source mapping that triggers a function. */
function mappingOf(name: FunctionName): EventSourceMappingProperties {
  const mappings = Object.values(
    template.findResources('AWS::Lambda::EventSourceMapping', {
      Properties: { FunctionName: aliasTarget(name) },
    }),
  );
  expect(mappings).toHaveLength(1);
  return mappings[0]!.Properties;
}

/** The mapping's filter patterns, parsed: CloudFormation holds each as a JSON string. */
function filterPatternsOf(properties: EventSourceMappingProperties): unknown[] {
  return (properties.FilterCriteria?.Filters ?? []).map((filter) => JSON.parse(filter.Pattern));
}

/** Every metric line of the dashboard, with references written as `${LogicalId}`. */
function dashboardMetrics(): unknown[][] {
  const dashboards = Object.values(withDashboard.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  // References sit inside JSON strings of the body: `{ Ref: X }` becomes `${X}`, a GetAtt `${X.Attribute}`.
  const text = body['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const { Ref: ref, 'Fn::GetAtt': attribute } = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
      return `\${${ref ?? attribute?.join('.')}}`;
    })
    .join('');
  const widgets = (JSON.parse(text) as { widgets: Array<{ properties: { metrics?: unknown[][] } }> }).widgets;
  return widgets.flatMap((widget) => widget.properties.metrics ?? []);
}

const tableWrites = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

describe('the HTTP API', () => {
  const declaredRoutes = functionDeclarations.flatMap(([name, declaration]) =>
    declaration.trigger.kind === 'http'
      ? declaration.trigger.routes.map((routeKey) => ({ name, routeKey }))
      : [],
  );

  it.each(declaredRoutes)('routes $routeKey to $name', ({ name, routeKey }) => {
    const routes = Object.values(
      template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }),
    ) as Array<{ Properties: { Target: { 'Fn::Join': [string, [string, { Ref: string }]] } } }>;
    expect(routes).toHaveLength(1);
    const integrationId = routes[0]!.Properties.Target['Fn::Join'][1][1].Ref;
    const integration = template.toJSON().Resources[integrationId] as {
      Properties: { IntegrationUri: unknown };
    };
    expect(integration.Properties.IntegrationUri).toEqual({ Ref: aliasId(name) });
  });

  it('has no route the wiring does not declare', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Route', declaredRoutes.length);
  });

  it('lets browser SDKs read the rate-limit headers of its answers', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        ExposeHeaders: Match.arrayWith([
          'x-rate-limit-limit',
          'x-rate-limit-remaining',
          'x-rate-limit-reset',
        ]),
      },
    });
  });

  it('logs every request and throttles on its stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('routeKey') },
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
    });
  });
});

describe.each(functionDeclarations)('the %s function', (name, declaration) => {
  it('runs nodejs22.x on arm64 with its declared timeout, memory and active tracing', () => {
    const resource = template.toJSON().Resources[functionId(name)];
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: declaration.timeoutSeconds,
      MemorySize: declaration.memoryMb,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: logicalId(stack.functions[name].logGroup) } },
    });
  });

  it('receives exactly its declared table and queue variables, plus the common ones', () => {
    const variables = template.toJSON().Resources[functionId(name)].Properties.Environment
      .Variables as Record<string, unknown>;
    const expected = [
      ...Object.keys(declaration.tables).map((table) => tables[table as TableName].envVar),
      ...Object.keys(declaration.queues).map((queue) => queues[queue as QueueName].envVar),
      ...Object.keys(commonEnvironment),
      ...(declaration.uses ?? []).flatMap((service) =>
        service === 'secretsKey'
          ? [SECRETS_KEY_SECRET_VAR, PUBLIC_URL_VAR]
          : service === 'email'
            ? [EMAIL_FROM_VAR]
            : service === 'cloudwatch'
              ? [OPERATIONS_REGIONS_VAR]
              : // The dashboard's build travels in the bundle: no variable.
                [],
      ),
      'NODE_OPTIONS',
    ];
    expect(Object.keys(variables).sort()).toEqual([...new Set(expected)].sort());
    for (const [key, value] of Object.entries(commonEnvironment)) expect(variables[key]).toBe(value);
    expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
    for (const table of Object.keys(declaration.tables) as TableName[]) {
      expect(variables[tables[table].envVar]).toEqual({ Ref: tableId(table) });
    }
  });

  it.each(tableDeclarations)('has on the %s table exactly the actions it declares', (table) => {
    const declared = declaration.tables[table] ?? [];
    expect(actionsOnResource(name, tableArn(table))).toEqual(
      declared.map((action) => `dynamodb:${action}`).sort(),
    );
    // An index only answers queries: a grant of anything else on it is a grant nobody uses.
    const queriesIndexes = tableByName[table].globalIndexes.length > 0 && declared.includes('Query');
    expect(actionsOnResource(name, indexesArn(table))).toEqual(queriesIndexes ? ['dynamodb:Query'] : []);
  });

  it('has DynamoDB actions on no resource but its declared tables (and the stream it reads)', () => {
    const streamReader = declaration.trigger.kind === 'stream';
    for (const statement of statementsOf(name)) {
      const actions = [statement.Action].flat().filter((action) => action.startsWith('dynamodb:'));
      if (actions.length === 0) continue;
      const resources = [statement.Resource].flat().map((resource) => JSON.stringify(resource));
      // Lambda lists a table's streams before reading one; ListStreams has no resource-level permission.
      if (resources.includes('"*"')) {
        expect(streamReader).toBe(true);
        expect(actions).toEqual(['dynamodb:ListStreams']);
        continue;
      }
      for (const resource of resources) {
        const declaredTable = (Object.keys(declaration.tables) as TableName[]).some(
          (table) =>
            resource === JSON.stringify(tableArn(table)) || resource === JSON.stringify(indexesArn(table)),
        );
        const stream =
          streamReader &&
          declaration.trigger.kind === 'stream' &&
          resource === JSON.stringify({ 'Fn::GetAtt': [tableId(declaration.trigger.table), 'StreamArn'] });
        expect(declaredTable || stream, `${actions.join(', ')} on ${resource}`).toBe(true);
      }
    }
  });

  it.each(queueDeclarations)('has on the %s queue only the access it declares', (queue) => {
    const actions = actionsOn(name, queueId(queue));
    const access = declaration.queues[queue];
    if (access === undefined) {
      expect(actions.size).toBe(0);
    } else if (access === 'consume') {
      // The event source mapping receives and deletes with the function's role; it never sends.
      expect(actions.has('sqs:ReceiveMessage')).toBe(true);
      expect(actions.has('sqs:DeleteMessage')).toBe(true);
      expect(actions.has('sqs:SendMessage')).toBe(false);
    } else {
      expect([...actions].sort()).toEqual(access.map((action) => `sqs:${action}`).sort());
    }
  });

  it('writes logs only to its own log group', () => {
    const logStatements = statementsOf(name).filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('logs:')),
    );
    expect(logStatements.length).toBeGreaterThan(0);
    for (const statement of logStatements) {
      expect(JSON.stringify(statement.Resource)).toContain(logicalId(stack.functions[name].logGroup));
    }
    // No AWSLambdaBasicExecutionRole: it would let the function write to every log group.
    const role = template.toJSON().Resources[logicalId(stack.functions[name].role)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('least privilege, as the product needs it', () => {
  it('the deploy function only reads the projects table and updates its deploy counter', () => {
    expect(actionsOnResource('ingestDeploy', tableArn('projects'))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('the item-update function cannot delete items, nor write anything but its update', () => {
    expect(actionsOnResource('updateItem', tableArn('items'))).toEqual(['dynamodb:UpdateItem']);
  });

  it('no function can scan a table, nor delete from one, except the rules API removing rules', () => {
    for (const [name] of functionDeclarations) {
      for (const [table] of tableDeclarations) {
        const actions = [
          ...actionsOnResource(name, tableArn(table)),
          ...actionsOnResource(name, indexesArn(table)),
        ];
        expect(actions, `${name} on ${table}`).not.toContain('dynamodb:Scan');
        if (name === 'notificationRules' && table === 'notifications') continue;
        expect(actions, `${name} on ${table}`).not.toContain('dynamodb:DeleteItem');
      }
    }
  });

  it('only the functions that use the credentials key may read it, and only the sender may send email', () => {
    const secretId = logicalId(stack.secretsKey);
    for (const [name, declaration] of functionDeclarations) {
      const readsKey = statementsOf(name).some(
        (statement) =>
          [statement.Action].flat().includes('secretsmanager:GetSecretValue') &&
          JSON.stringify(statement.Resource).includes(JSON.stringify({ Ref: secretId })),
      );
      expect(readsKey, name).toBe((declaration.uses ?? []).includes('secretsKey'));
      const statements = statementsOf(name).filter((statement) =>
        [statement.Action].flat().includes('ses:SendEmail'),
      );
      expect(statements.length, name).toBe((declaration.uses ?? []).includes('email') ? 1 : 0);
      for (const statement of statements) {
        expect(statement.Condition).toEqual({
          StringEquals: { 'ses:FromAddress': { Ref: 'NotificationEmailFrom' } },
        });
      }
    }
  });

  it('runs each scheduled function on an EventBridge rule at its declared rate', () => {
    const rules = template.findResources('AWS::Events::Rule');
    for (const [name, declaration] of functionDeclarations) {
      if (declaration.trigger.kind !== 'schedule') continue;
      const minutes = declaration.trigger.everyMinutes;
      const matching = Object.values(rules).filter((rule) =>
        (rule.Properties.Targets as Array<{ Arn: unknown }>).some(
          (target) => JSON.stringify(target.Arn) === JSON.stringify({ Ref: aliasId(name) }),
        ),
      );
      expect(matching, name).toHaveLength(1);
      expect(matching[0]?.Properties.ScheduleExpression).toBe(`rate(${minutes} minutes)`);
    }
  });

  it("the health function only reads the ingest queue's attributes and describes the projects table", () => {
    expect([...actionsOn('health', queueId('ingest'))]).toEqual(['sqs:GetQueueAttributes']);
    expect(actionsOnResource('health', tableArn('projects'))).toEqual(['dynamodb:DescribeTable']);
  });

  it('ingest may only add to the rate limits table', () => {
    for (const name of ['ingestItem', 'ingestDeploy'] as const) {
      expect(actionsOnResource(name, tableArn('rateLimits'))).toEqual(['dynamodb:UpdateItem']);
    }
  });

  it('the ingest function cannot write items or occurrences', () => {
    for (const table of ['items', 'occurrences'] as const) {
      const actions = actionsOn('ingestItem', tableId(table));
      for (const action of tableWrites) expect(actions.has(action), `${table} ${action}`).toBe(false);
    }
  });

  it('the read API cannot write any table nor send to any queue', () => {
    for (const [table] of tableDeclarations) {
      const actions = actionsOn('readApi', tableId(table));
      for (const action of tableWrites) expect(actions.has(action), `${table} ${action}`).toBe(false);
    }
    for (const [queue] of queueDeclarations) expect(actionsOn('readApi', queueId(queue)).size).toBe(0);
  });
});

describe.each(queueDeclarations)('the %s queue', (name, declaration) => {
  it('moves a message to its dead-letter queue after the declared receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterId(name), 'Arn'] },
        maxReceiveCount: declaration.maxReceiveCount,
      },
      VisibilityTimeout: declaration.visibilityTimeoutSeconds,
      MessageRetentionPeriod: declaration.retentionDays * 86_400,
      SqsManagedSseEnabled: true,
    });
    const deadLetter = template.toJSON().Resources[deadLetterId(name)];
    expect(deadLetter.Properties).toMatchObject({
      MessageRetentionPeriod: declaration.deadLetter.retentionDays * 86_400,
      SqsManagedSseEnabled: true,
    });
  });

  it('and its dead-letter queue refuse requests without TLS', () => {
    for (const id of [queueId(name), deadLetterId(name)]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('alarms as soon as its dead-letter queue holds a message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetterId(name), 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
    });
  });

  it('alarms when its oldest message is getting old', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(name), 'QueueName'] } }],
    });
  });
});

describe('event sources', () => {
  const queueConsumers = functionDeclarations.flatMap(([name, declaration]) =>
    declaration.trigger.kind === 'queue' ? [{ name, declaration, trigger: declaration.trigger }] : [],
  );
  const streamConsumers = functionDeclarations.flatMap(([name, declaration]) =>
    declaration.trigger.kind === 'stream' ? [{ name, declaration, trigger: declaration.trigger }] : [],
  );

  it('exist exactly for the declared queue and stream triggers', () => {
    template.resourceCountIs(
      'AWS::Lambda::EventSourceMapping',
      queueConsumers.length + streamConsumers.length,
    );
  });

  it.each(queueConsumers)('$name consumes its queue in batches and reports item failures', (consumer) => {
    const { name, declaration, trigger } = consumer;
    // AWS advises six times the function's timeout, so a retried batch is not received twice at once.
    const resources = template.toJSON().Resources;
    const visibilityTimeout = resources[queueId(trigger.queue)].Properties.VisibilityTimeout as number;
    const timeout = resources[functionId(name)].Properties.Timeout as number;
    expect(timeout).toBe(declaration.timeoutSeconds);
    expect(visibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: aliasTarget(name),
      EventSourceArn: { 'Fn::GetAtt': [queueId(trigger.queue), 'Arn'] },
      BatchSize: trigger.batchSize,
      MaximumBatchingWindowInSeconds: trigger.maxBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it.each(streamConsumers)(
    '$name reads its table stream as declared, reporting item failures',
    (consumer) => {
      const { name, trigger } = consumer;
      const properties = mappingOf(name);
      expect(properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [tableId(trigger.table), 'StreamArn'] },
        BatchSize: trigger.batchSize,
        StartingPosition: trigger.startingPosition,
        BisectBatchOnFunctionError: trigger.bisectOnError ?? true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      const failureQueues = stack.streamFailureQueues.map((queue) => ({
        'Fn::GetAtt': [logicalId(queue), 'Arn'],
      }));
      expect(failureQueues).toContainEqual(properties.DestinationConfig?.OnFailure?.Destination);
      // Absent means retry until the records expire, which is what an undeclared count asks for.
      expect(properties.MaximumRetryAttempts).toBe(trigger.retryAttempts);
      expect(properties.MaximumBatchingWindowInSeconds).toBe(trigger.maxBatchingWindowSeconds);
      expect(filterPatternsOf(properties)).toEqual(
        trigger.filter
          ? [
              {
                eventName: [...trigger.filter.eventNames],
                dynamodb: { NewImage: { entity: { S: [...trigger.filter.entities] } } },
              },
            ]
          : [],
      );
    },
  );

  it.each(streamConsumers)(
    "$name's filter reads a new image that its table's stream carries",
    ({ trigger }) => {
      const streamViewType =
        template.toJSON().Resources[tableId(trigger.table)].Properties.StreamSpecification?.StreamViewType;
      expect(streamViewType).toBe(tableByName[trigger.table].stream);
      if (trigger.filter) expect(['NEW_IMAGE', 'NEW_AND_OLD_IMAGES']).toContain(streamViewType);
    },
  );

  it('the fold reads every new occurrence row, never bisects and never gives up before the records expire', () => {
    const fold = functions.foldOccurrences.trigger;
    const properties = mappingOf('foldOccurrences');
    expect(properties.EventSourceArn).toEqual({ 'Fn::GetAtt': [tableId('occurrences'), 'StreamArn'] });
    expect(properties.BatchSize).toBe(fold.batchSize);
    expect(properties.MaximumBatchingWindowInSeconds).toBe(fold.maxBatchingWindowSeconds);
    // Its ledger is keyed by the record a step starts at: a bisected retry would start elsewhere.
    expect(properties.BisectBatchOnFunctionError).toBe(false);
    // A record dropped after some retries would be an occurrence never counted.
    expect(properties).not.toHaveProperty('MaximumRetryAttempts');
    expect(properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(filterPatternsOf(properties)).toEqual([
      { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['occurrence'] } } } },
    ]);
  });

  it.each(streamConsumers)(
    '$name alarms when it falls behind its stream, and is on the dashboard',
    ({ name }) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
        AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
      });
      expect(dashboardMetrics()).toContainEqual(
        expect.arrayContaining(['AWS/Lambda', 'IteratorAge', 'FunctionName', `\${${functionId(name)}}`]),
      );
    },
  );

  it('every stream failure queue has a depth alarm', () => {
    expect(stack.streamFailureQueues).toHaveLength(streamConsumers.length);
    for (const queue of stack.streamFailureQueues) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(queue), 'QueueName'] } }],
        Threshold: 0,
      });
    }
  });
});

describe.each(tableDeclarations)('the %s table', (name, declaration) => {
  it('is on demand, recoverable to a point in time and retained', () => {
    const resource = template.toJSON().Resources[tableId(name)];
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(resource.Properties.Replicas[0].PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
  });

  it('has the declared keys, indexes, stream and time to live', () => {
    const properties = template.toJSON().Resources[tableId(name)].Properties;
    const keySchema = (keys: Pick<TableDeclaration, 'partitionKey' | 'sortKey'>) => [
      { AttributeName: keys.partitionKey.name, KeyType: 'HASH' },
      ...(keys.sortKey ? [{ AttributeName: keys.sortKey.name, KeyType: 'RANGE' }] : []),
    ];
    expect(properties.KeySchema).toEqual(keySchema(declaration));
    expect(properties.GlobalSecondaryIndexes ?? []).toEqual(
      declaration.globalIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: keySchema(index),
        Projection: { ProjectionType: index.projection },
      })),
    );
    expect(properties.StreamSpecification).toEqual(
      declaration.stream ? { StreamViewType: declaration.stream } : undefined,
    );
    expect(properties.TimeToLiveSpecification).toEqual(
      declaration.timeToLiveAttribute
        ? { AttributeName: declaration.timeToLiveAttribute, Enabled: true }
        : undefined,
    );
  });
});

describe('the occurrences table', () => {
  it('streams new images only, for the fold, and has no index to pay for on every write', () => {
    const properties = template.toJSON().Resources[tableId('occurrences')].Properties;
    expect(properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    expect(properties.GlobalSecondaryIndexes).toBeUndefined();
  });
});

describe('alarms', () => {
  const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
  const alarmIds = () =>
    stack.node.children.filter((child) => child instanceof Alarm).map((alarm) => alarm.node.id);

  const httpFunctions = functionDeclarations.filter(([, d]) => d.trigger.kind === 'http');
  const otherFunctions = functionDeclarations.filter(([, d]) => d.trigger.kind !== 'http');

  it('are 18: errors per function that is not HTTP, one for throttles in the region, the queues, the streams and the API', () => {
    const streamReaders = functionDeclarations.filter(([, d]) => d.trigger.kind === 'stream');
    expect(alarmIds().sort()).toEqual(
      [
        ...otherFunctions.map(([name]) => `${pascal(name)}ErrorsAlarm`),
        REGION_THROTTLES_ALARM_ID,
        ...queueDeclarations.flatMap(([, queue]) => [
          `${queue.deadLetter.logicalId}DepthAlarm`,
          `${queue.logicalId}OldestMessageAlarm`,
        ]),
        ...streamReaders.flatMap(([name]) => [
          `${pascal(name)}IteratorAgeAlarm`,
          `${pascal(name)}StreamFailureQueueDepthAlarm`,
        ]),
        'Api5xxAlarm',
      ].sort(),
    );
    // Each is $0.10 a month past the account's free 10 (docs/benchmarks.md, "Idle").
    template.resourceCountIs('AWS::CloudWatch::Alarm', 18);
  });

  it('no HTTP function has an errors alarm of its own: its crashes and timeouts are the 5xx the API alarm reads', () => {
    expect(httpFunctions.map(([name]) => name).sort()).toEqual(
      [
        'health',
        'ingestDeploy',
        'ingestItem',
        'notificationRules',
        'readApi',
        'serveDashboard',
        'updateItem',
      ].sort(),
    );
    for (const [name] of httpFunctions) {
      expect(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: {
            MetricName: 'Errors',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
          },
        }),
        name,
      ).toEqual({});
    }
  });

  it.each(otherFunctions)('%s has its own errors alarm', (name) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
      AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
    });
  });

  it('one alarm watches throttles of every function in the region, with no dimension', () => {
    const throttles = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Throttles' } }),
    );
    expect(throttles).toHaveLength(1);
    expect(throttles[0]!.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
    });
    expect(throttles[0]!.Properties.Dimensions).toBeUndefined();
    expect(dashboardMetrics()).toContainEqual(['AWS/Lambda', 'Throttles', expect.anything()]);
  });

  it("the API alarms on 5xx answers, and so does ingest's function URL, in the same alarm", () => {
    const metricsOf = (alarm: { [key: string]: { Metrics?: unknown[] } }) =>
      JSON.stringify(alarm.Properties?.Metrics ?? []);
    const api5xx = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      metricsOf(alarm).includes('"AWS/ApiGateway"'),
    );
    expect(api5xx).toHaveLength(1);
    expect(api5xx[0]!.Properties.Threshold).toBe(0);
    expect(api5xx[0]!.Properties.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'FILL(api, 0) + FILL(url0, 0)', ReturnData: true }),
        expect.objectContaining({
          Id: 'api',
          MetricStat: expect.objectContaining({
            Metric: expect.objectContaining({ Namespace: 'AWS/ApiGateway', MetricName: '5xx' }),
          }),
        }),
        expect.objectContaining({
          Id: 'url0',
          MetricStat: expect.objectContaining({
            Metric: {
              Namespace: 'AWS/Lambda',
              MetricName: 'Url5xxCount',
              Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId('ingestItem') } }],
            },
          }),
        }),
      ]),
    );
  });
});

describe("ingest's function URL", () => {
  const urlFunctions = functionDeclarations.filter(
    ([, declaration]) => declaration.trigger.kind === 'http' && declaration.trigger.functionUrl === true,
  );

  it('is declared for ingest alone: deploys, reads and the dashboard stay on the API', () => {
    expect(urlFunctions.map(([name]) => name)).toEqual(['ingestItem']);
    template.resourceCountIs('AWS::Lambda::Url', 1);
  });

  it("serves the live alias, with no AWS auth (the access token is the authentication) and the API's CORS", () => {
    const [url] = Object.values(template.findResources('AWS::Lambda::Url'));
    expect(url!.Properties).toEqual({
      TargetFunctionArn: { 'Fn::GetAtt': [functionId('ingestItem'), 'Arn'] },
      Qualifier: 'live',
      AuthType: 'NONE',
      // From the wiring's one declaration, as the HTTP API's own: browser rollbar.js posts cross-origin.
      Cors: {
        AllowOrigins: [...httpApi.cors.allowOrigins],
        AllowMethods: [...httpApi.cors.allowMethods],
        AllowHeaders: [...httpApi.cors.allowHeaders],
        ExposeHeaders: [...httpApi.cors.exposeHeaders],
        MaxAge: httpApi.cors.maxAgeSeconds,
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: {
        AllowOrigins: [...httpApi.cors.allowOrigins],
        AllowHeaders: [...httpApi.cors.allowHeaders],
        ExposeHeaders: [...httpApi.cors.exposeHeaders],
        MaxAge: httpApi.cors.maxAgeSeconds,
      },
    });
  });

  it('may be called by anyone, on the live alias only, and only through the URL', () => {
    // AWS requires both permissions for a URL with AuthType NONE; without them every call is a 403.
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (permission) => permission.Properties.Principal === '*',
    );
    expect(permissions.map((permission) => permission.Properties)).toEqual(
      expect.arrayContaining([
        {
          Action: 'lambda:InvokeFunctionUrl',
          FunctionName: { Ref: aliasId('ingestItem') },
          FunctionUrlAuthType: 'NONE',
          Principal: '*',
        },
        {
          Action: 'lambda:InvokeFunction',
          FunctionName: { Ref: aliasId('ingestItem') },
          InvokedViaFunctionUrl: true,
          Principal: '*',
        },
      ]),
    );
    expect(permissions).toHaveLength(2);
  });

  it('is the IngestUrl output, beside the API URL', () => {
    const [urlId] = Object.keys(template.findResources('AWS::Lambda::Url'));
    template.hasOutput('IngestUrl', { Value: { 'Fn::GetAtt': [urlId, 'FunctionUrl'] } });
    template.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });
});

describe('the Operations page', () => {
  it('is read by the read API alone, which may only list and read metrics (CloudWatch scopes neither to a resource)', () => {
    const readers = functionDeclarations.filter(([, d]) =>
      ((d as FunctionDeclaration).uses ?? []).includes('cloudwatch'),
    );
    expect(readers.map(([name]) => name)).toEqual(['readApi']);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as PolicyStatement[],
    );
    const cloudwatch = statements.filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('cloudwatch:')),
    );
    expect(cloudwatch).toHaveLength(1);
    expect(cloudwatch[0]).toMatchObject({
      Effect: 'Allow',
      Action: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
      Resource: '*',
    });
  });

  it("tells the read API its region, its stack's name and its API's id", () => {
    const variables = template.toJSON().Resources[functionId('readApi')].Properties.Environment.Variables;
    const text = JSON.stringify(variables[OPERATIONS_REGIONS_VAR]);
    expect(text).toContain('Faultline-test');
    expect(text).toContain(logicalId(stack.api));
    expect(text).toContain('\\"role\\":\\"single\\"');
  });
});

describe('the CloudWatch dashboard', () => {
  it('is not made unless asked for: the Operations page draws the same graphs at no idle cost', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    withDashboard.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    withDashboard.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Faultline-test' });
  });

  it('refuses -c cloudwatchDashboard that is neither true nor false', () => {
    const app = new App({ context: { ...skipBundling, cloudwatchDashboard: 'yes' } });
    expect(
      () =>
        new RegionalStack(app, 'Faultline-test', { env: { region: 'eu-west-1', account: '123456789012' } }),
    ).toThrow('-c cloudwatchDashboard is true or false, not yes');
  });

  it('asked for, adds no alarm', () => {
    withDashboard.resourceCountIs('AWS::CloudWatch::Alarm', 18);
  });

  it('draws no more metrics than a free dashboard holds (50), searches counted as one line each', () => {
    const lines = dashboardMetrics();
    const searches = lines.filter((line) => JSON.stringify(line).includes('SEARCH('));
    // 35 named metrics: the two searches may draw 15 lines (refusal reasons, channels x outcomes) for free.
    expect(lines.length - searches.length).toBe(35);
    expect(searches).toHaveLength(2);
    expect(lines.length).toBeLessThanOrEqual(FREE_TIER.dashboardMetrics);
  });
});

describe('cdk-nag (AWS Solutions)', () => {
  it('leaves no finding unacknowledged', () => {
    const app = new App({ context: skipBundling });
    new RegionalStack(app, 'Faultline-nag', { env: { region: 'eu-west-1', account: '123456789012' } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // A validation plugin that reports a violation makes synth throw, listing the findings.
    expect(() => app.synth()).not.toThrow();
  });
});

// REAL BUNDLING: runs esbuild on one declared handler (a few seconds), to prove the bundle resolves
// package.json `imports` and comes out as ESM with its source map.
describe('bundling for real', () => {
  it('bundles a declared handler into an .mjs asset with its source map', () => {
    const preferred = [functions.ingestItem.entry, ...functionDeclarations.map(([, d]) => d.entry)];
    const entry = preferred.find((candidate) => existsSync(path.join(repositoryRoot, candidate)));
    if (!entry) throw new Error('no declared handler exists under functions/ yet');

    const app = new App();
    const bundled = new Stack(app, 'Bundled');
    new FaultlineFunction(bundled, 'Handler', { entry });
    const assembly = app.synth();

    const assets = readdirSync(assembly.directory).filter((file) => file.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const files = readdirSync(path.join(assembly.directory, assets[0]!));
    expect(files).toContain('index.mjs');
    expect(files).toContain('index.mjs.map');
  });
});
