// AWS list prices the cost model uses: one table, with where each comes from. us-east-1, on-demand,
// the first (most expensive) tier of each, no free tier. Taken from the services' public pricing
// pages as they stood when written (PRICES_AS_OF); nothing here is fetched, so check them again
// before relying on a figure.

export const PRICES_AS_OF = '2026-11-30';
export const PRICES_REGION = 'us-east-1';

export interface Price {
  /** Dollars per `unit`. */
  readonly usd: number;
  readonly unit: string;
  /** Where it comes from, and what it leaves out. */
  readonly source: string;
}

export const PRICES = {
  apiGatewayHttpRequest: {
    usd: 1.0 / 1e6,
    unit: 'request (each 512 KB of a request counts as one)',
    source: 'API Gateway pricing, HTTP APIs: $1.00 per million for the first 300 million a month',
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    unit: 'invocation',
    source: 'Lambda pricing: $0.20 per million requests',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second (arm64, billed per started millisecond)',
    source: 'Lambda pricing, Arm: $0.0000133334 per GB-s for the first 7.5 billion GB-s a month',
  },
  sqsRequest: {
    usd: 0.4 / 1e6,
    unit: 'request (each 64 KB chunk of a payload counts as one)',
    source:
      'SQS pricing, standard queues: $0.40 per million requests after the first million (free tier left out)',
  },
  dynamoWriteUnit: {
    usd: 0.625 / 1e6,
    unit: 'write request unit',
    source: 'DynamoDB on-demand pricing (since November 2024): $0.625 per million write request units',
  },
  dynamoReadUnit: {
    usd: 0.125 / 1e6,
    unit: 'read request unit',
    source: 'DynamoDB on-demand pricing (since November 2024): $0.125 per million read request units',
  },
  logsIngestedGb: {
    usd: 0.5,
    unit: 'GB ingested (each event counts its bytes plus 26 bytes)',
    source: 'CloudWatch pricing, Logs, standard class: $0.50 per GB collected',
  },
  customMetricMonth: {
    usd: 0.3,
    unit: 'metric a month (each name and set of dimension values)',
    source:
      'CloudWatch pricing, metrics: $0.30 per metric a month for the first 10,000 (prorated by the hour)',
  },
  alarmMonth: {
    usd: 0.1,
    unit: 'standard-resolution alarm a month',
    source: 'CloudWatch pricing, alarms: $0.10 per alarm metric a month (the first 10 are free per account)',
  },
  dashboardMonth: {
    usd: 3.0,
    unit: 'dashboard a month',
    source: 'CloudWatch pricing, dashboards: $3.00 a month (the first 3 are free per account)',
  },
  getMetricDataMetric: {
    usd: 0.01 / 1000,
    unit: 'metric requested by GetMetricData (no free tier)',
    source:
      'CloudWatch pricing, API requests: GetMetricData $0.01 per 1,000 metrics requested (the Operations page)',
  },
  cloudWatchApiRequest: {
    usd: 0.01 / 1000,
    unit: 'ListMetrics request',
    source:
      'CloudWatch pricing, API requests: ListMetrics and the like $0.01 per 1,000 requests (the first million a month free per account)',
  },
  xrayTrace: {
    usd: 5.0 / 1e6,
    unit: 'trace recorded',
    source: 'X-Ray pricing: $5.00 per million traces recorded (the first 100,000 a month free)',
  },
  secretMonth: {
    usd: 0.4,
    unit: 'secret a month',
    source: 'Secrets Manager pricing: $0.40 per secret a month',
  },
  healthCheckMonth: {
    usd: 0.5,
    unit: 'Route 53 health check of an AWS endpoint a month',
    source: 'Route 53 pricing, health checks: $0.50 a month (several regions only; none in one region)',
  },
} as const satisfies Record<string, Price>;

/**
 * The always-free allowances that touch an idle region, per account and month, shared by every region
 * and stack of the account (the idle figure "within the free tier" assumes Faultline is their only use).
 */
export const FREE_TIER = {
  /** CloudWatch: 10 standard-resolution alarm metrics. */
  alarms: 10,
  /** CloudWatch: 3 dashboards, of up to 50 metrics each. */
  dashboards: 3,
  dashboardMetrics: 50,
  /** SQS: the first million requests. */
  sqsRequests: 1_000_000,
} as const;
