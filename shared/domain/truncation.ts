// Keeping an occurrence's payload under a size, the way Rollbar's SDKs and API do: frames first,
// then long strings and keys, then everything but the essential fields, then all but what names the
// error. The last form always fits, so whatever ingest accepted can be stored. What is kept is
// marked `_truncated`, never silently cut. Every walk is iterative: no payload overflows the stack.
import { type Json, rewriteJson } from './storable-json';

/** Payloads larger than this, as JSON, are truncated before they are stored. */
export const MAX_STORED_PAYLOAD_BYTES = 128 * 1024;

const KEPT_FRAMES_AT_EACH_END = 20;
/** The skeleton keeps this many traces of a chain and frames at each end of each. */
const SKELETON_TRACES = 3;
const SKELETON_FRAMES_AT_EACH_END = 10;

type Fields = { [key: string]: Json };

const isFields = (value: Json | undefined): value is Fields =>
  value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);

const byteLength = (value: Json) => Buffer.byteLength(JSON.stringify(value), 'utf8');

function cut(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  let end = maxLength - 3;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}...`;
}

function withShortStrings(value: Json, maxLength: number, maxKeyLength: number): Json {
  return rewriteJson(value, {
    text: (text) => cut(text, maxLength),
    key: (key) => cut(key, maxKeyLength),
  });
}

function trimFrames(trace: Json, atEachEnd: number): Json {
  if (!isFields(trace)) return trace;
  const frames = trace.frames;
  if (!Array.isArray(frames) || frames.length <= 2 * atEachEnd) return trace;
  return { ...trace, frames: [...frames.slice(0, atEachEnd), ...frames.slice(-atEachEnd)] };
}

function withTrimmedFrames(data: Fields): Fields {
  const body = data.body;
  if (!isFields(body)) return data;
  const trimmed: Fields = { ...body };
  if (body.trace) trimmed.trace = trimFrames(body.trace, KEPT_FRAMES_AT_EACH_END);
  if (Array.isArray(body.trace_chain)) {
    trimmed.trace_chain = body.trace_chain.map((trace) => trimFrames(trace, KEPT_FRAMES_AT_EACH_END));
  }
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
  '_faultline',
];

/** Only the named fields of an object, when it is one. */
function pick(value: Json | undefined, names: readonly string[]): Fields | undefined {
  if (!isFields(value)) return undefined;
  const picked: Fields = {};
  for (const name of names) if (value[name] !== undefined) picked[name] = value[name];
  return picked;
}

function skeletonTrace(trace: Json): Fields {
  const trimmed = trimFrames(trace, SKELETON_FRAMES_AT_EACH_END);
  const frames = isFields(trimmed) && Array.isArray(trimmed.frames) ? trimmed.frames : [];
  return {
    frames: frames.map((frame) => pick(frame, ['filename', 'lineno', 'colno', 'method']) ?? {}),
    exception: pick(isFields(trace) ? trace.exception : undefined, ['class', 'message']) ?? {},
  };
}

/** What names the error, and nothing else: known fields only, few frames. */
function skeleton(data: Fields): Fields {
  const body = isFields(data.body) ? data.body : {};
  const kept: Fields = {};
  if (Array.isArray(body.trace_chain))
    kept.trace_chain = body.trace_chain.slice(0, SKELETON_TRACES).map(skeletonTrace);
  if (body.trace !== undefined) kept.trace = skeletonTrace(body.trace);
  for (const [kind, field] of [
    ['message', 'body'],
    ['crash_report', 'raw'],
  ] as const) {
    const part = pick(body[kind], [field]);
    if (part) kept[kind] = part;
  }
  const result: Fields = {
    ...pick(
      data,
      ESSENTIAL_FIELDS.filter((name) => !['body', 'person', 'server', 'notifier'].includes(name)),
    ),
    body: kept,
  };
  const person = pick(data.person, ['id', 'username', 'email']);
  if (person) result.person = person;
  return result;
}

/** The payload itself when it fits; otherwise the first smaller form that does, marked `_truncated`. */
export function truncatePayload<T extends object>(
  data: T,
  maxBytes = MAX_STORED_PAYLOAD_BYTES,
): {
  data: Record<string, unknown>;
  truncated: boolean;
} {
  let nestingCut = false;
  const bounded = rewriteJson(data, {
    onCut: () => {
      nestingCut = true;
    },
  });
  const original: Fields = isFields(bounded) ? bounded : {};
  if (!nestingCut && byteLength(original) <= maxBytes) return { data: original, truncated: false };
  const frames = withTrimmedFrames(original);
  const essentials = pick(frames, ESSENTIAL_FIELDS) ?? {};
  const strategies: Array<() => Json> = [
    () => frames,
    () => withShortStrings(frames, 1024, 256),
    () => withShortStrings(frames, 256, 64),
    () => withShortStrings(essentials, 256, 64),
    () => withShortStrings(skeleton(original), 256, 64),
    () => withShortStrings(skeleton(original), 64, 64),
  ];
  let candidate: Fields = original;
  let fits = false;
  for (const strategy of strategies) {
    if (fits) break;
    candidate = strategy() as Fields;
    fits = byteLength({ ...candidate, _truncated: true }) <= maxBytes;
  }
  if (!fits) {
    // Only a limit far below any real one gets here: keep what groups the occurrence, nothing more.
    candidate = withShortStrings(
      pick(original, ['environment', 'uuid', 'fingerprint', 'title']) ?? {},
      64,
      64,
    ) as Fields;
  }
  return { data: { ...candidate, _truncated: true }, truncated: true };
}
