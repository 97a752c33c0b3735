// The dashboard in AWS: served from the API's own origin by a function that touches no table, its
// URL an output of the stack, and its build carried inside the function's bundle.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FaultlineFunction } from '#infra/constructs/faultline-function';
import { dashboardBuild, RegionalStack } from '#infra/stacks/regional-stack';
import { functions } from '#shared/wiring/topology';

let stack: RegionalStack;
let template: Template;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = new RegionalStack(app, 'Faultline-dashboard', {
    env: { region: 'eu-west-1', account: '123456789012' },
  });
  template = Template.fromStack(stack);
});

// Routes invoke the function's live alias (infra/stacks/releases.ts), never the function itself.
const dashboardAliasId = () =>
  stack.getLogicalId(stack.functions.serveDashboard.live.node.defaultChild as CfnElement);

describe('the dashboard in the CDK stack', () => {
  it.each([
    'GET /',
    'GET /assets/{file}',
    'GET /items/{counter}',
    'GET /deploys',
    'GET /notifications',
    'GET /operations',
  ])('routes %s to the dashboard function', (routeKey) => {
    const routes = Object.values(
      template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }),
    ) as Array<{ Properties: { Target: { 'Fn::Join': [string, unknown[]] } } }>;
    expect(routes).toHaveLength(1);
    const integrationId = (routes[0]!.Properties.Target['Fn::Join'][1][1] as { Ref: string }).Ref;
    const integration = template.toJSON().Resources[integrationId] as {
      Properties: { IntegrationUri: { Ref: string } };
    };
    expect(integration.Properties.IntegrationUri.Ref).toBe(dashboardAliasId());
  });

  it('outputs the dashboard URL, the API stage URL (the same origin as the API)', () => {
    const outputs = template.findOutputs('DashboardUrl');
    expect(Object.keys(outputs)).toEqual(['DashboardUrl']);
    expect(JSON.stringify(outputs.DashboardUrl!.Value)).toContain(
      stack.getLogicalId(stack.api.node.defaultChild as CfnElement),
    );
  });

  it('grants the dashboard function no table, queue or secret', () => {
    const roleId = stack.getLogicalId(stack.functions.serveDashboard.role.node.defaultChild as CfnElement);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
    });
    const actions = Object.values(policies).flatMap((policy) =>
      (
        policy as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }
      ).Properties.PolicyDocument.Statement.flatMap((statement) => [statement.Action].flat()),
    );
    expect(actions.filter((action) => /^(dynamodb|sqs|secretsmanager|ses):/.test(action))).toEqual([]);
    expect(functions.serveDashboard.tables).toEqual({});
  });
});

// REAL BUNDLING: the serving function's asset holds the built page and assets (esbuild twice, seconds).
describe('bundling the dashboard function for real', () => {
  it('carries dashboard/index.html and the assets it links', () => {
    const app = new App();
    const bundled = new Stack(app, 'BundledDashboard');
    new FaultlineFunction(bundled, 'Dashboard', {
      entry: functions.serveDashboard.entry,
      bundling: { commandHooks: dashboardBuild },
    });
    const assembly = app.synth();
    const assets = readdirSync(assembly.directory).filter((file) => file.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const root = path.join(assembly.directory, assets[0]!);
    expect(existsSync(path.join(root, 'index.mjs'))).toBe(true);
    const html = readFileSync(path.join(root, 'dashboard', 'index.html'), 'utf8');
    const linked = [...html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((match) => match[1]!);
    expect(linked).toHaveLength(2);
    for (const name of linked) expect(existsSync(path.join(root, 'dashboard', 'assets', name))).toBe(true);
  });
});
