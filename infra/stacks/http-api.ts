// The HTTP API every region serves (the whole API at home and standbys, ingest and health at an edge):
// CORS for browser SDKs, access logs, and a stage that throttles.
import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CorsHttpMethod, HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { httpApi } from '#shared/wiring/topology';

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
