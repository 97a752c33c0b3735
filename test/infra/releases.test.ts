// Safe releases, held on the synthesized template: every trigger invokes a `live` alias, CodeDeploy
// moves every alias but the fold's as a canary that rolls back on the region's alarms, the resources
// whose replacement would lose or double-count data keep their logical ids, and self-reporting is opt-in.
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { RegionalStack } from '#infra/stacks/regional-stack';
import {
  DEFAULT_DEPLOYMENT_CONFIG,
  deploymentConfigNamed,
  MOVED_ALL_AT_ONCE,
  NEVER_SELF_REPORT,
  rollbackAlarmIds,
} from '#infra/stacks/releases';
import { selfReportEnvironment } from '#shared/self-report/reporter';
import type { FunctionName } from '#shared/wiring/topology';

const skipBundling = { 'aws:cdk:bundling-stacks': [] };
// Named as a deployed region's stack is, so the pinned ids below are the ones CloudFormation holds.
const stackName = 'Faultline-eu-west-1';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;

function synthesize(context: Record<string, string> = {}, nag = false) {
  const app = new App({ context: { ...skipBundling, ...context } });
  const stack = new RegionalStack(app, stackName, { env: { region: 'eu-west-1', account: '123456789012' } });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  return { app, stack, resources: template.toJSON().Resources as Resources };
}

const logicalIdIn =
  (stack: Stack) =>
  (construct: IConstruct): string =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);

let stack: RegionalStack;
let resources: Resources;
let logicalId: (construct: IConstruct) => string;

beforeAll(() => {
  ({ stack, resources } = synthesize());
  logicalId = logicalIdIn(stack);
});

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
const functionNames = () => Object.keys(stack.functions) as FunctionName[];

/** The logical ids of the `live` aliases, each with its function's name. */
function liveAliases(): Map<string, FunctionName> {
  const aliases = new Map<string, FunctionName>();
  for (const name of functionNames()) {
    const id = logicalId(stack.functions[name].live);
    expect(resources[id]?.Properties.Name).toBe('live');
    aliases.set(id, name);
  }
  return aliases;
}

/** The alias an ARN reference names: `{Ref: alias}`, or a mapping's `<function name>:live` join. */
function aliasReferenced(reference: unknown): string | undefined {
  const text = JSON.stringify(reference);
  const match = /"Ref":"([A-Za-z0-9]+)"/.exec(text);
  if (!match || !resources[match[1]!] || resources[match[1]!]!.Type !== 'AWS::Lambda::Alias')
    return undefined;
  // A mapping names the function `name:live`; anything else around the Ref is not an alias ARN.
  if (text.startsWith('{"Fn::Join"') && !text.endsWith('":live"]]}')) return undefined;
  return match[1];
}

describe('every trigger invokes the live alias', () => {
  it('every event source mapping (queues and streams) targets a live alias', () => {
    const aliases = liveAliases();
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThan(0);
    for (const [id, mapping] of mappings) {
      expect(aliases.has(aliasReferenced(mapping.Properties.FunctionName) ?? ''), id).toBe(true);
    }
  });

  it('every API integration and every schedule target invokes a live alias', () => {
    const aliases = liveAliases();
    const integrations = ofType('AWS::ApiGatewayV2::Integration');
    expect(integrations.length).toBeGreaterThan(0);
    for (const [id, integration] of integrations) {
      expect(aliases.has(aliasReferenced(integration.Properties.IntegrationUri) ?? ''), id).toBe(true);
    }
    const targets = ofType('AWS::Events::Rule').flatMap(
      ([, rule]) => rule.Properties.Targets as Array<{ Arn: unknown }>,
    );
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(aliases.has(aliasReferenced(target.Arn) ?? '')).toBe(true);
  });

  it('API Gateway and EventBridge may invoke the aliases, not the unqualified functions', () => {
    const aliases = liveAliases();
    for (const [id, permission] of ofType('AWS::Lambda::Permission')) {
      expect(aliases.has(aliasReferenced(permission.Properties.FunctionName) ?? ''), id).toBe(true);
    }
  });
});

describe('the canary', () => {
  const groupOf = (name: FunctionName) => {
    const group = stack.releases.deploymentGroups[name];
    return group && resources[logicalId(group)];
  };

  it('moves every alias but the fold’s with CodeDeploy, 10% for 5 minutes by default', () => {
    expect(DEFAULT_DEPLOYMENT_CONFIG).toBe('Canary10Percent5Minutes');
    for (const name of functionNames().filter((name) => !MOVED_ALL_AT_ONCE.includes(name))) {
      const group = groupOf(name);
      expect(group?.Properties.DeploymentConfigName, name).toBe(
        'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      );
      const alias = resources[logicalId(stack.functions[name].live)] as { UpdatePolicy?: unknown };
      expect(alias.UpdatePolicy, name).toEqual({
        CodeDeployLambdaAliasUpdate: {
          ApplicationName: { Ref: logicalId(stack.node.findChild('ReleaseApplication')) },
          DeploymentGroupName: { Ref: logicalId(stack.releases.deploymentGroups[name]!) },
        },
      });
    }
  });

  it('rolls back on the function’s errors (the API’s 5xx for an HTTP function), throttles in the region, its dead-letter queues and its stream', () => {
    const alarmRef = (id: string) => ({ Name: { Ref: logicalId(stack.node.findChild(id)) } });
    for (const name of functionNames().filter((name) => !MOVED_ALL_AT_ONCE.includes(name))) {
      const properties = groupOf(name)!.Properties;
      const expected = rollbackAlarmIds(name);
      expect((properties.AlarmConfiguration as { Alarms: unknown[] }).Alarms, name).toEqual(
        expected.map(alarmRef),
      );
      expect(properties.AutoRollbackConfiguration).toEqual({
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      });
    }
    // An HTTP function's crash or timeout is a 5xx answer: the API's alarm watches it, and no errors alarm.
    expect(rollbackAlarmIds('readApi')).toEqual(['LambdaThrottlesAlarm', 'Api5xxAlarm']);
    expect(rollbackAlarmIds('ingestItem')).toEqual([
      'LambdaThrottlesAlarm',
      'Api5xxAlarm',
      'IngestDeadLetterQueueDepthAlarm',
    ]);
    expect(rollbackAlarmIds('storeOccurrences')).toContain('StoreOccurrencesErrorsAlarm');
    expect(rollbackAlarmIds('sendNotifications')).toContain('SendNotificationsErrorsAlarm');
    expect(rollbackAlarmIds('storeOccurrences')).toContain('IngestDeadLetterQueueDepthAlarm');
    expect(rollbackAlarmIds('indexSearch')).toEqual(
      expect.arrayContaining(['IndexSearchIteratorAgeAlarm', 'IndexSearchStreamFailureQueueDepthAlarm']),
    );
  });

  it('every deployment group rolls back on the one throttles alarm of the region, which has no dimension', () => {
    const throttles = ofType('AWS::CloudWatch::Alarm').filter(
      ([, alarm]) => alarm.Properties.MetricName === 'Throttles',
    );
    expect(throttles.map(([id]) => id)).toEqual([logicalId(stack.node.findChild('LambdaThrottlesAlarm'))]);
    expect(throttles[0]![1].Properties.Dimensions).toBeUndefined();
    const groups = ofType('AWS::CodeDeploy::DeploymentGroup');
    expect(groups).toHaveLength(functionNames().length - MOVED_ALL_AT_ONCE.length);
    for (const [id, group] of groups) {
      expect((group.Properties.AlarmConfiguration as { Alarms: unknown[] }).Alarms, id).toContainEqual({
        Name: { Ref: throttles[0]![0] },
      });
    }
  });

  it('leaves the fold and the search indexer out: their aliases move all at once, with no deployment group', () => {
    expect(MOVED_ALL_AT_ONCE).toEqual(['foldOccurrences', 'indexSearch']);
    for (const name of MOVED_ALL_AT_ONCE) {
      expect(stack.releases.deploymentGroups[name]).toBeUndefined();
      const alias = resources[logicalId(stack.functions[name].live)] as { UpdatePolicy?: unknown };
      expect(alias.UpdatePolicy).toBeUndefined();
    }
  });

  it('takes another config from -c canary, by AWS’s name or as a custom percentage and interval', () => {
    const scope = new Stack(new App(), 'Configs');
    expect(deploymentConfigNamed(scope, 'AllAtOnce').deploymentConfigName).toBe(
      'CodeDeployDefault.LambdaAllAtOnce',
    );
    expect(
      deploymentConfigNamed(scope, 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute')
        .deploymentConfigName,
    ).toBe('CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
    // Read from the construct: no synth needed to see what CloudFormation would get.
    const custom = deploymentConfigNamed(scope, 'Canary25Percent10Minutes');
    expect((custom.node.defaultChild as CfnDeploymentConfig).trafficRoutingConfig).toEqual({
      type: 'TimeBasedCanary',
      timeBasedCanary: { canaryInterval: 10, canaryPercentage: 25 },
    });
    expect(() => deploymentConfigNamed(scope, 'Canary150Percent5Minutes')).toThrow(
      'is not a deployment config',
    );
    expect(() => deploymentConfigNamed(scope, 'Sometimes')).toThrow('Canary10Percent5Minutes');
  });
});

describe('logical ids that must never change', () => {
  it('the fold’s event source mapping keeps its id', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([id]) => id);
    expect(
      mappings,
      'the fold’s stream mapping was renamed: CloudFormation would replace it, and a new mapping reads the ' +
        'last 24 hours of the stream again in batches the ledger does not recognise, counting those ' +
        'occurrences twice (docs/operations.md, "Never replace the fold’s event source mapping")',
    ).toContain('FoldOccurrencesFunctionDynamoDBEventSourceFaultlineeuwest1OccurrencesTable6C10836A882CA2AD');
  });

  it('every table keeps its id', () => {
    const tables = ofType('AWS::DynamoDB::GlobalTable')
      .map(([id]) => id)
      .sort();
    expect(
      tables,
      'a table was renamed: CloudFormation would create an empty table under the new id and keep the old one ' +
        '(retained), so projects, tokens, items and occurrences would all seem gone, and a new occurrences ' +
        'table is a new stream the fold starts reading from scratch',
    ).toEqual([
      'ItemsTable5AAC2C46',
      'NotificationsTable76DCFC6C',
      'OccurrencesTableADCC525E',
      'ProjectsTableAA0A2089',
      'RateLimitsTable24B09F2E',
      'SearchTableE01A99CF',
    ]);
  });
});

describe('self-reporting', () => {
  it('is off unless asked for: no release record, no self-report variables', () => {
    expect(ofType('Custom::FaultlineRelease')).toHaveLength(0);
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      expect(Object.keys(variables ?? {})).not.toContain(selfReportEnvironment.endpoint);
    }
  });

  it('with -c selfReport records each release after every alias moved, and reports errors off the report’s path (here all at once, without alarms)', () => {
    const optedIn = synthesize(
      {
        selfReport: 'faultline/self-report',
        revision: 'abc123',
        canary: 'AllAtOnce',
        rollbackAlarms: 'false',
      },
      true,
    );
    const id = logicalIdIn(optedIn.stack);
    const [record] = Object.values(optedIn.resources).filter(
      (resource) => resource.Type === 'Custom::FaultlineRelease',
    );
    expect(record?.Properties).toMatchObject({
      Revision: 'abc123',
      Environment: 'production',
      Stack: stackName,
    });
    for (const fn of Object.values(optedIn.stack.functions)) expect(record?.DependsOn).toContain(id(fn.live));

    for (const [name, fn] of Object.entries(optedIn.stack.functions) as Array<
      [FunctionName, typeof optedIn.stack.functions.readApi]
    >) {
      const variables = (
        optedIn.resources[id(fn)]!.Properties.Environment as { Variables: Record<string, unknown> }
      ).Variables;
      if (NEVER_SELF_REPORT.includes(name)) {
        expect(variables[selfReportEnvironment.endpoint], name).toBeUndefined();
      } else {
        expect(variables[selfReportEnvironment.tokenSecret], name).toBe('faultline/self-report');
        expect(JSON.stringify(variables[selfReportEnvironment.endpoint]), name).toContain('/api/1/item');
      }
    }
    const groups = Object.values(optedIn.resources).filter(
      (resource) => resource.Type === 'AWS::CodeDeploy::DeploymentGroup',
    );
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) {
      expect(group.Properties.DeploymentConfigName).toBe('CodeDeployDefault.LambdaAllAtOnce');
      // -c rollbackAlarms=false: the way to ship a fix while an alarm fires.
      expect(JSON.stringify(group.Properties.AlarmConfiguration ?? {})).not.toContain('Alarm');
    }
    // cdk-nag: a finding that is not acknowledged makes the synth throw.
    expect(() => optedIn.app.synth()).not.toThrow();
  });
});
