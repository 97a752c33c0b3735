// One graph of the Operations page: a few lines of CloudWatch figures on a time axis (uPlot), a left
// and maybe a right axis, and a legend of its own (colours by class, so no inline style meets the CSP).
import { useEffect, useRef } from 'preact/hooks';
import type { OperationsMetrics } from '../api';
import { cssColor, mountPlot } from './plot';

type Graph = OperationsMetrics['regions'][number]['graphs'][number];

/** How many colours the palette has (`--series-0` … in styles.css); lines past it reuse them. */
const PALETTE = 8;

/** Whole numbers print as such; others with up to 2 decimals. */
export function figure(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

export function MetricGraph({
  graph,
  start,
  end,
  period,
}: {
  graph: Graph;
  start: number;
  end: number;
  period: number;
}) {
  const container = useRef<HTMLDivElement>(null);
  const hasData = graph.series.some((series) => series.values.length > 0);
  useEffect(() => {
    const element = container.current;
    if (!element || !hasData) return;
    // One point per period of the window: a period without data is a gap, not a zero.
    const xs: number[] = [];
    for (let time = start; time < end; time += period) xs.push(time);
    const lines = graph.series.map((series) => {
      const byTime = new Map(series.timestamps.map((time, index) => [time, series.values[index]!]));
      return xs.map((time) => byTime.get(time) ?? null);
    });
    const text = cssColor('--text-muted', '#666');
    const grid = cssColor('--border', '#ddd');
    const hasRight = graph.series.some((series) => series.axis === 'right');
    const axis = (scale: string, side: 1 | 3) => ({
      scale,
      side,
      stroke: text,
      grid: { show: side === 3, stroke: grid, width: 1 },
      ticks: { stroke: grid },
      size: 56,
    });
    return mountPlot(
      element,
      {
        height: 180,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: [start, end] },
          left: { range: (_u, _min, max) => [0, Math.max(1, max)] },
          right: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [
          { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
          axis('left', 3),
          ...(hasRight ? [axis('right', 1)] : []),
        ],
        series: [
          {},
          ...graph.series.map((series, index) => ({
            label: series.label,
            scale: series.axis,
            stroke: cssColor(`--series-${index % PALETTE}`, '#1f77b4'),
            width: 2,
            // Sparse figures (a few minutes of traffic) would be invisible as lines alone.
            points: { show: true, size: 5 },
          })),
        ],
      },
      [xs, ...lines],
    );
  }, [graph, start, end, period, hasData]);

  return (
    <figure class="chart metric-graph" data-graph={graph.id}>
      <figcaption>
        {graph.title}
        <span class="muted">
          {' '}
          ({graph.units.left}
          {graph.units.right ? ` · right: ${graph.units.right}` : ''})
        </span>
      </figcaption>
      {hasData ? (
        <div ref={container} class="chart-plot" role="img" aria-label={graph.title} />
      ) : (
        <p class="no-data">No data in this window</p>
      )}
      {graph.series.length > 0 && (
        <ul class="graph-legend">
          {graph.series.map((series, index) => {
            const total = series.values.reduce((sum, value) => sum + value, 0);
            const peak = series.values.reduce((max, value) => Math.max(max, value), 0);
            return (
              <li key={series.label} data-series={series.label} data-total={total}>
                <span class={`swatch series-${index % PALETTE}`} aria-hidden="true" />
                {series.label}
                {series.axis === 'right' ? ' (right)' : ''}:{' '}
                {series.values.length === 0 ? (
                  <span class="muted">no data</span>
                ) : series.stat === 'Sum' ? (
                  <span title="the sum over the window; the highest period in parentheses">
                    {figure(total)} ({figure(peak)} max)
                  </span>
                ) : (
                  <span title={`the highest ${series.stat} of a period in the window`}>
                    {figure(peak)} max ({series.stat})
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </figure>
  );
}
