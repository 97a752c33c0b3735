// One region of Faultline that runs the whole pipeline (the only region, a home or a standby), built from
// the wiring declared in shared/wiring/tables.ts and shared/wiring/topology.ts. An edge is edge-stack.ts.
import path from 'node:path';
import { CfnOutput, CfnParameter, Duration, RemovalPolicy, Stack, type StackProps, Token } from 'aws-cdk-lib';
import type { HttpApi, HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AttributeType,
  Billing,
  type ITableV2,
  ProjectionType,
  StreamViewType,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Schedule, Rule as ScheduleRule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { AwsCustomResource } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { EMAIL_FROM_VAR } from '#shared/notifications/email/ses';
import { PUBLIC_URL_VAR } from '#shared/notifications/links';
import { SECRETS_KEY_SECRET_VAR } from '#shared/notifications/secrets';
import type { OperationsRegion } from '#shared/operations/graphs';
import { OPERATIONS_REGIONS_VAR } from '#shared/operations/service';
import { OPENSEARCH_ENDPOINT_VAR, SEARCH_ENGINE_VAR } from '#shared/search/opensearch/domain';
import {
  functionsFor,
  ingestQueueName,
  isRegionalTable,
  type RegionRole,
  regionTableName,
  replicaRegions,
  roleOf,
} from '#shared/wiring/regions';
import { type TableName, tables } from '#shared/wiring/tables';
import {
  accessOf,
  commonEnvironment,
  type FunctionDeclaration,
  type FunctionName,
  isConsumeAndSend,
  type QueueDeclaration,
  type QueueName,
  queues,
} from '#shared/wiring/topology';
import { FaultlineFunction, repositoryRoot } from '../constructs/faultline-function';
import { acknowledgeAcceptedFindings } from './accepted-findings';
import { importReplica, joinRegions, type RegionsOptions } from './cross-region';
import { declared, functionDeclarations, pascalCase, tableDeclarations } from './declarations';
import { createHttpApi, type HttpApiLimits, serveHttpTrigger } from './http-api';
import {
  addAlarmsAndDashboard,
  addTraceSampling,
  monitoringOptionsFromContext,
  type TraceSampling,
} from './monitoring';
import { type DomainOptions, RegionalDomain } from './regional-domain';
import { addReleases, type Releases, releaseOptionsFromContext } from './releases';
import { SearchDomain, type SearchDomainOptions } from './search-domain';

export interface RegionalStackProps extends StackProps, HttpApiLimits {
  /** Address subscribed to the alarm topic; without one, subscribe the topic after deploying. */
  readonly alarmEmail?: string;
  /**
   * Where notification links point (`{publicUrl}/items/{counter}`). @default the region's own custom
   * domain name (`https://<region>.<domain>`) with a domain, else the HTTP API's URL
   */
  readonly publicUrl?: string;
  /** X-Ray sampling of the functions' traces. @default no reservoir, 1% of invocations */
  readonly traceSampling?: TraceSampling;
  /**
   * Several regions (`-c regions=…`): the plan, in which this stack's region is the home or a standby.
   * @default one region: the tables and queues keep the names CloudFormation generates
   */
  readonly regions?: RegionsOptions;
  /** A custom domain with latency routing and a health check (`-c domain=…`). @default none */
  readonly domain?: DomainOptions;
  /**
   * The search engine: `dynamodb` (the search table; nothing runs while nobody searches) or
   * `opensearch` (an OpenSearch Service domain, `-c search=opensearch`). @default dynamodb
   */
  readonly search?:
    | { readonly engine: 'dynamodb' }
    | ({ readonly engine: 'opensearch' } & SearchDomainOptions);
}

/** A queue declared in the wiring, with the dead-letter queue its redrive ends in. */
export interface DeclaredQueue {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
}

/**
 * The dashboard is built into the serving function's bundle (`dashboard/` beside the handler), by the
 * same build `npm start` runs, so a deploy never ships a stale or missing page.
 */
export const dashboardBuild: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (_inputDir, outputDir) => [
    `"${path.join(repositoryRoot, 'node_modules', '.bin', 'tsx')}" "${path.join(repositoryRoot, 'shared', 'dashboard', 'build.ts')}" "${path.join(outputDir, 'dashboard')}"`,
  ],
};

const attributeTypes = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY } as const;

export class RegionalStack extends Stack {
  /** The part this region plays: `single`, or `home` or `standby` in a multi-region plan. */
  readonly role: Exclude<RegionRole, 'edge'>;
  /** The tables: created here (one region, home; a standby's search table), or a standby's replicas. */
  readonly tables: Record<TableName, ITableV2>;
  readonly queues: Record<QueueName, DeclaredQueue>;
  readonly functions: Record<FunctionName, FaultlineFunction>;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  /** The function URLs the wiring declares (`functionUrl`): ingest's, which SDKs post to (`IngestUrl`). */
  readonly functionUrls: Partial<Record<FunctionName, FunctionUrl>> = {};
  readonly alarmTopic: Topic;
  /** Where stream records that failed every retry are described, one queue per stream consumer. */
  readonly streamFailureQueues: Queue[] = [];
  /** The key that seals channel credentials in notification rules (generated; never rotated: see docs). */
  readonly secretsKey: ISecret;
  /** The SES identity notification emails are sent from (a stack parameter). */
  readonly emailFrom: CfnParameter;
  /** The OpenSearch domain, with `-c search=opensearch` only. */
  readonly searchDomain?: SearchDomain;
  /** CodeDeploy's canary of every function but the fold, and the opt-in self-reporting (releases.ts). */
  readonly releases: Releases;
  /** The custom domain names, health check and records, with `-c domain=` only. */
  readonly domain?: RegionalDomain;
  /** What reads a standby's replica streams at deploy time (their ARNs are not known before). */
  readonly replicaStreamReaders: AwsCustomResource[] = [];
  private readonly publicUrl: string;
  /** The plan of several regions, if any: the Operations page shows each of its regions. */
  private readonly regionsOptions?: RegionsOptions;

  constructor(scope: Construct, id: string, props: RegionalStackProps = {}) {
    super(scope, id, props);
    this.role = this.roleIn(props.regions);
    this.regionsOptions = props.regions;

    this.tables = this.createTables(props.regions);
    this.queues = this.createQueues(props.regions);

    const { api, stage } = createHttpApi(this, props);
    this.api = api;
    this.apiStage = stage;
    if (props.domain) {
      this.domain = new RegionalDomain(this, 'Domain', { ...props.domain, region: this.region, api, stage });
    }
    // Links lead to this region's own name: the shared name may answer from an edge, which has no dashboard.
    this.publicUrl =
      props.publicUrl ?? (this.domain ? `https://${this.domain.regionalName}` : api.apiEndpoint);

    this.secretsKey = this.createSecretsKey(props.regions);
    this.emailFrom = new CfnParameter(this, 'NotificationEmailFrom', {
      type: 'String',
      default: '',
      description:
        'The SES verified identity (address) notification emails are sent from; empty: email rules fail until set',
    });

    this.functions = {} as Record<FunctionName, FaultlineFunction>;
    // The whole pipeline: every function but an edge region's forwarder (shared/wiring/regions.ts).
    for (const name of functionsFor(this.role, Object.keys(functionDeclarations) as FunctionName[])) {
      this.functions[name] = this.createFunction(name, functionDeclarations[name]);
    }
    // While another region is home, the storing worker forwards its batches there, as an edge does.
    if (props.regions) joinRegions(this, props.regions, this.role, this.functions, this.tables.projects);
    if (props.search?.engine === 'opensearch') this.searchDomain = this.createSearchDomain(props.search);

    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: 'Faultline alarms', enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    addAlarmsAndDashboard(this, this, monitoringOptionsFromContext(this));
    // After monitoring: a release rolls back on the alarms it made.
    this.releases = addReleases(this, this, releaseOptionsFromContext(this));
    addTraceSampling(this, props.traceSampling);

    this.createOutputs();
    acknowledgeAcceptedFindings(this);
  }

  private roleIn(regions: RegionsOptions | undefined): Exclude<RegionRole, 'edge'> {
    if (!regions) return 'single';
    if (Token.isUnresolved(this.region)) throw new Error('a stack of a multi-region plan needs its region');
    const role = roleOf(regions.plan, this.region);
    if (role === 'edge') throw new Error(`${this.region} is an edge region of this plan: it is an EdgeStack`);
    return role;
  }

  /**
   * The key that seals channel credentials. Rules live in the notifications table, which a standby
   * holds as a replica: a standby that becomes home must open what the home sealed, so in a plan of
   * several regions the home's secret is replicated to every standby (under one name) and a standby
   * reads its replica instead of generating a key of its own.
   */
  private createSecretsKey(regions: RegionalStackProps['regions']): ISecret {
    const secretName = regions ? `${regions.prefix}-NotificationSecretsKey` : undefined;
    if (this.role === 'standby' && secretName) {
      return Secret.fromSecretNameV2(this, 'NotificationSecretsKey', secretName);
    }
    return new Secret(this, 'NotificationSecretsKey', {
      description: 'Faultline: the key that seals channel credentials in notification rules',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // Losing it makes every stored channel credential unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
      ...(regions && {
        secretName,
        replicaRegions: regions.plan.standbys.map((region) => ({ region })),
      }),
    });
  }
  private createTables(regions: RegionsOptions | undefined): Record<TableName, ITableV2> {
    const created = {} as Record<TableName, ITableV2>;
    for (const [name, declaration] of declared(tableDeclarations)) {
      const tableName = regions && regionTableName(regions.prefix, name);
      // A standby uses the replicas of the home's Global Tables; its regional tables are its own.
      if (regions && tableName && this.role === 'standby' && !isRegionalTable(name)) {
        const replica = importReplica(this, declaration.logicalId, tableName, {
          withStream: declaration.stream !== undefined,
        });
        if (replica.streamReader) this.replicaStreamReaders.push(replica.streamReader);
        created[name] = replica.table;
        continue;
      }
      created[name] = createDeclaredTable(
        this,
        name,
        tableName,
        regions ? replicaRegions(regions.plan, name) : undefined,
      );
    }
    return created;
  }

  private createQueues(regions: RegionsOptions | undefined): Record<QueueName, DeclaredQueue> {
    const created = {} as Record<QueueName, DeclaredQueue>;
    for (const [name, declaration] of declared<QueueName, QueueDeclaration>(queues)) {
      const deadLetterQueue = this.encryptedQueue(declaration.deadLetter.logicalId, {
        retentionDays: declaration.deadLetter.retentionDays,
        // A message the queue accepted must fit in its dead-letter queue too.
        maxMessageSizeBytes: declaration.maxMessageSizeBytes,
      });
      const queue = new Queue(this, declaration.logicalId, {
        // Other regions send to the ingest queue by its name (shared/wiring/regions.ts).
        queueName: regions && name === 'ingest' ? ingestQueueName(regions.prefix) : undefined,
        visibilityTimeout: Duration.seconds(declaration.visibilityTimeoutSeconds),
        retentionPeriod: Duration.days(declaration.retentionDays),
        maxMessageSizeBytes: declaration.maxMessageSizeBytes,
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: declaration.maxReceiveCount },
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      created[name] = { queue, deadLetterQueue };
    }
    return created;
  }

  /** A queue that is the last stop of a message: encrypted, TLS only, kept as long as SQS allows. */
  private encryptedQueue(
    id: string,
    options: { retentionDays: number; maxMessageSizeBytes?: number },
  ): Queue {
    return new Queue(this, id, {
      retentionPeriod: Duration.days(options.retentionDays),
      maxMessageSizeBytes: options.maxMessageSizeBytes,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
  }

  /**
   * The regions the Operations page shows: this one alone, or every region of the plan, each with its
   * stack's name (CloudFormation starts its functions' and queues' names with it). Only this region's
   * API id is known here: another region's stack is deployed apart, and its API is not in this template.
   */
  private operationsRegions(regions: RegionsOptions | undefined): OperationsRegion[] {
    const own = { apiId: this.api.apiId };
    if (!regions) return [{ region: this.region, role: 'single', stackName: this.stackName, ...own }];
    return regions.plan.regions.map((region) => ({
      region,
      role: roleOf(regions.plan, region),
      stackName: `${regions.prefix}-${region}`,
      ingestQueueName: ingestQueueName(regions.prefix),
      ...(region === this.region ? own : {}),
    }));
  }

  private createFunction(name: FunctionName, declaration: FunctionDeclaration): FaultlineFunction {
    const id = `${pascalCase(name)}Function`;
    // What it sends in this region's part: in a standby or home, maybe more than in one region.
    const access = accessOf(name, this.role);
    const fn = new FaultlineFunction(this, id, {
      entry: declaration.entry,
      description: declaration.description,
      timeout: Duration.seconds(declaration.timeoutSeconds),
      memorySize: declaration.memoryMb,
      environment: { ...commonEnvironment },
      ...((declaration.uses ?? []).includes('dashboard')
        ? { bundling: { commandHooks: dashboardBuild } }
        : {}),
    });

    for (const [tableName, actions] of declared(access.tables)) {
      fn.useTable(
        this.tables[tableName],
        tables[tableName].envVar,
        actions,
        tableDeclarations[tableName].globalIndexes.length > 0,
      );
    }

    for (const service of declaration.uses ?? []) {
      if (service === 'secretsKey') {
        this.secretsKey.grantRead(fn);
        // A standby's key is the home's replica, known here by name only (its ARN ends in a suffix
        // Secrets Manager draws at creation).
        fn.addEnvironment(
          SECRETS_KEY_SECRET_VAR,
          this.role === 'standby' ? this.secretsKey.secretName : this.secretsKey.secretArn,
        );
        fn.addEnvironment(PUBLIC_URL_VAR, this.publicUrl);
      } else if (service === 'cloudwatch') {
        // The Operations page: this installation's metrics in each of its regions, read per look.
        // CloudWatch authorizes ListMetrics and GetMetricData on `*` only (no resource-level permission).
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
            resources: ['*'],
          }),
        );
        fn.addEnvironment(
          OPERATIONS_REGIONS_VAR,
          this.toJsonString(this.operationsRegions(this.regionsOptions)),
        );
      } else if (service === 'email') {
        fn.addEnvironment(EMAIL_FROM_VAR, this.emailFrom.valueAsString);
        // Only from the configured sender: any identity of the account, but this From address.
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['ses:SendEmail'],
            resources: [`arn:${this.partition}:ses:${this.region}:${this.account}:identity/*`],
            conditions: { StringEquals: { 'ses:FromAddress': this.emailFrom.valueAsString } },
          }),
        );
      }
    }

    const trigger = declaration.trigger;
    for (const [queueName, queueAccess] of declared(access.queues)) {
      const { queue } = this.queues[queueName];
      if (queueAccess !== 'consume' && !isConsumeAndSend(queueAccess)) {
        fn.useQueue(queue, queues[queueName].envVar, { kind: 'use', actions: queueAccess });
        continue;
      }
      // A consumer that also sends to its own queue (a pipeline region's worker re-queueing what waits).
      if (isConsumeAndSend(queueAccess)) {
        fn.useQueue(queue, queues[queueName].envVar, { kind: 'use', actions: queueAccess.send });
      }
      if (trigger.kind !== 'queue' || trigger.queue !== queueName) {
        throw new Error(`${name} consumes queue ${queueName} but its trigger is not that queue`);
      }
      // AWS rejects an event source whose function may outlive the message's invisibility.
      if (queues[queueName].visibilityTimeoutSeconds < declaration.timeoutSeconds) {
        throw new Error(`queue ${queueName}'s visibility timeout is shorter than ${name}'s timeout`);
      }
      fn.useQueue(queue, queues[queueName].envVar, {
        kind: 'consume',
        batchSize: trigger.batchSize,
        maxBatchingWindow: Duration.seconds(trigger.maxBatchingWindowSeconds),
      });
    }

    switch (trigger.kind) {
      case 'http': {
        const url = serveHttpTrigger(this, this.api, name, fn, trigger);
        if (url) this.functionUrls[name] = url;
        break;
      }
      case 'queue': {
        const queueAccess = access.queues[trigger.queue];
        if (queueAccess !== 'consume' && !(queueAccess && isConsumeAndSend(queueAccess))) {
          throw new Error(`${name} is triggered by queue ${trigger.queue} but does not declare consuming it`);
        }
        break;
      }
      case 'stream': {
        if (!tableDeclarations[trigger.table].stream) {
          throw new Error(`${name} is triggered by the stream of ${trigger.table}, which declares none`);
        }
        const onFailure = this.encryptedQueue(`${pascalCase(name)}StreamFailureQueue`, { retentionDays: 14 });
        this.streamFailureQueues.push(onFailure);
        fn.consumeStream(this.tables[trigger.table], {
          batchSize: trigger.batchSize,
          startingPosition: trigger.startingPosition,
          maxBatchingWindow:
            trigger.maxBatchingWindowSeconds === undefined
              ? undefined
              : Duration.seconds(trigger.maxBatchingWindowSeconds),
          bisectOnError: trigger.bisectOnError ?? true,
          retryAttempts: trigger.retryAttempts,
          filter: trigger.filter,
          onFailure,
        });
        break;
      }
      case 'schedule':
        new ScheduleRule(this, `${id}Schedule`, {
          description: `Runs ${name} every ${trigger.everyMinutes} minutes`,
          schedule: Schedule.rate(Duration.minutes(trigger.everyMinutes)),
          targets: [new LambdaTarget(fn.live, { retryAttempts: 2 })],
        });
        break;
    }
    return fn;
  }

  /** The domain, reachable by the indexer (writes) and the read API (reads), which are told to use it. */
  private createSearchDomain(options: SearchDomainOptions): SearchDomain {
    const writer = this.functions.indexSearch;
    const reader = this.functions.readApi;
    const search = new SearchDomain(this, 'Search', { ...options, writer: writer.role, reader: reader.role });
    for (const fn of [writer, reader]) {
      fn.addEnvironment(SEARCH_ENGINE_VAR, 'opensearch');
      fn.addEnvironment(OPENSEARCH_ENDPOINT_VAR, search.endpoint);
    }
    return search;
  }

  private createOutputs(): void {
    new CfnOutput(this, 'ApiUrl', {
      value: this.apiStage.url,
      description: 'The API: <url>api/1/ for deploys and reads (and items, where SDKs do not use IngestUrl)',
    });
    // Same origin as the API: the page calls /api/1/ without CORS, and costs nothing while nobody looks.
    new CfnOutput(this, 'DashboardUrl', {
      // With a domain, at the region's own name: the shared name may answer from an edge.
      value: this.domain ? `https://${this.domain.regionalName}/` : this.apiStage.url,
      description: 'The web dashboard: sign in with a read access token (read and write to change items)',
    });
    this.domain?.addOutputs();
    for (const [name, table] of declared<TableName, ITableV2>(this.tables)) {
      new CfnOutput(this, `${tables[name].logicalId}Name`, { value: table.tableName });
    }
    for (const [name, { queue, deadLetterQueue }] of declared<QueueName, DeclaredQueue>(this.queues)) {
      new CfnOutput(this, `${queues[name].logicalId}Url`, { value: queue.queueUrl });
      new CfnOutput(this, `${queues[name].deadLetter.logicalId}Url`, { value: deadLetterQueue.queueUrl });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    if (this.searchDomain) {
      new CfnOutput(this, 'SearchDomainName', {
        value: this.searchDomain.domain.domainName,
        description: 'faultline search status --domain <name>',
      });
      new CfnOutput(this, 'SearchDomainEndpoint', { value: this.searchDomain.endpoint });
    }
  }
}

/**
 * A table as the wiring declares it: on-demand, point-in-time recovery, retained and protected from
 * deletion; `replicas` make it a Global Table.
 */
export function createDeclaredTable(
  scope: Construct,
  name: TableName,
  tableName: string | undefined,
  replicas: readonly string[] | undefined,
): TableV2 {
  const declaration = tableDeclarations[name];
  return new TableV2(scope, declaration.logicalId, {
    tableName,
    // Point-in-time recovery, deletion protection, TTL and the stream apply to every replica.
    replicas: replicas?.map((region) => ({ region })),
    partitionKey: {
      name: declaration.partitionKey.name,
      type: attributeTypes[declaration.partitionKey.type],
    },
    sortKey: declaration.sortKey && {
      name: declaration.sortKey.name,
      type: attributeTypes[declaration.sortKey.type],
    },
    globalSecondaryIndexes: declaration.globalIndexes.map((index) => ({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey.name, type: attributeTypes[index.partitionKey.type] },
      sortKey: index.sortKey && { name: index.sortKey.name, type: attributeTypes[index.sortKey.type] },
      projectionType: ProjectionType[index.projection],
    })),
    billing: Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    dynamoStream: declaration.stream && StreamViewType[declaration.stream],
    timeToLiveAttribute: declaration.timeToLiveAttribute,
    // Items, occurrences and tokens are the product's data: a stack deletion must not take them.
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
  });
}
