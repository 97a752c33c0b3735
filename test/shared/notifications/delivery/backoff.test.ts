// How long a failed delivery waits: the vendor's hint when given, else 5 s × 4^(attempt−1) up to 15 minutes, with jitter.
import { describe, expect, it } from 'vitest';
import { MAX_VISIBILITY_SECONDS, retryDelaySeconds } from '#shared/notifications/delivery/backoff';

const low = () => 0;
const high = () => 0.999_999;

describe('retry delays', () => {
  it.each([
    // [what, options, shortest, longest]
    ['the first retry without a hint waits 4 to 6 s', { attempt: 1 }, 4, 6],
    ['the second 16 to 24 s', { attempt: 2 }, 16, 24],
    ['the third 64 to 96 s', { attempt: 3 }, 64, 96],
    ['the fifth reaches the 15-minute cap', { attempt: 5 }, 720, 900],
    ['the ninth stays at the cap', { attempt: 9 }, 720, 900],
    ['Retry-After 2 is never before 2 s', { attempt: 1, retryAfterMs: 2_000 }, 2, 3],
    ['a hint overrides the backoff, however late the attempt', { attempt: 8, retryAfterMs: 30_000 }, 30, 33],
    [
      "Discord's retry_after 0.25 s waits the shortest SQS allows, 1 s",
      { attempt: 1, retryAfterMs: 250 },
      1,
      1,
    ],
    [
      'a hint of a day is cut to 12 hours',
      { attempt: 1, retryAfterMs: 86_400_000 },
      MAX_VISIBILITY_SECONDS,
      MAX_VISIBILITY_SECONDS,
    ],
    [
      'the 12 hours count from the receive',
      { attempt: 1, retryAfterMs: 86_400_000, elapsedSeconds: 59.5 },
      MAX_VISIBILITY_SECONDS - 60,
      MAX_VISIBILITY_SECONDS - 60,
    ],
  ] as const)('%s', (_what, options, shortest, longest) => {
    const delays = [low, high].map((random) => retryDelaySeconds({ ...options, random }));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(shortest);
    expect(Math.max(...delays)).toBeLessThanOrEqual(longest);
    expect(delays.every(Number.isInteger)).toBe(true);
  });

  it('jitter spreads deliveries refused together', () => {
    expect(retryDelaySeconds({ attempt: 3, random: low })).toBeLessThan(
      retryDelaySeconds({ attempt: 3, random: high }),
    );
  });
});
