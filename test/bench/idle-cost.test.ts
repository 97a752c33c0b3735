// The idle bill of bench/cost.ts, read from a synthesized stack: what each declared resource costs a
// month at list price and within the account's free tier.
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Dashboard, GraphWidget, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { type IdleLine, idleCostPerMonth, oneRegionTemplate, operationsViewCost } from '../../bench/cost';
import { FREE_TIER, PRICES } from '../../bench/prices';

const line = (lines: IdleLine[], part: string): IdleLine => {
  const found = lines.find((candidate) => candidate.part === part);
  if (!found) throw new Error(`no idle line ${part}`);
  return found;
};

/** A stack with one dashboard drawing `metrics` metrics, and nothing else. */
function dashboardOf(metrics: number): Template {
  const stack = new Stack(new App(), 'Dashboard');
  new Dashboard(stack, 'Dashboard').addWidgets(
    new GraphWidget({
      left: Array.from(
        { length: metrics },
        (_, index) => new Metric({ namespace: 'Test', metricName: `M${index}`, period: Duration.minutes(1) }),
      ),
    }),
  );
  return Template.fromStack(stack);
}

describe('the idle cost of a region', () => {
  it('bills every metric an alarm reads at list price, and those past the free 10 within the free tier', () => {
    const lines = idleCostPerMonth();
    const alarms = line(lines, 'CloudWatch alarms');
    // 18 alarms (no errors alarm of an HTTP function); the API's 5xx alarm also reads the ingest URL's 5xx.
    expect(alarms.detail).toMatch(/^18 alarms reading 19 metrics/);
    expect(alarms.usdPerMonth).toBeCloseTo(19 * PRICES.alarmMonth.usd);
    expect(alarms.usdPerMonthFreeTier).toBeCloseTo((19 - FREE_TIER.alarms) * PRICES.alarmMonth.usd);
    // The channel credentials key stays a Secrets Manager secret, which has no free tier.
    expect(line(lines, 'Secrets Manager').usdPerMonthFreeTier).toBeCloseTo(PRICES.secretMonth.usd);
  });

  it('is within the $3 goal at list price by default, and the opt-in CloudWatch dashboard adds its $3', () => {
    const total = (lines: IdleLine[]) => lines.reduce((sum, idle) => sum + idle.usdPerMonth, 0);
    const byDefault = idleCostPerMonth();
    expect(line(byDefault, 'CloudWatch dashboard').usdPerMonth).toBe(0);
    expect(total(byDefault)).toBeLessThanOrEqual(3);
    const optedIn = idleCostPerMonth(oneRegionTemplate({ cloudwatchDashboard: true }));
    expect(total(optedIn) - total(byDefault)).toBeCloseTo(PRICES.dashboardMonth.usd);
  });

  it('prices a look at the Operations page by the metrics it requests, under a tenth of a cent', () => {
    const view = operationsViewCost(1);
    expect(view.metricsRequested).toBeGreaterThan(20);
    expect(view.usd).toBeCloseTo(
      view.metricsRequested * PRICES.getMetricDataMetric.usd +
        view.listMetricsRequests * PRICES.cloudWatchApiRequest.usd,
    );
    expect(view.usd).toBeLessThan(0.001);
    expect(operationsViewCost(3).metricsRequested).toBe(3 * view.metricsRequested);
  });

  it('counts the dashboard free only while it draws at most 50 metrics', () => {
    const within = line(idleCostPerMonth(dashboardOf(FREE_TIER.dashboardMetrics)), 'CloudWatch dashboard');
    expect(within.usdPerMonth).toBe(PRICES.dashboardMonth.usd);
    expect(within.usdPerMonthFreeTier).toBe(0);
    const over = line(idleCostPerMonth(dashboardOf(FREE_TIER.dashboardMetrics + 1)), 'CloudWatch dashboard');
    expect(over.usdPerMonthFreeTier).toBe(PRICES.dashboardMonth.usd);
  });
});
