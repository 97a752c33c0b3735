// Keeping an occurrence's payload under a size, the way Rollbar's SDKs and API do: frames first,
// then long strings, then everything but the body. What is kept is marked, never silently cut.

/** Payloads larger than this, as JSON, are truncated before they are stored. */
export const MAX_STORED_PAYLOAD_BYTES = 128 * 1024;

const KEPT_FRAMES_AT_EACH_END = 20;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const byteLength = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

function mapStrings(value: Json, maxLength: number): Json {
  if (typeof value === 'string') {
    return value.length > maxLength ? `${value.slice(0, maxLength - 3)}...` : value;
  }
  if (Array.isArray(value)) return value.map((entry) => mapStrings(entry, maxLength));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, entry]) => [key, mapStrings(entry, maxLength)]),
    );
  }
  return value;
}

function trimFrames(trace: Json): Json {
  if (trace === null || typeof trace !== 'object' || Array.isArray(trace)) return trace;
  const frames = trace.frames;
  if (!Array.isArray(frames) || frames.length <= 2 * KEPT_FRAMES_AT_EACH_END) return trace;
  return {
    ...trace,
    frames: [...frames.slice(0, KEPT_FRAMES_AT_EACH_END), ...frames.slice(-KEPT_FRAMES_AT_EACH_END)],
  };
}

function withTrimmedFrames(data: { [key: string]: Json }): { [key: string]: Json } {
  const body = data.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return data;
  const trimmed: { [key: string]: Json } = { ...body };
  if (body.trace) trimmed.trace = trimFrames(body.trace);
  if (Array.isArray(body.trace_chain)) trimmed.trace_chain = body.trace_chain.map(trimFrames);
  return { ...data, body: trimmed };
}

const ESSENTIAL_FIELDS = [
  'environment',
  'body',
  'level',
  'timestamp',
  'code_version',
  'platform',
  'language',
  'framework',
  'uuid',
  'fingerprint',
  'title',
  'person',
  'server',
  'notifier',
];

/** The payload itself when it fits; otherwise the first smaller form that does, marked `_truncated`. */
export function truncatePayload<T extends object>(
  data: T,
  maxBytes = MAX_STORED_PAYLOAD_BYTES,
): {
  data: Record<string, unknown>;
  truncated: boolean;
} {
  const original = data as unknown as { [key: string]: Json };
  if (byteLength(original) <= maxBytes) return { data: original, truncated: false };
  const frames = withTrimmedFrames(original);
  const strategies: Array<() => { [key: string]: Json }> = [
    () => frames,
    () => mapStrings(frames, 1024) as { [key: string]: Json },
    () => mapStrings(frames, 256) as { [key: string]: Json },
    () =>
      mapStrings(
        Object.fromEntries(Object.entries(frames).filter(([key]) => ESSENTIAL_FIELDS.includes(key))),
        256,
      ) as { [key: string]: Json },
  ];
  let candidate = original;
  for (const strategy of strategies) {
    candidate = strategy();
    if (byteLength(candidate) <= maxBytes) break;
  }
  return { data: { ...candidate, _truncated: true }, truncated: true };
}
