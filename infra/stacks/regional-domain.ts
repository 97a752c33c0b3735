// A region's custom domain (`-c domain=errors.example.com`): the shared name clients use, routed by
// latency to the nearest healthy region, and the region's own name (`<region>.errors.example.com`).
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { ApiMapping, DomainName, type HttpApi, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate, CertificateValidation } from 'aws-cdk-lib/aws-certificatemanager';
import {
  ARecord,
  HealthCheck,
  HealthCheckType,
  HostedZone,
  type IAliasRecordTarget,
  RecordTarget,
} from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';

export interface DomainOptions {
  /** The name clients use in every region: `errors.example.com`. */
  readonly name: string;
  /** The Route 53 public hosted zone the names are made in (`-c hostedZoneId=Z…`). */
  readonly hostedZoneId: string;
  /** That zone's name (`-c hostedZoneName=`; by default the name without its first label: `example.com`). */
  readonly hostedZoneName: string;
}

const DOMAIN_NAME = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$/;

/**
 * Reads `-c domain=errors.example.com -c hostedZoneId=Z… [-c hostedZoneName=example.com]`: no domain
 * without a name; the zone defaults to the name's parent (errors.example.com is made in example.com).
 */
export function parseDomain(input: {
  domain?: string;
  hostedZoneId?: string;
  hostedZoneName?: string;
}): DomainOptions | undefined {
  const clean = (value: string | undefined) => value?.trim().replace(/\.$/, '').toLowerCase() || undefined;
  const name = clean(input.domain);
  const hostedZoneId = input.hostedZoneId?.trim() || undefined;
  if (!name) {
    if (hostedZoneId) throw new Error('-c hostedZoneId needs -c domain');
    return undefined;
  }
  if (!DOMAIN_NAME.test(name)) throw new Error(`-c domain=${name} is not a domain name`);
  if (!hostedZoneId) throw new Error('-c domain needs -c hostedZoneId: the Route 53 zone its records go in');
  const hostedZoneName = clean(input.hostedZoneName) ?? name.slice(name.indexOf('.') + 1);
  if (!name.endsWith(`.${hostedZoneName}`)) {
    throw new Error(`-c domain=${name} is not a name below the zone ${hostedZoneName}`);
  }
  return { name, hostedZoneId, hostedZoneName };
}

export interface RegionalDomainProps extends DomainOptions {
  readonly region: string;
  readonly api: HttpApi;
  readonly stage: HttpStage;
}

/** Route 53 answers a latency record only while its health check passes: 3 failures 30 s apart take it out. */
const healthCheckInterval = Duration.seconds(30);
const healthCheckFailureThreshold = 3;

/** An API Gateway custom domain as an alias target; `evaluateTargetHealth` for the latency record. */
function apiDomainTarget(domain: DomainName, evaluateTargetHealth: boolean): IAliasRecordTarget {
  return {
    bind: () => ({
      dnsName: domain.regionalDomainName,
      hostedZoneId: domain.regionalHostedZoneId,
      evaluateTargetHealth,
    }),
  };
}

export class RegionalDomain extends Construct {
  /** The name clients use in every region. */
  readonly sharedName: string;
  /** `<region>.<name>`: this region alone, whatever latency routing says (health checks, the dashboard). */
  readonly regionalName: string;
  readonly healthCheck: HealthCheck;

  constructor(scope: Construct, id: string, props: RegionalDomainProps) {
    super(scope, id);
    this.sharedName = props.name;
    this.regionalName = `${props.region}.${props.name}`;
    // No lookup: synth stays offline and needs no credentials.
    const zone = HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZoneId,
      zoneName: props.hostedZoneName,
    });
    // One certificate per region (ACM certificates are regional) for both names, validated in the zone.
    const certificate = new Certificate(this, 'Certificate', {
      domainName: props.name,
      subjectAlternativeNames: [this.regionalName],
      validation: CertificateValidation.fromDns(zone),
    });
    const domainFor = (domainId: string, domainName: string): DomainName => {
      const domain = new DomainName(this, `${domainId}DomainName`, { domainName, certificate });
      new ApiMapping(this, `${domainId}ApiMapping`, {
        api: props.api,
        domainName: domain,
        stage: props.stage,
      });
      return domain;
    };
    const shared = domainFor('Shared', props.name);
    const regional = domainFor('Regional', this.regionalName);

    // Checked on the region's own name, so it tells about this region whatever latency routing answers.
    this.healthCheck = new HealthCheck(this, 'HealthCheck', {
      type: HealthCheckType.HTTPS,
      fqdn: this.regionalName,
      port: 443,
      resourcePath: '/health',
      enableSNI: true,
      requestInterval: healthCheckInterval,
      failureThreshold: healthCheckFailureThreshold,
    });
    // One latency record per region for the shared name: Route 53 answers with the nearest region
    // whose health check passes, so when one fails clients are sent to the next-nearest.
    new ARecord(this, 'LatencyRecord', {
      zone,
      recordName: props.name,
      target: RecordTarget.fromAlias(apiDomainTarget(shared, true)),
      region: props.region,
      setIdentifier: props.region,
      healthCheck: this.healthCheck,
    });
    new ARecord(this, 'RegionalRecord', {
      zone,
      recordName: this.regionalName,
      target: RecordTarget.fromAlias(apiDomainTarget(regional, false)),
    });
  }

  /** The stack's outputs for the two names (in the stack's scope: `DomainUrl`, `RegionalUrl`). */
  addOutputs(): void {
    const stack = Stack.of(this);
    new CfnOutput(stack, 'DomainUrl', {
      value: `https://${this.sharedName}/`,
      description:
        'Rollbar endpoint for SDKs in every region: <url>api/1/ (the nearest healthy region answers)',
    });
    new CfnOutput(stack, 'RegionalUrl', {
      value: `https://${this.regionalName}/`,
      description: "This region's own name: its health check, and its dashboard when it runs the pipeline",
    });
  }
}
