// The cdk-nag findings Faultline accepts, each acknowledged by id with the reason it is accepted.
import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnDomain } from 'aws-cdk-lib/aws-opensearchservice';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { type TableDeclaration, type TableName, tables } from '#shared/wiring/tables';
import {
  accessOf,
  type FunctionDeclaration,
  type FunctionName,
  functions,
  type TableAction,
} from '#shared/wiring/topology';
import type { FaultlineFunction } from '../constructs/faultline-function';
import type { EdgeStack } from './edge-stack';
import type { RegionalStack } from './regional-stack';
import type { Releases } from './releases';
import type { SearchDomain } from './search-domain';

// cdk-nag 3 findings are acknowledged under the plugin's prefix, one id per finding.
const nag = (rule: string): string => `AwsSolutions::AwsSolutions-${rule}`;

/** cdk-nag writes a pseudo parameter as `<AWS::Name>`, a concrete value as itself. */
const named = (value: string, pseudo: string): string =>
  Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;

/**
 * The id cdk-nag gives a wildcard on a table's indexes: `Resource::<LogicalId.Arn>/index/*` for a table
 * of the stack, the ARN itself for a standby's replica (imported by its fixed name).
 */
function indexWildcardFinding(table: ITableV2): string {
  const stack = Stack.of(table);
  const resource = table.node.defaultChild as CfnElement | undefined;
  if (resource) return nag(`IAM5[Resource::<${stack.getLogicalId(resource)}.Arn>/index/*]`);
  const region = named(stack.region, 'Region');
  const account = named(stack.account, 'AccountId');
  return nag(
    `IAM5[Resource::arn:<AWS::Partition>:dynamodb:${region}:${account}:table/${table.tableName}/index/*]`,
  );
}

/** What every Faultline function carries: its runtime, and the actions IAM cannot scope to a resource. */
function acknowledgeFunctionFindings(fn: FaultlineFunction): void {
  Validations.of(fn).acknowledge({
    id: nag('L1'),
    reason:
      'nodejs22.x is the runtime Faultline is built and tested for (esbuild target node22); moving to ' +
      'a newer runtime is a deliberate release, not a drift.',
  });
  Validations.of(fn.role).acknowledge({
    id: nag('IAM5[Resource::*]'),
    reason:
      'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords), for stream consumers ' +
      "dynamodb:ListStreams, and for the read API the Operations page's cloudwatch:GetMetricData and " +
      'cloudwatch:ListMetrics support no resource-level permissions.',
  });
}

const apiAuthorizationReason =
  'Rollbar API compatibility: clients send a project access token in X-Rollbar-Access-Token; the ' +
  'functions validate it (hashed, per project and scope) and /health is public by design for ' +
  'Route 53 health checks.';

export function acknowledgeAcceptedFindings(stack: RegionalStack): void {
  const functionDeclarations: Record<FunctionName, FunctionDeclaration> = functions;
  const tableDeclarations: Record<TableName, TableDeclaration> = tables;

  for (const [name, fn] of Object.entries(stack.functions) as Array<
    [FunctionName, RegionalStack['functions'][FunctionName]]
  >) {
    acknowledgeFunctionFindings(fn);
    const declaredTables = Object.entries(accessOf(name, stack.role).tables) as Array<
      [TableName, readonly TableAction[]]
    >;
    for (const [tableName, actions] of declaredTables) {
      if (tableDeclarations[tableName].globalIndexes.length === 0 || !actions.includes('Query')) continue;
      Validations.of(fn.role).acknowledge({
        id: indexWildcardFinding(stack.tables[tableName]),
        reason:
          `dynamodb:Query only, on the indexes of the ${tableName} table only (index/*): listing items ` +
          'by project and finding one by its counter go through them.',
      });
    }
  }

  for (const [name, declaration] of Object.entries(functionDeclarations) as Array<
    [FunctionName, FunctionDeclaration]
  >) {
    if (!(declaration.uses ?? []).includes('email')) continue;
    Validations.of(stack.functions[name].role).acknowledge({
      id: nag(
        `IAM5[Resource::arn:<AWS::Partition>:ses:${named(stack.region, 'Region')}:${named(stack.account, 'AccountId')}:identity/*]`,
      ),
      reason:
        'ses:SendEmail only, and only From the address in the NotificationEmailFrom parameter ' +
        '(condition ses:FromAddress): SES authorizes a send against the identity of the From address ' +
        'and of each recipient, which are not known when the stack is built.',
    });
  }

  // A standby reads the home's replica: nothing of its own to acknowledge.
  if (stack.secretsKey instanceof Secret)
    Validations.of(stack.secretsKey).acknowledge({
      id: nag('SMG4'),
      reason:
        'The key seals the channel credentials stored in notification rules; rotating it would make ' +
        'them unreadable until re-sealed, which Faultline does not do yet (docs/notifications.md).',
    });

  for (const queue of stack.streamFailureQueues) {
    Validations.of(queue).acknowledge({
      id: nag('SQS3'),
      reason:
        "A stream consumer's on-failure destination is itself the last stop: it holds descriptions of " +
        'records that failed every retry, and its depth alarms.',
    });
  }

  if (stack.searchDomain) acknowledgeSearchDomainFindings(stack.searchDomain);
  acknowledgeReleaseFindings(stack.releases);

  Validations.of(stack.api).acknowledge({ id: nag('APIG4'), reason: apiAuthorizationReason });

  acknowledgeReplicaStreamReaders(stack);
}

/** A standby's readers of its replica streams' ARNs: one small Lambda function run at deploy time. */
function acknowledgeReplicaStreamReaders(stack: RegionalStack): void {
  if (stack.replicaStreamReaders.length === 0) return;
  // CDK's AwsCustomResource runs one function for all of them; its id is fixed by the library.
  const provider = stack.node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (!provider) throw new Error("the replica stream readers' function was not found in the stack");
  Validations.of(provider).acknowledge({
    id: nag('IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]'),
    reason:
      "CDK's AwsCustomResource function (it reads a replica's stream ARN once per deploy) logs with the " +
      'basic execution role the library gives it; its only other right is dynamodb:DescribeTable on the replicas.',
  });
}

/** An edge region: the findings of its functions, its releases, its API, and its ingest queue without a dead-letter queue. */
export function acknowledgeEdgeFindings(stack: EdgeStack): void {
  for (const fn of Object.values(stack.functions)) acknowledgeFunctionFindings(fn);
  acknowledgeReleaseFindings(stack.releases);
  Validations.of(stack.api).acknowledge({ id: nag('APIG4'), reason: apiAuthorizationReason });
  Validations.of(stack.ingestQueue).acknowledge({
    id: nag('SQS3'),
    reason:
      "An edge's ingest queue has no dead-letter queue on purpose: its forwarder never reads a message's " +
      'body, so no message is poison to it, and a message that cannot be delivered while home is down ' +
      'must wait in the queue (14 days, alarmed after 15 minutes), not be moved aside.',
  });
}

/** The OpenSearch domain of `-c search=opensearch`: hardening that would cost money while idle. */
function acknowledgeSearchDomainFindings(search: SearchDomain): void {
  const domain = search.domain;
  Validations.of(domain).acknowledge({
    id: nag('OS1'),
    reason:
      'No VPC: the indexer and the read API run outside a VPC, and inside one they would need a NAT ' +
      'gateway (or VPC endpoints) that costs money while idle. The domain takes only HTTPS requests ' +
      'signed by the two roles its access policy names.',
  });
  Validations.of(domain).acknowledge({
    id: nag('OS3'),
    reason:
      'Access is allowed by IAM principal (the indexer and read API roles, SigV4-signed), not by IP: ' +
      'Lambda functions outside a VPC have no fixed addresses to allow.',
  });
  Validations.of(domain).acknowledge({
    id: nag('OS4'),
    reason:
      'No dedicated master nodes: three more instances for a one- or two-node domain holding one ' +
      'small, rebuildable index would triple its cost (about $26/month by default).',
  });
  const zoneAware = Boolean(
    (domain.node.defaultChild as CfnDomain).clusterConfig &&
      ((domain.node.defaultChild as CfnDomain).clusterConfig as { zoneAwarenessEnabled?: boolean })
        .zoneAwarenessEnabled,
  );
  if (!zoneAware) {
    Validations.of(domain).acknowledge({
      id: nag('OS7'),
      reason:
        'One Availability Zone by default, for cost: the index is derived from the items table and ' +
        'rebuilt by `faultline search reindex`, and search falls back to nothing worse than an error ' +
        'while the domain is down. -c searchZoneAwareness=true spreads two nodes over two zones.',
    });
  }
}

/** CodeDeploy's role, and the opt-in function that records each release (infra/stacks/releases.ts). */
function acknowledgeReleaseFindings(releases: Releases): void {
  Validations.of(releases.role).acknowledge({
    id: nag(
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
    ),
    reason:
      "CodeDeploy's own least-privilege policy for Lambda deployments (read and move aliases, read the " +
      'rollback alarms, invoke only CodeDeployHook_* functions); LambdaDeploymentGroup attaches it, and a ' +
      'hand-written copy could lag behind what CodeDeploy calls.',
  });
  if (!releases.recorder) return;
  Validations.of(releases.recorder).acknowledge({
    id: nag('L1'),
    reason: 'The same nodejs22.x runtime as every Faultline function, for the same reason.',
  });
  Validations.of(releases.recorder.role).acknowledge({
    id: nag('IAM5[Resource::*]'),
    reason:
      'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions.',
  });
}
