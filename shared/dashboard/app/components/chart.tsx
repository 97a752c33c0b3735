// Occurrences over time as a uPlot bar chart, with the environment's deploys drawn on the same axis.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Counts, Deploy } from '../api';
import { cssColor, mountPlot } from './plot';

export function OccurrenceChart({ counts, deploys }: { counts: Counts; deploys: Deploy[] }) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const xs = counts.counts.map((bucket) => bucket.timestamp);
    const ys = counts.counts.map((bucket) => bucket.count);
    const bucketSeconds = counts.granularity === 'hour' ? 3600 : 86_400;
    const first = xs[0] ?? 0;
    const last = (xs[xs.length - 1] ?? 0) + bucketSeconds;
    const shown = deploys.filter((deploy) => deploy.start_time >= first && deploy.start_time <= last);
    const text = cssColor('--text-muted', '#666');
    const grid = cssColor('--border', '#ddd');
    const accent = cssColor('--accent', '#c0392b');
    const deployColor = cssColor('--deploy', '#2e86de');
    return mountPlot(
      element,
      {
        height: 200,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: [first, last] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [
          { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
          {
            stroke: text,
            grid: { stroke: grid, width: 1 },
            ticks: { stroke: grid },
            size: 50,
            // Occurrences are whole: no 0.25 steps on a small count.
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6, 1e7],
          },
        ],
        series: [
          {},
          {
            label: 'Occurrences',
            stroke: accent,
            fill: accent,
            paths: uPlot.paths.bars?.({ size: [0.8, 40], align: 1 }),
            points: { show: false },
          },
        ],
        hooks: {
          draw: [
            (u) => {
              const { ctx } = u;
              ctx.save();
              ctx.strokeStyle = deployColor;
              ctx.fillStyle = deployColor;
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
              for (const deploy of shown) {
                const x = Math.round(u.valToPos(deploy.start_time, 'x', true));
                ctx.beginPath();
                ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
                ctx.fillText(
                  `deploy ${deploy.revision.slice(0, 7)}`,
                  x + 4 * devicePixelRatio,
                  u.bbox.top + 12 * devicePixelRatio,
                );
              }
              ctx.restore();
            },
          ],
        },
      },
      [xs, ys],
    );
  }, [counts, deploys]);
  const total = counts.counts.reduce((sum, bucket) => sum + bucket.count, 0);
  return (
    <figure class="chart">
      <div
        ref={container}
        class="chart-plot"
        role="img"
        aria-label={`${total} occurrences, by ${counts.granularity}`}
        data-total={total}
      />
    </figure>
  );
}
