// The Operations page: for each region the installation ingests in, the graphs an operator watches
// (traffic, queues, errors and throttles, streams, Faultline's own metrics), read from CloudWatch by
// `GET /api/1/operations/metrics` when the page is opened: nothing runs, or costs, while nobody looks.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type OperationsMetrics } from '../api';
import { MetricGraph } from '../components/metric-graph';
import { useApp } from '../context';

const WINDOWS = [
  { hours: 3, label: 'Last 3 hours' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 168, label: 'Last 7 days' },
] as const;

/** CloudWatch's list price for GetMetricData, per metric requested (docs/dashboard.md). */
const USD_PER_METRIC_REQUESTED = 0.01 / 1000;

export function OperationsPage() {
  const { api } = useApp();
  const [hours, setHours] = useState<number>(3);
  const [metrics, setMetrics] = useState<OperationsMetrics>();
  const [problem, setProblem] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    // A window clicked while another is loading: only the last one asked for is shown.
    let current = true;
    setLoading(true);
    setProblem(undefined);
    api
      .get<OperationsMetrics>('/api/1/operations/metrics', { hours })
      .then(
        (result) => current && setMetrics(result),
        (error: unknown) =>
          current && setProblem(error instanceof ApiError ? error.message : 'The API could not be reached.'),
      )
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
  }, [api, hours, reloads]);

  return (
    <main class="operations">
      <div class="section-head">
        <h1>Operations</h1>
        <fieldset class="tabs">
          <legend class="visually-hidden">Window</legend>
          {WINDOWS.map((window) => (
            <button
              key={window.hours}
              type="button"
              aria-pressed={hours === window.hours}
              onClick={() => setHours(window.hours)}
            >
              {window.label}
            </button>
          ))}
          <button type="button" onClick={() => setReloads((count) => count + 1)} disabled={loading}>
            Refresh
          </button>
        </fieldset>
      </div>
      <p class="muted">
        Every project's traffic, in every region, as CloudWatch holds it. Read when this page asks (no
        polling): each look costs CloudWatch's price for the metrics it requests.
      </p>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
      {!metrics ? (
        !problem && <p class="muted">Loading…</p>
      ) : (
        <>
          {metrics.regions.map((region) => (
            <section key={region.region} class="region" data-region={region.region}>
              <h2>
                {region.region} <span class="badge">{region.role}</span>
              </h2>
              {region.error && (
                <p class="error" role="alert">
                  {region.error}
                </p>
              )}
              <div class="graphs">
                {region.graphs.map((graph) => (
                  <MetricGraph
                    key={`${region.region}-${graph.id}-${metrics.hours}`}
                    graph={graph}
                    start={metrics.start}
                    end={metrics.end}
                    period={metrics.period_seconds}
                  />
                ))}
              </div>
            </section>
          ))}
          <p class="muted" data-metrics-requested={metrics.metrics_requested}>
            This look asked CloudWatch for {metrics.metrics_requested} metrics in{' '}
            {metrics.period_seconds / 60}-minute periods (about $
            {(metrics.metrics_requested * USD_PER_METRIC_REQUESTED).toFixed(4)}) and listed metrics{' '}
            {metrics.list_metrics_requests} times.
          </p>
        </>
      )}
    </main>
  );
}
