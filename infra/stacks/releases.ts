// Safe releases of Faultline itself: CodeDeploy moves each function's `live` alias to the new version
// as a canary and rolls back on the region's alarms; the fold moves all at once (docs/operations.md,
// "Releasing Faultline"). Opt-in: each release recorded in Faultline itself, and its own errors reported.
import { execFileSync } from 'node:child_process';
import { CustomResource, Duration, type Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import {
  type ILambdaDeploymentConfig,
  LambdaApplication,
  LambdaDeploymentConfig,
  LambdaDeploymentGroup,
  TimeBasedCanaryTrafficRouting,
  TimeBasedLinearTrafficRouting,
} from 'aws-cdk-lib/aws-codedeploy';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { releaseRecordEnvironment } from '#shared/self-report/release';
import { selfReportEnvironment } from '#shared/self-report/reporter';
import type { RegionRole } from '#shared/wiring/regions';
import { accessOf, type FunctionName, functions, type QueueName, queues } from '#shared/wiring/topology';
import { FaultlineFunction, repositoryRoot } from '../constructs/faultline-function';
import { declared, pascalCase } from './declarations';
import { hasErrorsAlarm, REGION_THROTTLES_ALARM_ID } from './monitoring';

/**
 * Aliases that move all at once, outside CodeDeploy. The fold's: its ledger assumes one version cuts
 * a shard's batches into steps, and a weighted alias would hand a shard's batches (and their
 * retries) to two versions in turn for the whole canary. The search indexer's: it writes each item's
 * whole entry in the layout of its version, so during a canary two versions would overwrite each
 * other's rows (an older one dropping the facets a newer one keeps in the entry).
 */
export const MOVED_ALL_AT_ONCE: readonly FunctionName[] = ['foldOccurrences', 'indexSearch'];

/**
 * Functions a self-report travels through (the item route, the storing worker, the fold, an edge's
 * forwarder): reporting their failures through the API would loop, or be stuck behind the very
 * failure it reports. Their alarms watch them.
 */
export const NEVER_SELF_REPORT: readonly FunctionName[] = [
  'ingestItem',
  'storeOccurrences',
  'foldOccurrences',
  'forwardOccurrences',
];

/** The canary by default: 10% of invocations for 5 minutes, then all. */
export const DEFAULT_DEPLOYMENT_CONFIG = 'Canary10Percent5Minutes';

const predefinedConfigs: Record<string, ILambdaDeploymentConfig> = {
  AllAtOnce: LambdaDeploymentConfig.ALL_AT_ONCE,
  Canary10Percent5Minutes: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  Canary10Percent10Minutes: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
  Canary10Percent15Minutes: LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
  Canary10Percent30Minutes: LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES,
  Linear10PercentEvery1Minute: LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  Linear10PercentEvery2Minutes: LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_2MINUTES,
  Linear10PercentEvery3Minutes: LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
  Linear10PercentEvery10Minutes: LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES,
};

const customConfig = /^(Canary|Linear)(\d{1,2})Percent(?:Every)?(\d{1,4})Minutes?$/;

/**
 * `-c canary=…`: a CodeDeploy Lambda config by its name (`Canary10Percent5Minutes`, `AllAtOnce`,
 * `Linear10PercentEvery1Minute`, with or without `CodeDeployDefault.Lambda`), or any other percentage
 * and interval in the same words (`Canary25Percent10Minutes`, `Linear20PercentEvery2Minutes`), which
 * becomes a custom config of the stack.
 */
export function deploymentConfigNamed(scope: Construct, value: string): ILambdaDeploymentConfig {
  const name = value
    .trim()
    .replace(/^CodeDeployDefault\./, '')
    .replace(/^Lambda/, '');
  const predefined = predefinedConfigs[name];
  if (predefined) return predefined;
  const match = customConfig.exec(name);
  const percentage = Number(match?.[2]);
  const minutes = Number(match?.[3]);
  if (!match || percentage < 1 || percentage > 99 || minutes < 1) {
    throw new Error(
      `-c canary=${value} is not a deployment config: use ${Object.keys(predefinedConfigs).join(', ')}, ` +
        'or CanaryNPercentMMinutes / LinearNPercentEveryMMinutes with N from 1 to 99',
    );
  }
  const interval = Duration.minutes(minutes);
  return new LambdaDeploymentConfig(scope, 'ReleaseDeploymentConfig', {
    trafficRouting:
      match[1] === 'Canary'
        ? new TimeBasedCanaryTrafficRouting({ interval, percentage })
        : new TimeBasedLinearTrafficRouting({ interval, percentage }),
  });
}

/** The part a stack plays, as far as its rollback alarms go: what its functions send, what its queues have. */
export interface ReleasedPart {
  /** `single`, `home`, `standby` or `edge`: what each function sends there is `accessOf(name, role)`. */
  readonly role: RegionRole;
  /** The stack's queues; one without a dead-letter queue (an edge's ingest queue) has no depth alarm. */
  readonly queues: Partial<Record<QueueName, { readonly queue: IQueue; readonly deadLetterQueue?: IQueue }>>;
}

/** What releases read from the stack: its part, its functions, its API, and the alarms monitoring made. */
export interface ReleasedParts extends ReleasedPart {
  readonly functions: Partial<Record<FunctionName, FaultlineFunction>>;
  readonly api: HttpApi;
}

export interface ReleaseOptions {
  /** `-c canary=…`. @default Canary10Percent5Minutes */
  readonly deploymentConfig?: string;
  /** `-c rollbackAlarms=false` deploys without watching alarms (to ship a fix while one fires). @default true */
  readonly rollbackOnAlarms?: boolean;
  /** `-c selfReport=<secret name>`: the secret holding a project access token (post_server_item). */
  readonly selfReportSecretName?: string;
  /** `-c selfReportEnvironment=…`: the environment of recorded releases and reported errors. @default production */
  readonly selfReportEnvironment?: string;
  /** `-c revision=…`: the git revision recorded; read from the checkout when absent. */
  readonly revision?: string;
}

/** The options as `cdk … -c key=value` gives them. */
export function releaseOptionsFromContext(scope: Construct): ReleaseOptions {
  const context = (key: string) => {
    const value = scope.node.tryGetContext(key) as string | boolean | undefined;
    return value === undefined ? undefined : String(value);
  };
  return {
    deploymentConfig: context('canary'),
    rollbackOnAlarms: context('rollbackAlarms') !== 'false',
    selfReportSecretName: context('selfReport'),
    selfReportEnvironment: context('selfReportEnvironment'),
    revision: context('revision'),
  };
}

export interface Releases {
  /** One per function whose alias CodeDeploy moves (all but MOVED_ALL_AT_ONCE). */
  readonly deploymentGroups: Partial<Record<FunctionName, LambdaDeploymentGroup>>;
  /** The role CodeDeploy moves aliases with (shared by every deployment group). */
  readonly role: Role;
  /** With self-reporting: the function recording each release, and the token's secret. */
  readonly recorder?: FaultlineFunction;
  readonly tokenSecret?: ISecret;
}

/** The alarm monitoring made under this id; a release rolls back on it. */
function monitoringAlarm(stack: Stack, id: string): IAlarm {
  const alarm = stack.node.tryFindChild(id) as IAlarm | undefined;
  if (!alarm)
    throw new Error(
      `releases roll back on the alarm ${id}, which infra/stacks/monitoring.ts no longer makes`,
    );
  return alarm;
}

/**
 * The alarms a release of `name` rolls back on: its errors (a function that is not HTTP: an HTTP
 * function's crashes and timeouts are 5xx answers, which the API's 5xx alarm reads), the region's
 * throttles (one alarm for every function: a new version that needs more concurrency throttles itself
 * or its neighbours), the API's 5xx for a function behind the API, the dead-letter queues of the queues it consumes or sends to in its part
 * (`part`; default: one region, where every queue has one), and for a stream reader its iterator age
 * and failure queue.
 */
export function rollbackAlarmIds(name: FunctionName, part?: ReleasedPart): string[] {
  const id = pascalCase(name);
  const declaration = functions[name];
  const ids = [...(hasErrorsAlarm(name) ? [`${id}ErrorsAlarm`] : []), REGION_THROTTLES_ALARM_ID];
  if (declaration.trigger.kind === 'http') ids.push('Api5xxAlarm');
  const access = accessOf(name, part?.role ?? 'single');
  for (const [queue, queueAccess] of declared<QueueName, unknown>(access.queues)) {
    // An edge's ingest queue keeps what home cannot take yet, with no dead letters to watch.
    if (part && !part.queues[queue]?.deadLetterQueue) continue;
    const consumes =
      queueAccess === 'consume' ||
      (typeof queueAccess === 'object' && queueAccess !== null && 'consume' in queueAccess);
    if (consumes || (Array.isArray(queueAccess) && queueAccess.includes('SendMessage'))) {
      ids.push(`${queues[queue].deadLetter.logicalId}DepthAlarm`);
    }
  }
  if (declaration.trigger.kind === 'stream') {
    ids.push(`${id}IteratorAgeAlarm`, `${id}StreamFailureQueueDepthAlarm`);
  }
  return ids;
}

export function addReleases(stack: Stack, parts: ReleasedParts, options: ReleaseOptions = {}): Releases {
  const application = new LambdaApplication(stack, 'ReleaseApplication', {
    applicationName: `${stack.stackName}-releases`,
  });
  // One role for every deployment group (CodeDeploy adds its managed Lambda policy to it).
  const role = new Role(stack, 'ReleaseRole', {
    assumedBy: new ServicePrincipal('codedeploy.amazonaws.com'),
    description: 'CodeDeploy moves the live aliases of Faultline functions with this role',
  });
  const deploymentConfig = deploymentConfigNamed(
    stack,
    options.deploymentConfig ?? DEFAULT_DEPLOYMENT_CONFIG,
  );
  const deploymentGroups: Partial<Record<FunctionName, LambdaDeploymentGroup>> = {};
  for (const [name, fn] of declared<FunctionName, FaultlineFunction>(parts.functions)) {
    if (MOVED_ALL_AT_ONCE.includes(name)) continue;
    const alarms =
      options.rollbackOnAlarms === false
        ? []
        : rollbackAlarmIds(name, parts).map((id) => monitoringAlarm(stack, id));
    deploymentGroups[name] = new LambdaDeploymentGroup(stack, `${pascalCase(name)}Release`, {
      application,
      alias: fn.live,
      deploymentConfig,
      role,
      alarms,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: alarms.length > 0 },
    });
  }

  const releases: Releases = { deploymentGroups, role };
  if (!options.selfReportSecretName) return releases;
  return {
    ...releases,
    ...addSelfReporting(stack, parts, { ...options, selfReportSecretName: options.selfReportSecretName }),
  };
}

/** The revision given, or the checkout's HEAD; a release recorded without one would say nothing. */
function revisionOf(options: ReleaseOptions): string {
  if (options.revision) return options.revision;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repositoryRoot, encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      '-c selfReport records each release with its git revision: pass -c revision=<sha> (no git checkout here)',
    );
  }
}

function addSelfReporting(
  stack: Stack,
  parts: ReleasedParts,
  options: ReleaseOptions & { selfReportSecretName: string },
): Pick<Releases, 'recorder' | 'tokenSecret'> {
  const tokenSecret = Secret.fromSecretNameV2(stack, 'SelfReportToken', options.selfReportSecretName);
  const environment = options.selfReportEnvironment ?? 'production';
  // The API's own address (not its stage URL): the API resource, not its routes, so no cycle.
  const apiUrl = parts.api.apiEndpoint;

  for (const [name, fn] of declared<FunctionName, FaultlineFunction>(parts.functions)) {
    if (NEVER_SELF_REPORT.includes(name)) continue;
    fn.addEnvironment(selfReportEnvironment.endpoint, `${apiUrl}/api/1/item`);
    fn.addEnvironment(selfReportEnvironment.tokenSecret, options.selfReportSecretName);
    fn.addEnvironment(selfReportEnvironment.environment, environment);
    tokenSecret.grantRead(fn);
  }

  const recorder = new FaultlineFunction(stack, 'RecordReleaseFunction', {
    entry: 'functions/record-release.ts',
    description: 'Records each release of this stack as a deploy in Faultline itself',
    timeout: Duration.seconds(30),
    memorySize: 256,
    environment: {
      [releaseRecordEnvironment.deployUrl]: `${apiUrl}/api/1/deploy`,
      [selfReportEnvironment.tokenSecret]: options.selfReportSecretName,
    },
  });
  tokenSecret.grantRead(recorder);
  const record = new CustomResource(stack, 'ReleaseRecord', {
    serviceToken: recorder.functionArn,
    resourceType: 'Custom::FaultlineRelease',
    // A new revision is an update, which records a deploy; the same revision deployed again is not.
    properties: { Revision: revisionOf(options), Environment: environment, Stack: stack.stackName },
  });
  // After every alias has moved (CodeDeploy's shift ends the alias update) and the API routes exist.
  for (const [, fn] of declared<FunctionName, FaultlineFunction>(parts.functions))
    record.node.addDependency(fn.live);
  record.node.addDependency(parts.api);
  return { recorder, tokenSecret };
}
