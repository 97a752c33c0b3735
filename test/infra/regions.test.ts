// The stacks of several regions (`-c regions=…`): what a home, a standby and an edge hold, the Global
// Tables' replicas, the one cross-region right (sending to a pipeline region's ingest queue), the edge's
// queue, DNS with and without a domain, and cdk-nag on every stack. One synth per plan, shared.
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultlineFunction } from '#infra/constructs/faultline-function';
import { EdgeStack, edgeQueue } from '#infra/stacks/edge-stack';
import { createFaultlineStacks, type FaultlineStacks } from '#infra/stacks/faultline-stacks';
import { hasErrorsAlarm } from '#infra/stacks/monitoring';
import { parseDomain } from '#infra/stacks/regional-domain';
import type { RegionalStack } from '#infra/stacks/regional-stack';
import { MOVED_ALL_AT_ONCE, rollbackAlarmIds } from '#infra/stacks/releases';
import { PUBLIC_URL_VAR } from '#shared/notifications/links';
import { SECRETS_KEY_SECRET_VAR } from '#shared/notifications/secrets';
import { OPERATIONS_REGIONS_VAR } from '#shared/operations/service';
import {
  edgeFunctions,
  homeRowReaders,
  parseRegionPlan,
  pipelineRegions,
  type RegionPlan,
  regionEnvironment,
  regionVariableReaders,
} from '#shared/wiring/regions';
import { type TableName, tables } from '#shared/wiring/tables';
import {
  accessOf,
  type FunctionName,
  functions,
  isConsumeAndSend,
  type QueueName,
  queues,
} from '#shared/wiring/topology';

// Skipping esbuild keeps a synth at a fraction of a second (test/infra/stack.test.ts bundles for real).
const skipBundling = { 'aws:cdk:bundling-stacks': [] };
const account = '123456789012';
const domain = { name: 'errors.example.com', hostedZoneId: 'Z0EXAMPLE', hostedZoneName: 'example.com' };

interface Plan {
  regions: RegionPlan;
  stacks: FaultlineStacks;
  /** The synth's failure (cdk-nag throws when a finding is left unacknowledged), if any. */
  synthError?: unknown;
  templates: Map<Stack, Template>;
}

/** One app per plan, checked by cdk-nag as infra/app.ts checks it; each template read once. */
function synthesize(options: Parameters<typeof parseRegionPlan>[0], withDomain: boolean): Plan {
  const app = new App({ context: skipBundling });
  const regions = parseRegionPlan(options);
  const stacks = createFaultlineStacks(app, {
    plan: regions,
    account,
    domain: withDomain ? domain : undefined,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let assembly: CloudAssembly | undefined;
  let synthError: unknown;
  try {
    assembly = app.synth();
  } catch (error) {
    synthError = error;
  }
  const templates = new Map<Stack, Template>();
  for (const stack of [stacks.home, ...stacks.standbys, ...stacks.edges]) {
    templates.set(
      stack,
      assembly
        ? Template.fromJSON(assembly.getStackByName(stack.stackName).template as Record<string, unknown>)
        : Template.fromStack(stack),
    );
  }
  return { regions, stacks, synthError, templates };
}

// Home us-east-1, standby eu-west-1, edge ap-southeast-2, with a domain.
let full: Plan;
// Home us-east-1 and edge eu-west-1, no standby, no domain.
let plain: Plan;

beforeAll(() => {
  full = synthesize(
    {
      regions: 'us-east-1,eu-west-1,ap-southeast-2',
      home: 'us-east-1',
      standby: 'eu-west-1',
      defaultRegion: 'us-east-1',
    },
    true,
  );
  plain = synthesize(
    { regions: 'us-east-1,eu-west-1', home: 'us-east-1', defaultRegion: 'us-east-1' },
    false,
  );
  // Five stacks synthesized: a few seconds of CPU, longer on a machine busy with other test files.
}, 180_000);

const home = () => full.stacks.home;
const standby = () => full.stacks.standbys[0]!;
const edge = () => full.stacks.edges[0]!;
const templateOf = (stack: Stack, plan: Plan = full): Template => plan.templates.get(stack)!;

const logicalId = (construct: IConstruct): string =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** A statement on the stack's own ingest queue: the worker re-queues to itself what must wait. */
function sendsToOwnQueue(stack: RegionalStack, statement: PolicyStatement): boolean {
  const own = render(stack.resolve(stack.queues.ingest.queue.queueArn));
  return [statement.Resource].flat().every((resource) => render(resource) === own);
}

function statementsOf(fn: FaultlineFunction, plan: Plan = full): PolicyStatement[] {
  const stack = Stack.of(fn);
  const policies = templateOf(stack, plan).findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: logicalId(fn.role) }]) },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }).Properties
        .PolicyDocument.Statement,
  );
}

/** A CloudFormation value written out: pseudo parameters as AWS names them, the account as given. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const { Ref: ref, 'Fn::Join': join } = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
  if (ref === 'AWS::Partition') return 'aws';
  if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (ref === 'AWS::AccountId') return account;
  if (join) return join[1].map(render).join(join[0]);
  return JSON.stringify(value);
}

const ingestQueueArn = (region: string) => `arn:aws:sqs:${region}:${account}:Faultline-ingest`;

function environmentOf(fn: FaultlineFunction, plan: Plan = full): Record<string, unknown> {
  const resource = templateOf(Stack.of(fn), plan).toJSON().Resources[logicalId(fn)];
  return resource.Properties.Environment.Variables as Record<string, unknown>;
}

/** The Global Tables a stack creates: logical id → name and the regions of its replicas. */
function globalTables(
  stack: Stack,
  plan: Plan = full,
): Array<{ name: string; regions: string[]; properties: Record<string, unknown> }> {
  return Object.values(templateOf(stack, plan).findResources('AWS::DynamoDB::GlobalTable')).map((table) => ({
    name: table.Properties.TableName as string,
    regions: (table.Properties.Replicas as Array<{ Region: string }>).map((replica) => replica.Region).sort(),
    properties: table.Properties as Record<string, unknown>,
  }));
}

describe('the stacks of a plan', () => {
  it('are a home, a standby and an edge, each in its own region and named for it', () => {
    expect(home().stackName).toBe('Faultline-us-east-1');
    expect(home().role).toBe('home');
    expect(standby().stackName).toBe('Faultline-eu-west-1');
    expect(standby().role).toBe('standby');
    expect(edge().stackName).toBe('Faultline-ap-southeast-2');
    expect([home().region, standby().region, edge().region]).toEqual([
      'us-east-1',
      'eu-west-1',
      'ap-southeast-2',
    ]);
  });

  it('deploy the standby and the edge after the home, whose Global Tables their replicas are', () => {
    expect(standby().dependencies).toContain(home());
    expect(edge().dependencies).toContain(home());
    expect(home().dependencies).toEqual([]);
  });

  it('leave no cdk-nag finding unacknowledged, in any stack of either plan', () => {
    expect(full.synthError).toBeUndefined();
    expect(plain.synthError).toBeUndefined();
  });

  it("give every region's ingest a function URL on its live alias, open to SDKs, named by IngestUrl", () => {
    for (const plan of [full, plain]) {
      for (const stack of [plan.stacks.home, ...plan.stacks.standbys, ...plan.stacks.edges]) {
        const template = templateOf(stack, plan);
        const urls = template.findResources('AWS::Lambda::Url');
        expect(Object.values(urls).map((url) => url.Properties)).toEqual([
          expect.objectContaining({
            TargetFunctionArn: { 'Fn::GetAtt': [logicalId(stack.functions.ingestItem), 'Arn'] },
            Qualifier: 'live',
            AuthType: 'NONE',
            Cors: expect.objectContaining({ AllowOrigins: ['*'] }),
          }),
        ]);
        template.hasOutput('IngestUrl', { Value: { 'Fn::GetAtt': [Object.keys(urls)[0], 'FunctionUrl'] } });
      }
    }
  });

  it('of one region are the one-region stack: no fixed name, no replica, no region variable', () => {
    // test/infra/stack.test.ts checks that stack in full; here, that a plan of one region builds it.
    const app = new App({ context: skipBundling });
    const {
      home: single,
      standbys,
      edges,
    } = createFaultlineStacks(app, {
      plan: parseRegionPlan({ defaultRegion: 'eu-west-1' }),
      account,
    });
    expect([single.stackName, single.role, standbys.length, edges.length]).toEqual([
      'Faultline-eu-west-1',
      'single',
      0,
      0,
    ]);
    const template = Template.fromStack(single);
    for (const table of Object.values(template.findResources('AWS::DynamoDB::GlobalTable'))) {
      expect(table.Properties.TableName).toBeUndefined();
      expect(table.Properties.Replicas).toEqual([expect.objectContaining({ Region: 'eu-west-1' })]);
    }
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.QueueName).toBeUndefined();
    }
    const text = JSON.stringify(template.toJSON());
    for (const variable of Object.values(regionEnvironment)) expect(text).not.toContain(variable);
  });
});

describe('the home stack', () => {
  it('names every table after the stack prefix and its declared name, the same in every region', () => {
    const names = globalTables(home()).map((table) => table.name);
    expect(names.sort()).toEqual(
      (Object.keys(tables) as TableName[]).map((name) => `Faultline-${name}`).sort(),
    );
  });

  it('owns the Global Tables: tokens replicated to every region, the data to the standby, search and rate limits its own', () => {
    const replicas = Object.fromEntries(globalTables(home()).map((table) => [table.name, table.regions]));
    expect(replicas).toEqual({
      'Faultline-projects': ['ap-southeast-2', 'eu-west-1', 'us-east-1'],
      'Faultline-items': ['eu-west-1', 'us-east-1'],
      'Faultline-occurrences': ['eu-west-1', 'us-east-1'],
      'Faultline-notifications': ['eu-west-1', 'us-east-1'],
      'Faultline-rateLimits': ['us-east-1'],
      'Faultline-search': ['us-east-1'],
    });
  });

  it("keeps each table's stream and time to live, and recovery and deletion protection in every replica", () => {
    const byName = Object.fromEntries(globalTables(home()).map((table) => [table.name, table.properties]));
    expect(byName['Faultline-items']!.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    // The fold reads new images; the replicas do not need the old ones.
    expect(byName['Faultline-occurrences']!.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    expect(byName['Faultline-occurrences']!.TimeToLiveSpecification).toEqual({
      AttributeName: tables.occurrences.timeToLiveAttribute,
      Enabled: true,
    });
    for (const table of globalTables(home())) {
      for (const replica of table.properties.Replicas as Array<Record<string, unknown>>) {
        expect(replica, `${table.name} in ${replica.Region}`).toMatchObject({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        });
      }
    }
  });

  it('names its ingest queue so that forwarders can address it, and keeps its dead-letter queue', () => {
    templateOf(home()).hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'Faultline-ingest',
      RedrivePolicy: {
        maxReceiveCount: queues.ingest.maxReceiveCount,
        deadLetterTargetArn: Match.anyValue(),
      },
    });
  });

  it("tells the storing worker, the fold and the fan-out their region and the plan's home", () => {
    for (const name of regionVariableReaders('home')) {
      const variables = environmentOf(home().functions[name]);
      expect(variables[regionEnvironment.self], name).toBe('us-east-1');
      expect(variables[regionEnvironment.initialHome], name).toBe('us-east-1');
    }
    expect(regionVariableReaders('home').sort()).toEqual([
      'fanOutNotifications',
      'foldOccurrences',
      'storeOccurrences',
    ]);
    // The rest of the pipeline never reads them.
    expect(environmentOf(home().functions.readApi)[regionEnvironment.self]).toBeUndefined();
  });

  it("tells the Operations page every region of the plan and the ingest queue's fixed name", () => {
    // A join (home's own API id is a reference): its text is searched, quotes escaped.
    const text = JSON.stringify(environmentOf(home().functions.readApi)[OPERATIONS_REGIONS_VAR]);
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2'])
      expect(text).toContain(`\\"region\\":\\"${region}\\"`);
    expect(text).toContain('\\"ingestQueueName\\":\\"Faultline-ingest\\"');
    expect(text.split('ingestQueueName').length - 1).toBe(3);
  });

  it("tells only the storing worker the other pipeline regions' queues, and the home row readers the projects table", () => {
    const worker = environmentOf(home().functions.storeOccurrences);
    expect(JSON.parse(render(worker[regionEnvironment.pipelineQueues]))).toEqual({
      'eu-west-1': `https://sqs.eu-west-1.amazonaws.com/${account}/Faultline-ingest`,
    });
    for (const name of ['foldOccurrences', 'fanOutNotifications'] as const) {
      expect(environmentOf(home().functions[name])[regionEnvironment.pipelineQueues], name).toBeUndefined();
    }
    for (const name of homeRowReaders('home')) {
      const variables = environmentOf(home().functions[name]);
      expect(variables[tables.projects.envVar], name).toEqual({ Ref: logicalId(home().tables.projects) });
    }
    // The fold reads only its region's name, never the home row.
    expect(homeRowReaders('home')).not.toContain('foldOccurrences');
  });

  it("lets its storing worker send to the standby's ingest queue only (and re-queue to its own): it forwards while not home", () => {
    const sends = statementsOf(home().functions.storeOccurrences).filter(
      (statement) =>
        [statement.Action].flat().includes('sqs:SendMessage') && !sendsToOwnQueue(home(), statement),
    );
    expect(sends.map((statement) => [statement.Action, [statement.Resource].flat().map(render)])).toEqual([
      ['sqs:SendMessage', [ingestQueueArn('eu-west-1')]],
    ]);
  });

  it('has no cross-region grant when the plan has no standby (home and edges only)', () => {
    const sends = statementsOf(plain.stacks.home.functions.storeOccurrences, plain).filter(
      (statement) =>
        [statement.Action].flat().includes('sqs:SendMessage') &&
        !sendsToOwnQueue(plain.stacks.home, statement),
    );
    expect(sends).toEqual([]);
  });
});

describe('the standby stack', () => {
  it('runs the whole pipeline on the replicas, and creates only its own search and rate-limits tables', () => {
    expect(Object.keys(standby().functions).sort()).toEqual(
      (Object.keys(functions) as FunctionName[]).filter((name) => name !== 'forwardOccurrences').sort(),
    );
    expect(
      globalTables(standby())
        .map((table) => [table.name, table.regions])
        .sort(),
    ).toEqual([
      ['Faultline-rateLimits', ['eu-west-1']],
      ['Faultline-search', ['eu-west-1']],
    ]);
    const projects = environmentOf(standby().functions.ingestItem)[tables.projects.envVar];
    expect(projects).toBe('Faultline-projects');
  });

  it("reads its replicas' streams: the fold the occurrences replica, the fan-out and indexer the items replica", () => {
    const template = templateOf(standby());
    const describes = template.findResources('Custom::AWS');
    const described = Object.fromEntries(
      Object.entries(describes).map(([id, resource]) => [
        id,
        JSON.parse(render(resource.Properties.Create)).parameters.TableName as string,
      ]),
    );
    expect(Object.values(described).sort()).toEqual(['Faultline-items', 'Faultline-occurrences']);
    // Each mapping triggers the function's live alias (`<function>:live`).
    const mappingOf = (name: FunctionName) =>
      Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).find((mapping) =>
        JSON.stringify(mapping.Properties.FunctionName).includes(
          `"Ref":"${logicalId(standby().functions[name].live)}"`,
        ),
      )!.Properties.EventSourceArn as { 'Fn::GetAtt': [string, string] };
    const streamOf = (name: FunctionName) => described[mappingOf(name)['Fn::GetAtt'][0]];
    expect(streamOf('foldOccurrences')).toBe('Faultline-occurrences');
    expect(streamOf('fanOutNotifications')).toBe('Faultline-items');
    expect(streamOf('indexSearch')).toBe('Faultline-items');
  });

  it("opens channel credentials with the home's key: the home's secret replicates to it, and it makes none", () => {
    const secrets = (stack: Stack) =>
      Object.values(templateOf(stack).findResources('AWS::SecretsManager::Secret'));
    const [homeSecret] = secrets(home());
    expect(secrets(home())).toHaveLength(1);
    expect(homeSecret!.Properties).toMatchObject({
      Name: 'Faultline-NotificationSecretsKey',
      ReplicaRegions: [{ Region: 'eu-west-1' }],
    });
    expect(secrets(standby())).toEqual([]);
    const sender = standby().functions.sendNotifications;
    expect(environmentOf(sender)[SECRETS_KEY_SECRET_VAR]).toBe('Faultline-NotificationSecretsKey');
    const reads = statementsOf(sender).filter((statement) =>
      [statement.Action].flat().includes('secretsmanager:GetSecretValue'),
    );
    expect(reads.map((statement) => render(statement.Resource))).toEqual([
      `arn:aws:secretsmanager:eu-west-1:${account}:secret:Faultline-NotificationSecretsKey-??????`,
    ]);
  });

  it("lets its storing worker send to the home's ingest queue only (and re-queue to its own)", () => {
    const sends = statementsOf(standby().functions.storeOccurrences).filter(
      (statement) =>
        [statement.Action].flat().includes('sqs:SendMessage') && !sendsToOwnQueue(standby(), statement),
    );
    expect(sends.map((statement) => [statement.Action, [statement.Resource].flat().map(render)])).toEqual([
      ['sqs:SendMessage', [ingestQueueArn('us-east-1')]],
    ]);
  });
});

describe('an edge stack', () => {
  it('has no data table, no fold and no pipeline: the ingest API, its queue, the forwarder and health', () => {
    const template = templateOf(edge());
    // Its only table counts its own rate limits; tokens come from the projects replica.
    expect(Object.keys(template.findResources('AWS::DynamoDB::GlobalTable'))).toEqual([
      logicalId(edge().rateLimits),
    ]);
    expect(Object.keys(template.findResources('AWS::DynamoDB::Table'))).toEqual([]);
    expect(Object.keys(edge().functions).sort()).toEqual([...edgeFunctions].sort());
    template.resourceCountIs('AWS::Lambda::Function', edgeFunctions.length);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (route) => route.Properties.RouteKey as string,
    );
    const declared = edgeFunctions.flatMap((name) => {
      const trigger = functions[name].trigger;
      return trigger.kind === 'http' ? [...trigger.routes] : [];
    });
    expect(routes.sort()).toEqual(declared.sort());
    expect(routes).toContain('POST /api/1/deploy');
  });

  it('keeps what it accepted 14 days, moves nothing to a dead-letter queue, and alarms at 15 minutes', () => {
    const template = templateOf(edge());
    template.resourceCountIs('AWS::SQS::Queue', 1);
    const [queue] = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queue!.Properties).toMatchObject({
      QueueName: 'Faultline-ingest',
      MessageRetentionPeriod: edgeQueue.retentionDays * 86_400,
      SqsManagedSseEnabled: true,
    });
    expect(queue!.Properties.RedrivePolicy).toBeUndefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(edge().ingestQueue), 'QueueName'] } },
      ],
      Threshold: 900,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: logicalId(edge().alarmTopic) }],
    });
  });

  it("lets the forwarder send to the home's and the standby's ingest queues, and nothing else elsewhere", () => {
    const forwarder = edge().functions.forwardOccurrences;
    const statements = statementsOf(forwarder);
    const crossRegion = statements.filter((statement) =>
      [statement.Resource]
        .flat()
        .map(render)
        .some((resource) => resource.includes('us-east-1') || resource.includes('eu-west-1')),
    );
    expect(
      crossRegion.map((statement) => [statement.Action, [statement.Resource].flat().map(render)]),
    ).toEqual([['sqs:SendMessage', [ingestQueueArn('us-east-1'), ingestQueueArn('eu-west-1')]]]);
    // Its own queue consumed, and the home row read from its projects replica.
    const projectsArn = `arn:aws:dynamodb:ap-southeast-2:${account}:table/Faultline-projects`;
    expect(statements.filter((statement) => render(statement.Resource) === projectsArn)).toEqual([
      expect.objectContaining({ Action: 'dynamodb:GetItem' }),
    ]);
    expect(environmentOf(forwarder)).toMatchObject({
      [regionEnvironment.self]: 'ap-southeast-2',
      [regionEnvironment.initialHome]: 'us-east-1',
      [queues.ingest.envVar]: { Ref: logicalId(edge().ingestQueue) },
    });
  });

  it('takes deploys into its queue: no items table, the projects replica only read', () => {
    const ingestDeploy = edge().functions.ingestDeploy;
    const variables = environmentOf(ingestDeploy);
    expect(variables[tables.items.envVar]).toBeUndefined();
    expect(variables[queues.ingest.envVar]).toEqual({ Ref: logicalId(edge().ingestQueue) });
    // It only queues: the forwarder decides where to, so it reads neither the plan nor the home row.
    expect(variables[regionEnvironment.self]).toBeUndefined();
    const actions = statementsOf(ingestDeploy)
      .filter((statement) => !JSON.stringify(statement.Resource).includes('LogGroup'))
      .filter((statement) => statement.Resource !== '*')
      .map((statement) => [statement.Action, render(statement.Resource)]);
    expect(actions).toEqual([
      ['dynamodb:GetItem', `arn:aws:dynamodb:ap-southeast-2:${account}:table/Faultline-projects`],
      ['dynamodb:UpdateItem', render({ 'Fn::GetAtt': [logicalId(edge().rateLimits), 'Arn'] })],
      ['sqs:SendMessage', render({ 'Fn::GetAtt': [logicalId(edge().ingestQueue), 'Arn'] })],
    ]);
  });
});

/**
 * Every stack of both plans, with the plan it was synthesized in. The one-region stack is held to its
 * declarations by test/infra/stack.test.ts and to its aliases by test/infra/releases.test.ts.
 */
function everyStack(): Array<{ stack: RegionalStack | EdgeStack; plan: Plan }> {
  return [full, plain].flatMap((plan) =>
    [plan.stacks.home, ...plan.stacks.standbys, ...plan.stacks.edges].map((stack) => ({ stack, plan })),
  );
}

type Granted = {
  tables: Partial<Record<TableName, string[]>>;
  queues: Partial<Record<QueueName, 'consume' | { consume: boolean; send: string[] } | string[]>>;
  forwardsToHome: boolean;
};

/** What a function's role may do to the tables and queues of its stack, and to other regions' queues. */
function grantedTo(name: FunctionName, stack: RegionalStack | EdgeStack, plan: Plan): Granted {
  const fn = stack.functions[name as keyof typeof stack.functions] as FaultlineFunction;
  const statements = statementsOf(fn, plan);
  const actionsOn = (arn: string, service: string) =>
    statements
      .filter((statement) => [statement.Resource].flat().some((resource) => render(resource) === arn))
      .flatMap((statement) => [statement.Action].flat())
      .map((action) => action.replace(`${service}:`, ''))
      .sort();
  const stackTables: Partial<Record<TableName, ITableV2>> =
    stack instanceof EdgeStack ? { projects: stack.projects, rateLimits: stack.rateLimits } : stack.tables;
  const granted: Granted = { tables: {}, queues: {}, forwardsToHome: false };
  for (const [table, resource] of Object.entries(stackTables) as [TableName, ITableV2][]) {
    const actions = actionsOn(render(stack.resolve(resource.tableArn)), 'dynamodb');
    if (actions.length > 0) granted.tables[table] = actions;
  }
  for (const [queue, { queue: resource }] of Object.entries(stack.queues) as [
    QueueName,
    { queue: IQueue },
  ][]) {
    const actions = actionsOn(render(stack.resolve(resource.queueArn)), 'sqs');
    // Consuming is the event source's grant: receive, delete, change visibility.
    if (actions.includes('ReceiveMessage')) {
      // What a consumer sends besides what consuming grants (a pipeline worker re-queueing to itself).
      const consuming = [
        'ReceiveMessage',
        'DeleteMessage',
        'ChangeMessageVisibility',
        'GetQueueAttributes',
        'GetQueueUrl',
      ];
      const send = actions.filter((action) => !consuming.includes(action));
      granted.queues[queue] = send.length > 0 ? { consume: true, send } : 'consume';
    } else if (actions.length > 0) granted.queues[queue] = actions;
  }
  granted.forwardsToHome = plan.regions.regions
    .filter((region) => region !== stack.region)
    .some((region) => actionsOn(ingestQueueArn(region), 'sqs').includes('SendMessage'));
  return granted;
}

describe('grants in every part', () => {
  it('give every function of every stack exactly what the wiring says it sends in its part (accessOf)', () => {
    for (const { stack, plan } of everyStack()) {
      const otherPipelineRegion = pipelineRegions(plan.regions).some((region) => region !== stack.region);
      for (const name of Object.keys(stack.functions) as FunctionName[]) {
        const access = accessOf(name, stack.role);
        const sorted = (actions: readonly string[]) => [...actions].sort();
        expect(grantedTo(name, stack, plan), `${name} in ${stack.stackName} (${stack.role})`).toEqual({
          tables: Object.fromEntries(
            Object.entries(access.tables).map(([table, actions]) => [table, sorted(actions)]),
          ),
          queues: Object.fromEntries(
            Object.entries(access.queues).map(([queue, queueAccess]) => [
              queue,
              queueAccess === 'consume'
                ? 'consume'
                : isConsumeAndSend(queueAccess)
                  ? { consume: true, send: sorted(queueAccess.send) }
                  : sorted(queueAccess),
            ]),
          ),
          // Only where there is another pipeline region to forward to.
          forwardsToHome: Boolean(access.forwardsToHome) && otherPipelineRegion,
        });
      }
    }
  });

  it('give the region variables to exactly the functions that read them, in every part', () => {
    for (const { stack, plan } of everyStack()) {
      for (const name of Object.keys(stack.functions) as FunctionName[]) {
        const fn = stack.functions[name as keyof typeof stack.functions] as FaultlineFunction;
        const variables = environmentOf(fn, plan);
        const readsThem = regionVariableReaders(stack.role).includes(name);
        expect(variables[regionEnvironment.self], `${name} in ${stack.stackName}`).toBe(
          readsThem ? stack.region : undefined,
        );
        expect(
          variables[regionEnvironment.pipelineQueues] !== undefined,
          `${name} in ${stack.stackName}`,
        ).toBe(Boolean(accessOf(name, stack.role).forwardsToHome));
      }
    }
  });
});

/** The live alias an ARN reference names: `{Ref: alias}`, or a mapping's `<function>:live` join. */
function aliasReferenced(
  reference: unknown,
  resources: Record<string, { Type: string }>,
): string | undefined {
  const text = JSON.stringify(reference);
  const match = /"Ref":"([A-Za-z0-9]+)"/.exec(text);
  if (!match || resources[match[1]!]?.Type !== 'AWS::Lambda::Alias') return undefined;
  if (text.startsWith('{"Fn::Join"') && !text.endsWith('":live"]]}')) return undefined;
  return match[1];
}

describe('releases in every stack of a plan', () => {
  it('route, map and schedule every trigger to a live alias, and let only the aliases be invoked', () => {
    for (const { stack, plan } of everyStack()) {
      const resources = templateOf(stack, plan).toJSON().Resources as Record<
        string,
        { Type: string; Properties: Record<string, unknown> }
      >;
      const aliases = new Set(
        Object.values(stack.functions).map((fn) => logicalId((fn as FaultlineFunction).live)),
      );
      const ofType = (type: string) =>
        Object.entries(resources).filter(([, resource]) => resource.Type === type);
      const references = [
        ...ofType('AWS::Lambda::EventSourceMapping').map(
          ([id, r]) => [id, r.Properties.FunctionName] as const,
        ),
        ...ofType('AWS::ApiGatewayV2::Integration').map(
          ([id, r]) => [id, r.Properties.IntegrationUri] as const,
        ),
        ...ofType('AWS::Lambda::Permission').map(([id, r]) => [id, r.Properties.FunctionName] as const),
        ...ofType('AWS::Events::Rule').flatMap(([id, r]) =>
          (r.Properties.Targets as Array<{ Arn: unknown }>).map((target) => [id, target.Arn] as const),
        ),
      ];
      expect(references.length, stack.stackName).toBeGreaterThan(0);
      for (const [id, reference] of references) {
        expect(aliases.has(aliasReferenced(reference, resources) ?? ''), `${id} in ${stack.stackName}`).toBe(
          true,
        );
      }
    }
  });

  it("move every alias but the fold's with CodeDeploy, rolling back on alarms the stack has", () => {
    for (const { stack } of everyStack()) {
      const names = Object.keys(stack.functions) as FunctionName[];
      expect(Object.keys(stack.releases.deploymentGroups).sort(), stack.stackName).toEqual(
        names.filter((name) => !MOVED_ALL_AT_ONCE.includes(name)).sort(),
      );
      for (const name of Object.keys(stack.releases.deploymentGroups) as FunctionName[]) {
        for (const id of rollbackAlarmIds(name, stack)) {
          expect(stack.node.tryFindChild(id), `${id} in ${stack.stackName}`).toBeDefined();
        }
      }
    }
    // An edge's queue keeps what home cannot take yet: no dead letters for its releases to watch.
    expect(rollbackAlarmIds('forwardOccurrences', edge())).toEqual([
      'ForwardOccurrencesErrorsAlarm',
      'LambdaThrottlesAlarm',
    ]);
    expect(rollbackAlarmIds('ingestItem', edge())).not.toContain('IngestDeadLetterQueueDepthAlarm');
    expect(rollbackAlarmIds('storeOccurrences', standby())).toContain('IngestDeadLetterQueueDepthAlarm');
  });

  it('roll back on the one throttles alarm of their region, which has no dimension; errors stay per function', () => {
    for (const { stack, plan } of everyStack()) {
      const template = templateOf(stack, plan);
      const throttles = Object.entries(
        template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Throttles' } }),
      );
      expect(throttles, stack.stackName).toHaveLength(1);
      const [throttlesId, alarm] = throttles[0]!;
      expect(alarm.Properties.Dimensions, stack.stackName).toBeUndefined();
      const groups = Object.entries(template.findResources('AWS::CodeDeploy::DeploymentGroup'));
      expect(groups.length, stack.stackName).toBeGreaterThan(0);
      for (const [id, group] of groups) {
        expect(group.Properties.AlarmConfiguration.Alarms, `${id} in ${stack.stackName}`).toContainEqual({
          Name: { Ref: throttlesId },
        });
      }
      // Errors stay per function that is not HTTP: a canary rolls back on its own function's failures
      // (an HTTP function's are the API's 5xx).
      expect(
        Object.keys(
          template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Errors' } }),
        ),
        stack.stackName,
      ).toHaveLength((Object.keys(stack.functions) as FunctionName[]).filter(hasErrorsAlarm).length);
    }
  });
});

describe('DNS', () => {
  const stacks = () => [home(), standby(), edge()];

  it('gives each region a certificate for the shared name and its own, validated in the zone', () => {
    for (const stack of stacks()) {
      const regional = `${stack.region}.${domain.name}`;
      templateOf(stack).hasResourceProperties('AWS::CertificateManager::Certificate', {
        DomainName: domain.name,
        SubjectAlternativeNames: [regional],
        ValidationMethod: 'DNS',
        DomainValidationOptions: Match.arrayWith([
          { DomainName: domain.name, HostedZoneId: domain.hostedZoneId },
          { DomainName: regional, HostedZoneId: domain.hostedZoneId },
        ]),
      });
      const names = Object.values(templateOf(stack).findResources('AWS::ApiGatewayV2::DomainName'))
        .map((resource) => resource.Properties.DomainName as string)
        .sort();
      expect(names).toEqual([domain.name, regional].sort());
      templateOf(stack).resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 2);
    }
  });

  it("checks each region's /health over HTTPS every 30 s, out after 3 failures", () => {
    for (const stack of stacks()) {
      templateOf(stack).resourceCountIs('AWS::Route53::HealthCheck', 1);
      templateOf(stack).hasResourceProperties('AWS::Route53::HealthCheck', {
        HealthCheckConfig: {
          Type: 'HTTPS',
          FullyQualifiedDomainName: `${stack.region}.${domain.name}`,
          ResourcePath: '/health',
          Port: 443,
          RequestInterval: 30,
          FailureThreshold: 3,
          EnableSNI: true,
        },
      });
    }
  });

  it('answers the shared name with the nearest healthy region, and each region at its own name', () => {
    for (const stack of stacks()) {
      const template = templateOf(stack);
      const healthCheckId = Object.keys(template.findResources('AWS::Route53::HealthCheck'))[0]!;
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: `${domain.name}.`,
        Type: 'A',
        HostedZoneId: domain.hostedZoneId,
        Region: stack.region,
        SetIdentifier: stack.region,
        HealthCheckId: { Ref: healthCheckId },
        AliasTarget: Match.objectLike({ EvaluateTargetHealth: true }),
      });
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        Name: `${stack.region}.${domain.name}.`,
        Type: 'A',
        AliasTarget: Match.anyValue(),
        SetIdentifier: Match.absent(),
      });
    }
  });

  it('outputs both names; the dashboard and notification links use the region of the pipeline', () => {
    for (const stack of stacks()) {
      templateOf(stack).hasOutput('DomainUrl', { Value: `https://${domain.name}/` });
      templateOf(stack).hasOutput('RegionalUrl', { Value: `https://${stack.region}.${domain.name}/` });
    }
    templateOf(home()).hasOutput('DashboardUrl', { Value: `https://us-east-1.${domain.name}/` });
    expect(environmentOf(home().functions.fanOutNotifications)[PUBLIC_URL_VAR]).toBe(
      `https://us-east-1.${domain.name}`,
    );
  });

  it('makes no certificate, health check nor record without a domain; each stack outputs its API URL', () => {
    for (const stack of [plain.stacks.home, ...plain.stacks.edges]) {
      const template = templateOf(stack, plain);
      for (const type of [
        'AWS::CertificateManager::Certificate',
        'AWS::ApiGatewayV2::DomainName',
        'AWS::Route53::HealthCheck',
        'AWS::Route53::RecordSet',
      ]) {
        template.resourceCountIs(type, 0);
      }
      template.hasOutput('ApiUrl', { Value: Match.anyValue() });
      expect(Object.keys(template.findOutputs('DomainUrl'))).toEqual([]);
    }
    templateOf(plain.stacks.home, plain).hasOutput('DashboardUrl', { Value: Match.anyValue() });
    expect(Object.keys(templateOf(plain.stacks.edges[0]!, plain).findOutputs('DashboardUrl'))).toEqual([]);
  });
});

describe('-c domain', () => {
  it('is made in its parent zone unless -c hostedZoneName says another', () => {
    expect(parseDomain({ domain: 'Errors.Example.com.', hostedZoneId: 'Z1' })).toEqual({
      name: 'errors.example.com',
      hostedZoneId: 'Z1',
      hostedZoneName: 'example.com',
    });
    expect(
      parseDomain({ domain: 'errors.eu.example.com', hostedZoneId: 'Z1', hostedZoneName: 'example.com' }),
    ).toMatchObject({ hostedZoneName: 'example.com' });
    expect(parseDomain({})).toBeUndefined();
  });

  it.each([
    [{ domain: 'errors.example.com' }, /needs -c hostedZoneId/],
    [{ hostedZoneId: 'Z1' }, /needs -c domain/],
    [{ domain: 'errors.example.com', hostedZoneId: 'Z1', hostedZoneName: 'other.org' }, /below the zone/],
    [{ domain: 'not a name', hostedZoneId: 'Z1' }, /not a domain name/],
  ])('refuses %o', (input, message) => {
    expect(() => parseDomain(input)).toThrow(message);
  });
});
