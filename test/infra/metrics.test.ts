// What the stack gives an operator to watch, and what it keeps from costing: the dashboard's own
// metrics per region, the X-Ray sampling rule, Lambda's platform log lines and the API's access log.
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { addTraceSampling } from '#infra/stacks/monitoring';
import { RegionalStack } from '#infra/stacks/regional-stack';
import { MetricNames } from '#shared/metric-names';

const skipBundling = { 'aws:cdk:bundling-stacks': [] };

function synth(
  props: ConstructorParameters<typeof RegionalStack>[2] = {},
  context: Record<string, string> = {},
): Template {
  const app = new App({ context: { ...skipBundling, ...context } });
  return Template.fromStack(
    new RegionalStack(app, 'Faultline-eu-west-1', { env: { region: 'eu-west-1' }, ...props }),
  );
}

/** The dashboard's body as text, with references written `${Id}`. */
function dashboardText(template: Template): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard!.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  if (typeof body === 'string') return body;
  return body['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const { Ref: ref, 'Fn::GetAtt': attribute } = part as { Ref?: string; 'Fn::GetAtt'?: string[] };
      return `\${${ref ?? attribute?.join('.')}}`;
    })
    .join('');
}

let template: Template;
beforeAll(() => {
  template = synth();
});

describe('the CloudWatch dashboard (-c cloudwatchDashboard=true)', () => {
  it("shows Faultline's own metrics for its region, beside the AWS metrics", () => {
    const widgets = (
      JSON.parse(dashboardText(synth({}, { cloudwatchDashboard: 'true' }))) as {
        widgets: Array<{ properties: Record<string, unknown> }>;
      }
    ).widgets;
    const metricsOf = (title: RegExp) => {
      const widget = widgets.find((candidate) => title.test(String(candidate.properties.title)));
      expect(widget, `a widget titled ${title}`).toBeDefined();
      return JSON.stringify(widget!.properties.metrics);
    };
    const occurrences = metricsOf(/^Occurrences per minute/);
    for (const name of [MetricNames.accepted, MetricNames.stored, MetricNames.counted]) {
      expect(occurrences).toContain(
        JSON.stringify(['Faultline', name, 'region', 'eu-west-1', 'service', 'faultline']).slice(1, -1),
      );
    }
    expect(metricsOf(/^Refused items by reason/)).toContain(
      'SEARCH(\'{Faultline,service,region,reason} MetricName=\\"OccurrencesRefused\\" region=\\"eu-west-1\\"\', \'Sum\', 60)',
    );
    expect(metricsOf(/^Refused items by reason/)).toContain(MetricNames.rateLimited);
    expect(metricsOf(/^Fold lag/)).toContain(MetricNames.foldLag);
    expect(metricsOf(/^Deliveries by channel and outcome/)).toContain(
      '{Faultline,service,region,channel,outcome} MetricName=\\"Deliveries\\"',
    );
    // The AWS metrics stay: API traffic, queues, function errors.
    expect(metricsOf(/^API requests/)).toContain('AWS/ApiGateway');
    // Beside them, the ingest function URL's, where SDKs post items.
    for (const metric of ['UrlRequestCount', 'Url5xxCount', 'UrlRequestLatency'])
      expect(metricsOf(/^API requests/)).toContain(metric);
    expect(metricsOf(/^Function errors/)).toContain('AWS/Lambda');
  });
});

describe('tracing', () => {
  it('records 1% of invocations and no reservoir by default, for the stack’s functions only', () => {
    template.hasResourceProperties('AWS::XRay::SamplingRule', {
      SamplingRule: Match.objectLike({
        RuleName: 'Faultline-eu-west-1',
        ReservoirSize: 0,
        FixedRate: 0.01,
        ServiceName: 'Faultline-eu-west-1-*',
      }),
    });
  });

  it('takes another reservoir and rate, and refuses a rate that is not a share', () => {
    const stack = new Stack(new App(), 'Faultline-us-east-2');
    addTraceSampling(stack, { reservoir: 1, rate: 0.001 });
    Template.fromStack(stack).hasResourceProperties('AWS::XRay::SamplingRule', {
      SamplingRule: Match.objectLike({ ReservoirSize: 1, FixedRate: 0.001 }),
    });
    expect(() => addTraceSampling(new Stack(new App(), 'Other'), { rate: 5 })).toThrow(/between 0 and 1/);
    expect(() => addTraceSampling(new Stack(new App(), 'Other'), { reservoir: 0.5 })).toThrow(/whole number/);
  });

  it('stays active on every function', () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fns.length).toBeGreaterThan(5);
    for (const fn of fns) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });
});

describe('log bytes', () => {
  it("functions log JSON and keep only Lambda's own warnings and errors, not START/END/REPORT", () => {
    const fns = Object.values(template.findResources('AWS::Lambda::Function'));
    for (const fn of fns) {
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', SystemLogLevel: 'WARN' });
    }
  });

  it('the access log line keeps the request, caller, route, status and latency, and no user agent', () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    const format = JSON.parse(stage!.Properties.AccessLogSettings.Format as string) as Record<string, string>;
    expect(Object.values(format)).toEqual(
      expect.arrayContaining([
        '$context.requestId',
        '$context.identity.sourceIp',
        '$context.routeKey',
        '$context.status',
        '$context.responseLatency',
        '$context.integrationErrorMessage',
      ]),
    );
    expect(Object.values(format)).not.toContain('$context.identity.userAgent');
  });
});
