// The one Lambda function shape of Faultline: runtime, bundling, logs and tracing decided once here.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Alias,
  type AliasProps,
  Architecture,
  EventSourceMapping,
  type EventSourceMappingOptions,
  FilterCriteria,
  FilterRule,
  type IEventSource,
  LoggingFormat,
  Runtime,
  StartingPosition,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** The repository root: entries, package.json `imports` and the lock file are all relative to it. */
export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

// Bundled CommonJS dependencies may still call `require`; an ES module has none unless we make one.
const esmRequireBanner =
  "import { createRequire as faultlineCreateRequire } from 'node:module'; " +
  'const require = faultlineCreateRequire(import.meta.url);';

export interface FaultlineFunctionProps
  extends Omit<
    NodejsFunctionProps,
    'entry' | 'runtime' | 'architecture' | 'logGroup' | 'projectRoot' | 'role'
  > {
  /** Handler file relative to the repository root, as the wiring declares it. */
  entry: string;
  /** @default one month: long enough to investigate an incident, short enough not to pay for noise. */
  logRetention?: RetentionDays;
}

/** How a function consumes a queue it is triggered by. */
export interface QueueConsumption {
  batchSize: number;
  maxBatchingWindow: Duration;
}

/** Which stream records invoke a function: their `eventName`, and the `entity` of their new image. */
export interface StreamFilter {
  eventNames: readonly ('INSERT' | 'MODIFY' | 'REMOVE')[];
  entities: readonly string[];
}

/** How a function consumes a table's stream. */
export interface StreamConsumption {
  batchSize: number;
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** How long Lambda gathers records before invoking. @default none: as soon as there are records */
  maxBatchingWindow?: Duration;
  /** Split a failing batch in two and retry the halves. */
  bisectOnError: boolean;
  /** Retries of a failing batch; undefined: until its records expire from the stream. */
  retryAttempts?: number;
  /** Only matching records invoke the function; the others are skipped, and the shard moves past them. */
  filter?: StreamFilter;
  /** Where records that still fail after the retries are described, so none is dropped silently. */
  onFailure: IQueue;
}

/** The alias every trigger invokes: releases move it from one published version to the next. */
export const LIVE_ALIAS = 'live';

/**
 * An alias whose event source mappings are created in the function's scope, with the ids they had
 * when they pointed at the function itself: their logical ids never change, so moving a trigger onto
 * the alias updates its mapping in place (`FunctionName` is updated without interruption) instead
 * of replacing it. A replaced stream mapping starts again from its starting position: the fold would
 * count a day of occurrences twice (docs/operations.md).
 */
class LiveAlias extends Alias {
  constructor(
    private readonly owner: FaultlineFunction,
    id: string,
    props: AliasProps,
  ) {
    super(owner, id, props);
  }

  override addEventSourceMapping(id: string, options: EventSourceMappingOptions): EventSourceMapping {
    return new EventSourceMapping(this.owner, id, { ...options, target: this });
  }
}

export class FaultlineFunction extends NodejsFunction {
  /** The execution role; every grant of the function lands on it. */
  override readonly role: Role;
  /**
   * The `live` alias on the function's current version: API routes, queue and stream triggers and
   * schedules invoke it, never the function's unqualified ARN, so a release (infra/stacks/releases.ts)
   * decides which version answers.
   */
  readonly live: Alias;

  constructor(scope: Construct, id: string, props: FaultlineFunctionProps) {
    const { entry, logRetention, bundling, environment, ...rest } = props;
    // The log group is created before the function so retention is ours, not the default "never expire".
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: logRetention ?? RetentionDays.ONE_MONTH,
      // Logs are operational, not product data: they go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: that managed policy may write to any log
    // group in the account, this one only to the function's own.
    const role = new Role(scope, `${id}ServiceRole`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      ...rest,
      role,
      entry: path.join(repositoryRoot, entry),
      projectRoot: repositoryRoot,
      depsLockFilePath: path.join(repositoryRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      handler: 'handler',
      tracing: Tracing.ACTIVE,
      logGroup,
      // Lambda's own START, END and REPORT lines are a third of a request's log bytes, and the
      // Duration and error metrics say the same: only its warnings and errors (timeouts, crashes)
      // are kept. JSON is the format that lets a level be set; Powertools' lines are JSON already.
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: {
        // Stack traces in the logs point at the TypeScript sources, not the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        // Prefer ES module builds of dependencies so esbuild can tree-shake them.
        mainFields: ['module', 'main'],
        banner: esmRequireBanner,
        // No Docker on build machines: esbuild from node_modules bundles locally.
        forceDockerBundling: false,
        ...bundling,
      },
    });
    this.role = role;
    this.live = new LiveAlias(this, 'LiveAlias', { aliasName: LIVE_ALIAS, version: this.currentVersion });
  }

  /** Triggers the `live` alias (not the function) from an event source: see LiveAlias. */
  private addTrigger(source: IEventSource): void {
    this.live.addEventSource(source);
  }

  /**
   * Gives the function a table: its name in `envVar` and exactly the declared `actions` on it,
   * together. A Query is also allowed on the table's indexes when it has some (`hasIndexes`); no
   * other action applies to an index.
   */
  useTable(table: ITableV2, envVar: string, actions: readonly string[], hasIndexes: boolean): void {
    this.addEnvironment(envVar, table.tableName);
    if (actions.length === 0) throw new Error(`a table grant needs at least one action (${envVar})`);
    this.addToRolePolicy(
      new PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [table.tableArn],
      }),
    );
    if (hasIndexes && actions.includes('Query')) {
      this.addToRolePolicy(
        new PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/*`] }),
      );
    }
  }

  /**
   * Gives the function a queue: its URL in `envVar`, and either exactly the declared actions on it or
   * an event source that consumes it with partial batch failures, so one bad message is retried alone.
   */
  useQueue(
    queue: IQueue,
    envVar: string,
    access: { kind: 'use'; actions: readonly string[] } | ({ kind: 'consume' } & QueueConsumption),
  ): void {
    this.addEnvironment(envVar, queue.queueUrl);
    if (access.kind === 'use') {
      // Not grantSendMessages: it adds GetQueueAttributes and GetQueueUrl, which senders never call.
      if (access.actions.length === 0) throw new Error(`a queue grant needs at least one action (${envVar})`);
      this.addToRolePolicy(
        new PolicyStatement({
          actions: access.actions.map((action) => `sqs:${action}`),
          resources: [queue.queueArn],
        }),
      );
      return;
    }
    this.addTrigger(
      new SqsEventSource(queue, {
        batchSize: access.batchSize,
        maxBatchingWindow: access.maxBatchingWindow,
        reportBatchItemFailures: true,
      }),
    );
  }

  /**
   * Triggers the function from a table's stream, with partial batch failures: Lambda retries from
   * the first record the function reports. Records that fail every retry (or expire first) are
   * described on `onFailure`, so none is dropped silently.
   */
  consumeStream(table: ITableV2, consumption: StreamConsumption): void {
    const { filter } = consumption;
    this.addTrigger(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition[consumption.startingPosition],
        batchSize: consumption.batchSize,
        maxBatchingWindow: consumption.maxBatchingWindow,
        bisectBatchOnError: consumption.bisectOnError,
        // Left out when undefined: the mapping then retries until the records expire.
        retryAttempts: consumption.retryAttempts,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(consumption.onFailure),
        filters: filter && [
          FilterCriteria.filter({
            eventName: anyOf(filter.eventNames),
            dynamodb: { NewImage: { entity: { S: anyOf(filter.entities) } } },
          }),
        ],
      }),
    );
  }
}

/** A filter rule that matches any of the values. Lambda refuses an empty list, so synth does first. */
function anyOf(values: readonly string[]): string[] {
  if (values.length === 0) throw new Error('a stream filter needs at least one value per field');
  return FilterRule.or(...values);
}
