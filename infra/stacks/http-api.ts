// The front doors every region serves: the HTTP API (the whole API at home and standbys, ingest and
// health at an edge; CORS for browser SDKs, access logs, a stage that throttles), and the function URL
// SDKs post items to (the same CORS; no API Gateway request to pay for).
import { CfnOutput, Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  type FunctionUrl,
  FunctionUrlAuthType,
  type FunctionUrlCorsOptions,
  HttpMethod as FunctionUrlMethod,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type FunctionName, httpApi, type Trigger } from '#shared/wiring/topology';
import type { FaultlineFunction } from '../constructs/faultline-function';
import { pascalCase } from './declarations';

export interface HttpApiLimits {
  /** Steady requests per second the API stage accepts. @default 1000 */
  readonly apiRateLimit?: number;
  /** Burst the API stage accepts above the steady rate. @default 2000 */
  readonly apiBurstLimit?: number;
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

/** The API and its stage, created in the stack's own scope (their logical ids are the stack's). */
export function createHttpApi(stack: Stack, limits: HttpApiLimits): { api: HttpApi; stage: HttpStage } {
  const api = new HttpApi(stack, 'HttpApi', {
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
  const accessLogs = new LogGroup(stack, 'ApiAccessLogs', {
    retention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stage = new HttpStage(stack, 'ApiStage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    accessLogSettings: {
      destination: new LogGroupLogDestination(accessLogs),
      format: httpApiAccessLogFormat,
    },
    // A runaway client gets 429s from the stage instead of exhausting the account-wide limit.
    throttle: { rateLimit: limits.apiRateLimit ?? 1000, burstLimit: limits.apiBurstLimit ?? 2000 },
  });
  return { api, stage };
}

/** The function URL's CORS: the HTTP API's, from the same declaration (`httpApi.cors`). */
export const functionUrlCors: FunctionUrlCorsOptions = {
  allowedOrigins: [...httpApi.cors.allowOrigins],
  allowedMethods: httpApi.cors.allowMethods.map((method) => FunctionUrlMethod[method]),
  allowedHeaders: [...httpApi.cors.allowHeaders],
  exposedHeaders: [...httpApi.cors.exposeHeaders],
  maxAge: Duration.seconds(httpApi.cors.maxAgeSeconds),
};

/** The output naming a function's URL: `IngestUrl` for the item ingest SDKs post to. */
export function functionUrlOutputId(name: FunctionName): string {
  return name === 'ingestItem' ? 'IngestUrl' : `${pascalCase(name)}Url`;
}

/**
 * An HTTP function's front doors: its declared routes on the API, through its `live` alias, and, when
 * the wiring says so, a function URL on that alias. AuthType NONE: the Rollbar access token in the
 * request is the authentication, as on the API route. The URL's events carry the `$default` route key,
 * and the router matches their method and path to the declared routes (shared/http/router.ts). A
 * CodeDeploy canary shifts the alias's weights, so it shifts the URL's traffic too.
 */
export function serveHttpTrigger(
  stack: Stack,
  api: HttpApi,
  name: FunctionName,
  fn: FaultlineFunction,
  trigger: Extract<Trigger, { kind: 'http' }>,
): FunctionUrl | undefined {
  const id = `${pascalCase(name)}Function`;
  const integration = new HttpLambdaIntegration(`${id}Integration`, fn.live);
  for (const routeKey of trigger.routes) {
    const [method, path] = routeKey.split(' ') as [keyof typeof HttpMethod, string];
    api.addRoutes({ path, methods: [HttpMethod[method]], integration });
  }
  if (!trigger.functionUrl) return undefined;
  const url = fn.live.addFunctionUrl({ authType: FunctionUrlAuthType.NONE, cors: functionUrlCors });
  new CfnOutput(stack, functionUrlOutputId(name), {
    value: url.url,
    description:
      name === 'ingestItem'
        ? 'Rollbar endpoint for SDKs: <url>api/1/ (items only; deploys, reads and the dashboard use ApiUrl)'
        : `${name}'s function URL`,
  });
  return url;
}
