// How times and numbers read on screen: "3 minutes ago", dates in the browser's locale.

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/** `3 minutes ago` for an epoch time in seconds, against `now` in milliseconds. */
export function timeAgo(seconds: number, now: number = Date.now()): string {
  const elapsed = Math.round(now / 1000 - seconds);
  if (Math.abs(elapsed) < 45) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(elapsed) >= size) return relative.format(-Math.round(elapsed / size), unit);
  }
  return 'just now';
}

export function dateTime(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString();
}

export function count(value: number): string {
  return value.toLocaleString('en');
}
