// What one region's stack knows of the others in a multi-region plan: the fixed names it reaches them
// by (tables, ingest queues), the region variables of the functions that read them, and the one
// cross-region right there is: sending to a pipeline region's ingest queue.
import { ArnFormat, type Stack } from 'aws-cdk-lib';
import { type ITableV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import {
  homeRowKey,
  homeRowReaders,
  ingestQueueName,
  pipelineRegions,
  type RegionPlan,
  type RegionRole,
  regionEnvironment,
  regionVariableReaders,
} from '#shared/wiring/regions';
import { tables } from '#shared/wiring/tables';
import { accessOf, type FunctionName } from '#shared/wiring/topology';
import type { FaultlineFunction } from '../constructs/faultline-function';

/** A multi-region plan as a stack receives it (`-c regions=…`). */
export interface RegionsOptions {
  readonly plan: RegionPlan;
  /** The start of every fixed name: stacks (`<prefix>-<region>`), tables and the ingest queue. */
  readonly prefix: string;
}

/** A pipeline region's ingest queue, addressed by its fixed name: it need not exist when this stack is built. */
export interface PipelineQueue {
  readonly region: string;
  readonly url: string;
  readonly arn: string;
}

export function pipelineQueues(stack: Stack, options: RegionsOptions): PipelineQueue[] {
  const name = ingestQueueName(options.prefix);
  return pipelineRegions(options.plan).map((region) => ({
    region,
    url: `https://sqs.${region}.${stack.urlSuffix}/${stack.account}/${name}`,
    arn: stack.formatArn({ service: 'sqs', region, resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME }),
  }));
}

/**
 * Joins this part's functions to the plan, as the wiring says (`accessOf`, shared/wiring/regions.ts):
 * the region variables to the functions that read them; to a function that forwards to home
 * (`forwardsToHome`), `sqs:SendMessage` on the other pipeline regions' ingest queues and their URLs —
 * the only cross-region right there is. A home-row reader whose access does not read the projects
 * table gets GetItem limited to the home row's partition (the tokens stay out of its reach).
 */
export function joinRegions(
  stack: Stack,
  options: RegionsOptions,
  role: RegionRole,
  deployed: Partial<Record<FunctionName, FaultlineFunction>>,
  projects: ITableV2,
): void {
  const variableReaders = regionVariableReaders(role);
  for (const name of variableReaders) {
    const fn = deployed[name];
    if (!fn) throw new Error(`${name} reads the region variables but is not deployed in a ${role} region`);
    fn.addEnvironment(regionEnvironment.self, stack.region);
    fn.addEnvironment(regionEnvironment.initialHome, options.plan.home);
  }
  for (const name of homeRowReaders(role)) {
    const fn = deployed[name]!;
    if (accessOf(name, role).tables.projects?.includes('GetItem')) continue;
    fn.addEnvironment(tables.projects.envVar, projects.tableName);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [projects.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [homeRowKey.PK] } },
      }),
    );
  }
  for (const [name, fn] of Object.entries(deployed) as [FunctionName, FaultlineFunction][]) {
    if (!accessOf(name, role).forwardsToHome) continue;
    if (!variableReaders.includes(name)) {
      throw new Error(`${name} forwards to home in a ${role} region but is not given the region variables`);
    }
    // Never to itself: a pipeline region's worker stores (or holds) while its region is home.
    grantForwarding(fn, stack, options, (region) => region !== stack.region);
  }
}

/**
 * Lets `fn` send to the ingest queues of the pipeline regions `to` keeps, and tells it their URLs
 * (`FAULTLINE_PIPELINE_QUEUES`): `sqs:SendMessage` and nothing else. The queues use SQS-managed
 * encryption, so no KMS key has to be shared across regions.
 */
function grantForwarding(
  fn: FaultlineFunction,
  stack: Stack,
  options: RegionsOptions,
  to: (region: string) => boolean,
): void {
  const targets = pipelineQueues(stack, options).filter((queue) => to(queue.region));
  fn.addEnvironment(
    regionEnvironment.pipelineQueues,
    stack.toJsonString(Object.fromEntries(targets.map((queue) => [queue.region, queue.url]))),
  );
  if (targets.length === 0) return;
  fn.addToRolePolicy(
    new PolicyStatement({ actions: ['sqs:SendMessage'], resources: targets.map((queue) => queue.arn) }),
  );
}

/**
 * A Global Table replica in this region, by its fixed name. When a function consumes its stream, the
 * stream's ARN is read at deploy time (DescribeTable on the replica): a replica's stream ARN ends with
 * the time the stream was created, which no template knows, and CloudFormation reports the stream of
 * the home region's replica only.
 */
export function importReplica(
  stack: Stack,
  id: string,
  tableName: string,
  options: { withStream: boolean },
): { table: ITableV2; streamReader?: AwsCustomResource } {
  const tableArn = stack.formatArn({ service: 'dynamodb', resource: 'table', resourceName: tableName });
  if (!options.withStream) return { table: TableV2.fromTableAttributes(stack, id, { tableName }) };
  const describe: AwsSdkCall = {
    service: 'DynamoDB',
    action: 'describeTable',
    parameters: { TableName: tableName },
    physicalResourceId: PhysicalResourceId.fromResponse('Table.LatestStreamArn'),
    outputPaths: ['Table.LatestStreamArn'],
  };
  const streamReader = new AwsCustomResource(stack, `${id}StreamArn`, {
    onCreate: describe,
    onUpdate: describe,
    policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: [tableArn] }),
    // The SDK in Lambda's runtime has DescribeTable; installing the latest would reach npm at deploy time.
    installLatestAwsSdk: false,
  });
  const table = TableV2.fromTableAttributes(stack, id, {
    tableName,
    tableStreamArn: streamReader.getResponseField('Table.LatestStreamArn'),
  });
  return { table, streamReader };
}
