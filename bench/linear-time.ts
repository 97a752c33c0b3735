// How the time to normalize hostile client text grows with its length: ≈2 per doubling is linear.
import { lastPropertyName, matchBrowserMessage } from '#shared/domain/browser-messages';
import { crashReportSignature } from '#shared/domain/fingerprint';
import { normalizeFilename, normalizeMethod } from '#shared/domain/frame-normalization';
import { normalizeMessage } from '#shared/domain/message-normalization';
import type { ItemData } from '#shared/domain/payload';
import { titleOf } from '#shared/domain/title';
import { HOSTILE_UNITS, hostileText, safariNotAFunction } from '../test/support/hostile-text';

/** One normalizer, the lengths it is timed at (the largest is its input cap), and what it is fed. */
interface Subject {
  name: string;
  lengths: readonly [number, number, number];
  run: (text: string) => unknown;
  inputs?: (length: number) => Record<string, string>;
}

let calls = 0;
const unique = (text: string) => `${calls++}${text}`;

const SUBJECTS: Subject[] = [
  { name: 'message', lengths: [2048, 4096, 8192], run: normalizeMessage },
  {
    name: 'title',
    lengths: [4096, 8192, 16_384],
    run: (text) => titleOf({ environment: 'x', body: { message: { body: text } } } as ItemData),
  },
  // The caches would answer a repeated name without normalizing it: each call gets a new one.
  { name: 'filename', lengths: [512, 1024, 2048], run: (text) => normalizeFilename(unique(text)) },
  { name: 'method', lengths: [512, 1024, 2048], run: (text) => normalizeMethod(`${unique(text)}<`) },
  {
    name: 'browser_message',
    lengths: [512, 1024, 2048],
    run: matchBrowserMessage,
    inputs: (length) => ({ safari_not_a_function: `a.b${safariNotAFunction(length - 4)})` }),
  },
  {
    name: 'last_property_name',
    lengths: [8192, 16_384, 32_768],
    run: (text) => lastPropertyName(`${text}.`),
  },
  {
    name: 'crash_report',
    lengths: [65_536, 131_072, 262_144],
    run: (text) => crashReportSignature(`Exception Type:  EXC_CRASH\nThread 0 Crashed:\n${text}`),
  },
];

const ROUND_MS = 1;
const ROUNDS = 9;

/**
 * Milliseconds per call: the fastest of many short rounds, so a garbage collection that lands in one
 * round does not pass for growth.
 */
function perCall(run: (text: string) => unknown, text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    let count = 0;
    const started = performance.now();
    let elapsed = 0;
    do {
      run(text);
      count++;
      elapsed = performance.now() - started;
    } while (elapsed < ROUND_MS);
    best = Math.min(best, elapsed / count);
  }
  return best;
}

export interface GrowthResult {
  name: string;
  lengths: readonly number[];
  /** The input whose time grew most, and its milliseconds per call at each length. */
  worstInput: string;
  milliseconds: number[];
  /** How much the time grows when the length doubles, over the two doublings: 2 is linear, 4 quadratic. */
  growth: number;
  /** Milliseconds per call on 500 KB of the worst input: what the cap leaves of a whole post. */
  wholePostMs: number;
}

const WHOLE_POST = 500_000;

export function measureLinearTime(): GrowthResult[] {
  return SUBJECTS.map((subject) => {
    const largest = subject.lengths[2];
    const inputsAt = (length: number) => ({
      ...Object.fromEntries(
        Object.entries(HOSTILE_UNITS).map(([name, unit]) => [name, hostileText(unit, length)]),
      ),
      ...subject.inputs?.(length),
    });
    let worst: GrowthResult | undefined;
    for (const input of Object.keys(inputsAt(1))) {
      const milliseconds = subject.lengths.map((length) => perCall(subject.run, inputsAt(length)[input]!));
      // Below a microsecond the ratio is timer noise, not growth.
      const growth = milliseconds[2]! < 0.001 ? 1 : Math.sqrt(milliseconds[2]! / milliseconds[0]!);
      if (!worst || growth > worst.growth) {
        worst = {
          name: subject.name,
          lengths: subject.lengths,
          worstInput: input,
          milliseconds,
          growth,
          wholePostMs: 0,
        };
      }
    }
    const result = worst!;
    const unit = HOSTILE_UNITS[result.worstInput];
    const whole =
      unit === undefined ? subject.inputs!(largest)[result.worstInput]! : hostileText(unit, WHOLE_POST);
    result.wholePostMs = perCall(subject.run, whole);
    return result;
  });
}
