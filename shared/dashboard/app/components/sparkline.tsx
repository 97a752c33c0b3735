// A small bar chart of an item's last 24 hours, drawn as SVG (no inline style: the CSP allows none).
import type { Counts } from '../api';

export function Sparkline({ counts }: { counts: Counts | undefined }) {
  if (!counts) return <span class="sparkline sparkline-empty" aria-hidden="true" />;
  const values = counts.counts.map((bucket) => bucket.count);
  const max = Math.max(1, ...values);
  const total = values.reduce((sum, value) => sum + value, 0);
  const width = 2.5 * values.length;
  return (
    <svg
      class="sparkline"
      viewBox={`0 0 ${width} 20`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`${total} in the last 24 hours`}
    >
      <title>{`${total} occurrences in the last 24 hours`}</title>
      {values.map((value, index) => {
        const height = value === 0 ? 0.5 : Math.max(2, (value / max) * 20);
        return (
          <rect
            key={counts.counts[index]!.timestamp}
            x={index * 2.5}
            y={20 - height}
            width={2}
            height={height}
          />
        );
      })}
    </svg>
  );
}
