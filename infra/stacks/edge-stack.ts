// An edge region of Faultline: the ingest API (items, deploys, health), its ingest queue, and the
// forwarder that moves what it accepted to the home region's ingest queue. It reads tokens (and the
// home row) from its replica of the projects table; its only table of its own counts rate limits (docs/regions.md).
import { CfnOutput, Duration, Stack, type StackProps, Token } from 'aws-cdk-lib';
import type { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ITableV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { edgeFunctions, ingestQueueName, regionTableName, roleOf } from '#shared/wiring/regions';
import { tables } from '#shared/wiring/tables';
import {
  accessOf,
  commonEnvironment,
  type FunctionDeclaration,
  functions,
  isConsumeAndSend,
  queues,
} from '#shared/wiring/topology';
import { FaultlineFunction } from '../constructs/faultline-function';
import { acknowledgeEdgeFindings } from './accepted-findings';
import { joinRegions, type RegionsOptions } from './cross-region';
import { declared, pascalCase } from './declarations';
import { createHttpApi, type HttpApiLimits, serveHttpTrigger } from './http-api';
import {
  addAlarmsAndDashboard,
  addTraceSampling,
  monitoringOptionsFromContext,
  type TraceSampling,
} from './monitoring';
import { type DomainOptions, RegionalDomain } from './regional-domain';
import { createDeclaredTable } from './regional-stack';
import { addReleases, type Releases, releaseOptionsFromContext } from './releases';

export type EdgeFunctionName = (typeof edgeFunctions)[number];

export interface EdgeStackProps extends StackProps, HttpApiLimits {
  /** The plan, in which this stack's region is an edge. */
  readonly regions: RegionsOptions;
  /** Address subscribed to the alarm topic; without one, subscribe the topic after deploying. */
  readonly alarmEmail?: string;
  /** A custom domain with latency routing and a health check (`-c domain=…`). @default none */
  readonly domain?: DomainOptions;
  /** The X-Ray sampling rule, as at home (`-c traceReservoir`, `-c traceRate`). */
  readonly traceSampling?: TraceSampling;
}

/**
 * What an edge keeps while home is unreachable: SQS's longest retention. A message older than the
 * alarm's age means the forwarder has not reached home for that long.
 */
export const edgeQueue = { retentionDays: 14, oldestMessageAlarmSeconds: 15 * 60 } as const;

export class EdgeStack extends Stack {
  readonly role = 'edge' as const;
  /** This region's replica of the projects table (tokens, the home row). */
  readonly projects: ITableV2;
  /** The rate limits' counters of the tokens posting here: regional, as everywhere. */
  readonly rateLimits: ITableV2;
  /** Accepted items and deploys, until the forwarder has sent them to the home region's ingest queue. */
  readonly ingestQueue: Queue;
  /** The queues of the part, as releases read them: the ingest queue, without a dead-letter queue. */
  readonly queues: { readonly ingest: { readonly queue: Queue } };
  readonly functions: Record<EdgeFunctionName, FaultlineFunction>;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  /** The function URLs the wiring declares: ingest's, which SDKs near this region post to (`IngestUrl`). */
  readonly functionUrls: Partial<Record<EdgeFunctionName, FunctionUrl>> = {};
  readonly alarmTopic: Topic;
  readonly domain?: RegionalDomain;
  /** CodeDeploy's canary of each function, as in a region that runs the pipeline (releases.ts). */
  readonly releases: Releases;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    if (Token.isUnresolved(this.region)) throw new Error('an edge stack needs its region');
    if (roleOf(props.regions.plan, this.region) !== 'edge') {
      throw new Error(`${this.region} is not an edge region of this plan`);
    }
    const { prefix } = props.regions;

    this.projects = TableV2.fromTableName(
      this,
      tables.projects.logicalId,
      regionTableName(prefix, 'projects'),
    );
    this.rateLimits = createDeclaredTable(this, 'rateLimits', regionTableName(prefix, 'rateLimits'), []);
    // No dead-letter queue: the forwarder never reads a body, so nothing is poison to it, and what it
    // cannot deliver while home is down waits here. SQS-managed encryption: no key to share with home.
    this.ingestQueue = new Queue(this, queues.ingest.logicalId, {
      queueName: ingestQueueName(prefix),
      visibilityTimeout: Duration.seconds(queues.ingest.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(edgeQueue.retentionDays),
      maxMessageSizeBytes: queues.ingest.maxMessageSizeBytes,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queues = { ingest: { queue: this.ingestQueue } };

    const { api, stage } = createHttpApi(this, props);
    this.api = api;
    this.apiStage = stage;

    this.functions = {} as Record<EdgeFunctionName, FaultlineFunction>;
    for (const name of edgeFunctions) this.functions[name] = this.createFunction(name);
    // The forwarder's way to home: the region variables, the home row, the pipeline regions' queues.
    joinRegions(this, props.regions, this.role, this.functions, this.projects);

    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: 'Faultline alarms', enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    addAlarmsAndDashboard(
      this,
      {
        alarmTopic: this.alarmTopic,
        api,
        queues: {},
        streamFailureQueues: [],
        functions: this.functions,
      },
      monitoringOptionsFromContext(this),
    );
    const oldest = new Alarm(this, `${queues.ingest.logicalId}OldestMessageAlarm`, {
      metric: this.ingestQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: edgeQueue.oldestMessageAlarmSeconds,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'An accepted item has waited 15 minutes at this edge: the forwarder cannot reach the home ' +
        "region's queue (home down, or a promotion pending); it keeps retrying for the queue's 14 days",
    });
    oldest.addAlarmAction(new SnsAction(this.alarmTopic));
    // After monitoring: a release rolls back on the alarms it made (an edge's queue has no dead letters).
    this.releases = addReleases(this, this, releaseOptionsFromContext(this));
    addTraceSampling(this, props.traceSampling);

    if (props.domain) {
      this.domain = new RegionalDomain(this, 'Domain', { ...props.domain, region: this.region, api, stage });
    }
    this.createOutputs();
    acknowledgeEdgeFindings(this);
  }

  /** A function of the edge, with what it sends at an edge (`accessOf`, from the wiring). */
  private createFunction(name: EdgeFunctionName): FaultlineFunction {
    const declaration: FunctionDeclaration = functions[name];
    const uses = accessOf(name, this.role);
    const id = `${pascalCase(name)}Function`;
    const fn = new FaultlineFunction(this, id, {
      entry: declaration.entry,
      description: declaration.description,
      timeout: Duration.seconds(declaration.timeoutSeconds),
      memorySize: declaration.memoryMb,
      environment: { ...commonEnvironment },
    });
    for (const [tableName, actions] of declared(uses.tables)) {
      const table =
        tableName === 'projects' ? this.projects : tableName === 'rateLimits' ? this.rateLimits : undefined;
      if (!table) throw new Error(`${name} uses the ${tableName} table, which an edge has not`);
      fn.useTable(table, tables[tableName].envVar, actions, false);
    }
    const trigger = declaration.trigger;
    for (const [queueName, access] of declared(uses.queues)) {
      if (queueName !== 'ingest')
        throw new Error(`${name} uses the ${queueName} queue, which an edge has not`);
      if (isConsumeAndSend(access))
        throw new Error(`${name} re-sends to its own queue, which an edge never does`);
      if (access !== 'consume') {
        fn.useQueue(this.ingestQueue, queues.ingest.envVar, { kind: 'use', actions: access });
        continue;
      }
      if (trigger.kind !== 'queue' || trigger.queue !== queueName) {
        throw new Error(`${name} consumes queue ${queueName} but its trigger is not that queue`);
      }
      if (queues.ingest.visibilityTimeoutSeconds < declaration.timeoutSeconds) {
        throw new Error(`the ingest queue's visibility timeout is shorter than ${name}'s timeout`);
      }
      fn.useQueue(this.ingestQueue, queues.ingest.envVar, {
        kind: 'consume',
        batchSize: trigger.batchSize,
        maxBatchingWindow: Duration.seconds(trigger.maxBatchingWindowSeconds),
      });
    }
    if (trigger.kind === 'http') {
      const url = serveHttpTrigger(this, this.api, name, fn, trigger);
      if (url) this.functionUrls[name] = url;
    } else if (trigger.kind !== 'queue') {
      throw new Error(`${name} is triggered by a ${trigger.kind}, which an edge has not`);
    }
    return fn;
  }

  private createOutputs(): void {
    new CfnOutput(this, 'ApiUrl', {
      value: this.apiStage.url,
      description:
        'Rollbar endpoint in this edge region: <url>api/1/ (deploys; items too, though SDKs use IngestUrl)',
    });
    new CfnOutput(this, `${queues.ingest.logicalId}Url`, { value: this.ingestQueue.queueUrl });
    new CfnOutput(this, `${tables.projects.logicalId}Name`, { value: this.projects.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    this.domain?.addOutputs();
  }
}
