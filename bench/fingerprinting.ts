// How fast an occurrence is fingerprinted, beside a bare SHA-1 of the same frames' text.
import { createHash } from 'node:crypto';
import { groupOccurrence } from '#shared/domain/fingerprint';
import type { ItemData } from '#shared/domain/payload';
import { nodeFrames, seededRandom } from './payloads';

export const TRACE_FRAMES = 30;
const WARM_UP_MS = 300;
const RUN_MS = 300;
const RUNS = 5;
/** Freshly parsed copies per run of the fresh-payload figure: each is fingerprinted once, as in the worker. */
const FRESH_COPIES = 15_000;
const FRESH_RUNS = 3;

export interface FingerprintingResult {
  fingerprintsPerSecond: number;
  sha1PerSecond: number;
  /** The same trace without `server.root`: file names go to the normalization caches unsliced. */
  withoutServerRootPerSecond: number;
  /**
   * Each call on a payload just parsed from JSON, as the worker sees them: its strings are new, so
   * V8 has no hash cached for the normalization caches' lookups. Parsing is not timed.
   */
  freshPayloadsPerSecond: number;
  frames: number;
  runs: number;
  runMs: number;
}

/** A Node error with a 30-frame trace: app code under /srv/app, Express and driver frames, node internals. */
export function thirtyFrameError(): ItemData {
  return {
    environment: 'production',
    platform: 'node',
    language: 'javascript',
    server: { host: 'ip-10-0-3-17.eu-west-1.compute.internal', root: '/srv/app' },
    body: {
      trace: {
        exception: { class: 'TypeError', message: "Cannot read properties of undefined (reading 'id')" },
        frames: nodeFrames(7, TRACE_FRAMES, seededRandom(7)),
      },
    },
  } as ItemData;
}

// Results feed this, so the engine cannot drop the work as unused.
let sink = 0;

/** Calls per second of `work`, timed in rounds of `RUN_MS`. */
function rate(work: () => string, durationMs: number): number {
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs) {
    for (let index = 0; index < 500; index++) sink ^= work().charCodeAt(0);
    calls += 500;
    elapsed = performance.now() - started;
  }
  return (calls * 1000) / elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function measureFingerprinting(): FingerprintingResult {
  const data = thirtyFrameError();
  const trace = data.body.trace!;
  // The baseline hashes what a fingerprint is made of, with none of the normalization: class, then files and methods.
  const text =
    trace.exception.class + trace.frames.map((frame) => `${frame.filename}${frame.method ?? ''}`).join('');
  const fingerprint = () => groupOccurrence(data, { groupingVersion: 1 }).fingerprint;
  const sha1 = () => createHash('sha1').update(text).digest('hex');

  rate(fingerprint, WARM_UP_MS);
  rate(sha1, WARM_UP_MS);
  const fingerprintRates: number[] = [];
  const sha1Rates: number[] = [];
  // Interleaved, so a slower stretch of the machine weighs on both alike.
  for (let run = 0; run < RUNS; run++) {
    fingerprintRates.push(rate(fingerprint, RUN_MS));
    sha1Rates.push(rate(sha1, RUN_MS));
  }
  const withoutRoot = { ...data, server: undefined };
  const fingerprintWithoutRoot = () => groupOccurrence(withoutRoot, { groupingVersion: 1 }).fingerprint;
  rate(fingerprintWithoutRoot, WARM_UP_MS);
  const withoutRootRates = Array.from({ length: RUNS }, () => rate(fingerprintWithoutRoot, RUN_MS));

  const json = JSON.stringify(data);
  const freshRates: number[] = [];
  for (let run = 0; run < FRESH_RUNS; run++) {
    const copies: ItemData[] = Array.from({ length: FRESH_COPIES }, () => JSON.parse(json));
    const started = performance.now();
    for (const copy of copies)
      sink ^= groupOccurrence(copy, { groupingVersion: 1 }).fingerprint.charCodeAt(0);
    freshRates.push((FRESH_COPIES * 1000) / (performance.now() - started));
  }
  if (sink === -1) console.log(sink);
  return {
    fingerprintsPerSecond: median(fingerprintRates),
    sha1PerSecond: median(sha1Rates),
    withoutServerRootPerSecond: median(withoutRootRates),
    freshPayloadsPerSecond: median(freshRates),
    frames: trace.frames.length,
    runs: RUNS,
    runMs: RUN_MS,
  };
}
