// One region of Faultline, built from the wiring declared in shared/wiring/tables.ts and shared/wiring/topology.ts.
import path from 'node:path';
import { CfnOutput, CfnParameter, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, Billing, ProjectionType, StreamViewType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Schedule, Rule as ScheduleRule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EMAIL_FROM_VAR } from '#shared/notifications/email/ses';
import { PUBLIC_URL_VAR } from '#shared/notifications/links';
import { SECRETS_KEY_ARN_VAR } from '#shared/notifications/secrets';
import { OPENSEARCH_ENDPOINT_VAR, SEARCH_ENGINE_VAR } from '#shared/search/opensearch/domain';
import { functionsFor } from '#shared/wiring/regions';
import { type TableName, tables } from '#shared/wiring/tables';
import {
  commonEnvironment,
  type FunctionDeclaration,
  type FunctionName,
  httpApi,
  type QueueDeclaration,
  type QueueName,
  queues,
} from '#shared/wiring/topology';
import { FaultlineFunction, repositoryRoot } from '../constructs/faultline-function';
import { acknowledgeAcceptedFindings } from './accepted-findings';
import { declared, functionDeclarations, pascalCase, tableDeclarations } from './declarations';
import { addAlarmsAndDashboard, addTraceSampling, type TraceSampling } from './monitoring';
import { addReleases, type Releases, releaseOptionsFromContext } from './releases';
import { SearchDomain, type SearchDomainOptions } from './search-domain';

export interface RegionalStackProps extends StackProps {
  /** Address subscribed to the alarm topic; without one, subscribe the topic after deploying. */
  readonly alarmEmail?: string;
  /** Steady requests per second the API stage accepts. @default 1000 */
  readonly apiRateLimit?: number;
  /** Burst the API stage accepts above the steady rate. @default 2000 */
  readonly apiBurstLimit?: number;
  /**
   * Where notification links point (`{publicUrl}/items/{counter}`). @default the HTTP API's URL
   */
  readonly publicUrl?: string;
  /** X-Ray sampling of the functions' traces. @default no reservoir, 1% of invocations */
  readonly traceSampling?: TraceSampling;
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

// JSON with HTTP API (payload 2.0) variables; the library default is the REST API's format. One line
// per request is billed per byte (docs/benchmarks.md), so it keeps what an investigation needs: the
// request's id, caller, route, status, latency and an integration's error. The time is the log
// event's own; user agents (the longest field) and sizes are left out.
export const httpApiAccessLogFields = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  route: '$context.routeKey',
  status: '$context.status',
  ms: '$context.responseLatency',
  error: '$context.integrationErrorMessage',
};
const httpApiAccessLogFormat = AccessLogFormat.custom(JSON.stringify(httpApiAccessLogFields));

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
  readonly tables: Record<TableName, TableV2>;
  readonly queues: Record<QueueName, DeclaredQueue>;
  readonly functions: Record<FunctionName, FaultlineFunction>;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  readonly alarmTopic: Topic;
  /** Where stream records that failed every retry are described, one queue per stream consumer. */
  readonly streamFailureQueues: Queue[] = [];
  /** The key that seals channel credentials in notification rules (generated; never rotated: see docs). */
  readonly secretsKey: Secret;
  /** The SES identity notification emails are sent from (a stack parameter). */
  readonly emailFrom: CfnParameter;
  /** The OpenSearch domain, with `-c search=opensearch` only. */
  readonly searchDomain?: SearchDomain;
  /** CodeDeploy's canary of every function but the fold, and the opt-in self-reporting (releases.ts). */
  readonly releases: Releases;
  private readonly publicUrl: string;

  constructor(scope: Construct, id: string, props: RegionalStackProps = {}) {
    super(scope, id, props);

    this.tables = this.createTables();
    this.queues = this.createQueues();

    const { api, stage } = this.createApi(props);
    this.api = api;
    this.apiStage = stage;
    this.publicUrl = props.publicUrl ?? api.apiEndpoint;

    this.secretsKey = new Secret(this, 'NotificationSecretsKey', {
      description: 'Faultline: the key that seals channel credentials in notification rules',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // Losing it makes every stored channel credential unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.emailFrom = new CfnParameter(this, 'NotificationEmailFrom', {
      type: 'String',
      default: '',
      description:
        'The SES verified identity (address) notification emails are sent from; empty: email rules fail until set',
    });

    this.functions = {} as Record<FunctionName, FaultlineFunction>;
    // The one-region stack: every function but an edge region's forwarder (shared/wiring/regions.ts).
    for (const name of functionsFor('single', Object.keys(functionDeclarations) as FunctionName[])) {
      this.functions[name] = this.createFunction(name, functionDeclarations[name]);
    }
    if (props.search?.engine === 'opensearch') this.searchDomain = this.createSearchDomain(props.search);

    this.alarmTopic = new Topic(this, 'AlarmTopic', { displayName: 'Faultline alarms', enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    addAlarmsAndDashboard(this, this);
    // After monitoring: a release rolls back on the alarms it made.
    this.releases = addReleases(this, this, releaseOptionsFromContext(this));
    addTraceSampling(this, props.traceSampling);

    this.createOutputs();
    acknowledgeAcceptedFindings(this);
  }

  private createTables(): Record<TableName, TableV2> {
    const created = {} as Record<TableName, TableV2>;
    for (const [name, declaration] of declared(tableDeclarations)) {
      created[name] = new TableV2(this, declaration.logicalId, {
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
    return created;
  }

  private createQueues(): Record<QueueName, DeclaredQueue> {
    const created = {} as Record<QueueName, DeclaredQueue>;
    for (const [name, declaration] of declared<QueueName, QueueDeclaration>(queues)) {
      const deadLetterQueue = this.encryptedQueue(declaration.deadLetter.logicalId, {
        retentionDays: declaration.deadLetter.retentionDays,
        // A message the queue accepted must fit in its dead-letter queue too.
        maxMessageSizeBytes: declaration.maxMessageSizeBytes,
      });
      const queue = new Queue(this, declaration.logicalId, {
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

  private createApi(props: RegionalStackProps): { api: HttpApi; stage: HttpStage } {
    const api = new HttpApi(this, 'HttpApi', {
      description: 'Faultline: Rollbar API v1 compatible ingest and read API',
      // The stage is created below with logging and throttling; the implicit one has neither.
      createDefaultStage: false,
      // rollbar.js in browsers posts cross-origin with the token in a header, which needs a preflight.
      // Tokens travel in headers, never cookies, so any origin may call without credentials.
      corsPreflight: {
        allowOrigins: [...httpApi.cors.allowOrigins],
        allowMethods: httpApi.cors.allowMethods.map((method) => CorsHttpMethod[method]),
        allowHeaders: [...httpApi.cors.allowHeaders],
        exposeHeaders: [...httpApi.cors.exposeHeaders],
        maxAge: Duration.seconds(httpApi.cors.maxAgeSeconds),
      },
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new HttpStage(this, 'ApiStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: httpApiAccessLogFormat,
      },
      // A runaway client gets 429s from the stage instead of exhausting the account-wide limit.
      throttle: { rateLimit: props.apiRateLimit ?? 1000, burstLimit: props.apiBurstLimit ?? 2000 },
    });
    return { api, stage };
  }

  private createFunction(name: FunctionName, declaration: FunctionDeclaration): FaultlineFunction {
    const id = `${pascalCase(name)}Function`;
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

    for (const [tableName, actions] of declared(declaration.tables)) {
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
        fn.addEnvironment(SECRETS_KEY_ARN_VAR, this.secretsKey.secretArn);
        fn.addEnvironment(PUBLIC_URL_VAR, this.publicUrl);
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
    for (const [queueName, access] of declared(declaration.queues)) {
      const { queue } = this.queues[queueName];
      if (access !== 'consume') {
        fn.useQueue(queue, queues[queueName].envVar, { kind: 'use', actions: access });
        continue;
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
        const integration = new HttpLambdaIntegration(`${id}Integration`, fn.live);
        for (const routeKey of trigger.routes) {
          const [method, path] = routeKey.split(' ') as [keyof typeof HttpMethod, string];
          this.api.addRoutes({ path, methods: [HttpMethod[method]], integration });
        }
        break;
      }
      case 'queue':
        if (declaration.queues[trigger.queue] !== 'consume') {
          throw new Error(`${name} is triggered by queue ${trigger.queue} but does not declare consuming it`);
        }
        break;
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
    new CfnOutput(this, 'ApiUrl', { value: this.apiStage.url, description: 'Rollbar endpoint: <url>api/1/' });
    // Same origin as the API: the page calls /api/1/ without CORS, and costs nothing while nobody looks.
    new CfnOutput(this, 'DashboardUrl', {
      value: this.apiStage.url,
      description: 'The web dashboard: sign in with a read access token (read and write to change items)',
    });
    for (const [name, table] of declared<TableName, TableV2>(this.tables)) {
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
