// Reading a Rollbar item as leniently as Rollbar does: too long is cut or hashed, numbers become
// text where text is expected, a field that cannot be used is dropped, an implausible timestamp
// gives way to the time received; each change is recorded in the payload. Only an item with no
// `data`, no environment or no body of a known kind is refused: nothing would be left to count.
// Just over 400 lines on purpose: one reader of one payload, field by field, whose change log is
// threaded through every step; split, each part would need the others' paths and notes.
import { createHash } from 'node:crypto';
import { ValidationError } from '#shared/errors';
import { LEVELS, type Level, UUID_PATTERN } from './payload';
import { type Json, storableJson } from './storable-json';

/** Rollbar's own limit: a longer client fingerprint is replaced by its SHA-1 (40 hex characters). */
export const FINGERPRINT_MAX_LENGTH = 40;
/** Titles, environments, platforms, people's names: Rollbar's 255 characters. */
export const TEXT_MAX_LENGTH = 255;
/** Rollbar documents 40 characters; longer versions (`1.2.3+build.…`) are kept whole up to this. */
export const CODE_VERSION_MAX_LENGTH = 255;
/** A person id goes into DynamoDB keys: a longer one is replaced by its SHA-1, still one per person. */
export const PERSON_ID_MAX_LENGTH = 255;
const EXCEPTION_CLASS_MAX_LENGTH = 1024;
const FRAME_TEXT_MAX_LENGTH = 2048;
const TRACE_CHAIN_MAX_LENGTH = 100;
/** Frames kept at each end of a longer trace: grouping reads every frame, so their number is bounded. */
const FRAMES_KEPT_AT_EACH_END = 5_000;

/** A client timestamp this far ahead of the time received is a wrong clock (or milliseconds). */
export const TIMESTAMP_FUTURE_WINDOW_SECONDS = 5 * 60;
/** A client timestamp older than the occurrence retention is implausible for a report sent now. */
export const TIMESTAMP_PAST_WINDOW_SECONDS = 90 * 86_400;

/** Changes recorded per occurrence; past this, only how many more there were. */
const MAX_RECORDED_CHANGES = 20;

export interface PayloadChange {
  /** Where, as a path into the posted payload: `data.fingerprint`, `data.body.trace.frames.3.lineno`. */
  field: string;
  action: 'truncated' | 'hashed' | 'converted' | 'dropped' | 'replaced';
  reason: string;
}

/** What ingest records in the stored payload about the changes it made, under `data._faultline`. */
export interface PayloadNotes {
  changes: PayloadChange[];
  /** Changes made beyond the recorded ones. */
  more_changes?: number;
}

type Fields = { [key: string]: Json };

const isFields = (value: Json | undefined): value is Fields =>
  value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);

function kindOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** The first `max` characters, without splitting a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/**
 * The time an occurrence happened, in seconds: the client's when plausible (not more than
 * TIMESTAMP_FUTURE_WINDOW_SECONDS after it was received, nor more than TIMESTAMP_PAST_WINDOW_SECONDS
 * before), else the time received, as Rollbar does with an implausible client clock.
 */
export function occurrenceTimestamp(
  clientSeconds: number | undefined,
  receivedAtMs: number,
): { seconds: number; replaced: boolean } {
  const received = Math.floor(receivedAtMs / 1000);
  if (clientSeconds === undefined) return { seconds: received, replaced: false };
  const seconds = Math.floor(clientSeconds);
  const plausible =
    Number.isSafeInteger(seconds) &&
    seconds <= received + TIMESTAMP_FUTURE_WINDOW_SECONDS &&
    seconds >= received - TIMESTAMP_PAST_WINDOW_SECONDS;
  return plausible ? { seconds, replaced: false } : { seconds: received, replaced: true };
}

class ChangeLog {
  readonly changes: PayloadChange[] = [];
  more = 0;

  add(field: string, action: PayloadChange['action'], reason: string): void {
    if (this.changes.length < MAX_RECORDED_CHANGES) this.changes.push({ field, action, reason });
    else this.more++;
  }

  notes(): PayloadNotes | undefined {
    if (this.changes.length === 0) return undefined;
    return this.more > 0 ? { changes: this.changes, more_changes: this.more } : { changes: this.changes };
  }
}

interface TextRule {
  max?: number;
  /** What happens past `max`: cut (the default) or replaced by the SHA-1. */
  tooLong?: 'cut' | 'hash';
}

/** Reads fields of one object of the payload, recording what it changes. */
class FieldReader {
  constructor(
    private readonly log: ChangeLog,
    private readonly fields: Fields,
    private readonly path: string,
  ) {}

  private where(name: string): string {
    return `${this.path}.${name}`;
  }

  private drop(name: string, reason: string): undefined {
    const value = this.fields[name];
    delete this.fields[name];
    // A null is how several SDKs say "absent": nothing to record.
    if (value !== null) this.log.add(this.where(name), 'dropped', reason);
    return undefined;
  }

  /** A text field: numbers become text, too long is cut or hashed, anything else is dropped. */
  text(name: string, rule: TextRule = {}): string | undefined {
    const value = this.fields[name];
    if (value === undefined) return undefined;
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number') {
      text = String(value);
      this.log.add(this.where(name), 'converted', 'a number where text is expected');
    } else return this.drop(name, `${kindOf(value)} where text is expected`);
    const max = rule.max ?? Number.POSITIVE_INFINITY;
    if (text.length > max) {
      if (rule.tooLong === 'hash') {
        text = sha1Hex(text);
        this.log.add(this.where(name), 'hashed', `longer than ${max} characters: its SHA-1 is used`);
      } else {
        text = cutText(text, max);
        this.log.add(this.where(name), 'truncated', `longer than ${max} characters`);
      }
    }
    this.fields[name] = text;
    return text;
  }

  /** A non-negative number (a numeric string is read as one); `integer` also asks for a safe integer. */
  number(name: string, options: { integer?: boolean } = {}): number | undefined {
    const value = this.fields[name];
    if (value === undefined) return undefined;
    let number: number | undefined;
    if (typeof value === 'number') number = value;
    else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) {
      number = Number(value);
      this.log.add(this.where(name), 'converted', 'a numeric string where a number is expected');
    }
    if (number === undefined || number < 0) {
      return this.drop(name, `${kindOf(value)} where a non-negative number is expected`);
    }
    if (options.integer && !Number.isSafeInteger(number)) {
      return this.drop(name, 'not an integer JavaScript can hold exactly');
    }
    this.fields[name] = number;
    return number;
  }

  /** An object field; anything else is dropped. */
  object(name: string): Fields | undefined {
    const value = this.fields[name];
    if (value === undefined) return undefined;
    if (isFields(value)) return value;
    return this.drop(name, `${kindOf(value)} where an object is expected`);
  }

  reader(name: string, fields: Fields): FieldReader {
    return new FieldReader(this.log, fields, this.where(name));
  }
}

function meaningless(message: string): ValidationError {
  return new ValidationError(`Invalid format. ${message}`);
}

function readFrame(log: ChangeLog, frame: Fields, path: string): void {
  const fields = new FieldReader(log, frame, path);
  if (fields.text('filename', { max: FRAME_TEXT_MAX_LENGTH }) === undefined) frame.filename = '';
  fields.number('lineno', { integer: true });
  fields.number('colno', { integer: true });
  fields.text('method', { max: FRAME_TEXT_MAX_LENGTH });
  fields.text('code');
  fields.text('class_name');
}

/** A trace made usable, or undefined when it is not an object at all. */
function readTrace(log: ChangeLog, value: Json | undefined, path: string): Fields | undefined {
  if (!isFields(value)) return undefined;
  const trace = new FieldReader(log, value, path);
  let frames = value.frames;
  if (!Array.isArray(frames)) {
    if (frames !== undefined && frames !== null) {
      log.add(`${path}.frames`, 'replaced', `${kindOf(frames)} where a list of frames is expected`);
    }
    frames = [];
  }
  const kept = frames.filter(isFields);
  if (kept.length < frames.length) {
    log.add(`${path}.frames`, 'dropped', `${frames.length - kept.length} frames that are not objects`);
  }
  const bounded =
    kept.length > 2 * FRAMES_KEPT_AT_EACH_END
      ? [...kept.slice(0, FRAMES_KEPT_AT_EACH_END), ...kept.slice(-FRAMES_KEPT_AT_EACH_END)]
      : kept;
  if (bounded.length < kept.length) {
    log.add(
      `${path}.frames`,
      'truncated',
      `more than ${2 * FRAMES_KEPT_AT_EACH_END} frames: the middle is cut`,
    );
  }
  bounded.forEach((frame, index) => {
    readFrame(log, frame, `${path}.frames.${index}`);
  });
  value.frames = bounded;

  const given = value.exception;
  let exception: Fields;
  if (isFields(given)) exception = given;
  else {
    exception = {};
    if (typeof given === 'string' || typeof given === 'number') exception.class = String(given);
    log.add(`${path}.exception`, 'replaced', `${kindOf(given ?? null)} where an exception is expected`);
  }
  value.exception = exception;
  const fields = trace.reader('exception', exception);
  if (fields.text('class', { max: EXCEPTION_CLASS_MAX_LENGTH }) === undefined) exception.class = '';
  fields.text('message');
  fields.text('description');
  return value;
}

function readBody(log: ChangeLog, body: Fields): void {
  const path = 'data.body';
  if (body.trace !== undefined) {
    if (readTrace(log, body.trace, `${path}.trace`) === undefined) {
      if (body.trace !== null) log.add(`${path}.trace`, 'dropped', `${kindOf(body.trace)}, not a trace`);
      delete body.trace;
    }
  }
  if (body.trace_chain !== undefined) {
    const chain = body.trace_chain;
    const traces = Array.isArray(chain)
      ? chain
          .map((trace, index) => readTrace(log, trace, `${path}.trace_chain.${index}`))
          .filter((trace) => trace !== undefined)
      : [];
    if (Array.isArray(chain) && traces.length < chain.length) {
      log.add(
        `${path}.trace_chain`,
        'dropped',
        `${chain.length - traces.length} entries that are not traces`,
      );
    }
    if (traces.length === 0) {
      if (chain !== null) log.add(`${path}.trace_chain`, 'dropped', 'no trace in it');
      delete body.trace_chain;
    } else {
      if (traces.length > TRACE_CHAIN_MAX_LENGTH) {
        log.add(`${path}.trace_chain`, 'truncated', `more than ${TRACE_CHAIN_MAX_LENGTH} traces`);
      }
      body.trace_chain = traces.slice(0, TRACE_CHAIN_MAX_LENGTH);
    }
  }
  const reader = new FieldReader(log, body, path);
  if (typeof body.message === 'string' || typeof body.message === 'number') {
    log.add(`${path}.message`, 'converted', 'text where an object with a body is expected');
    body.message = { body: String(body.message) };
  }
  const message = reader.object('message');
  if (message && reader.reader('message', message).text('body') === undefined) {
    log.add(`${path}.message`, 'dropped', 'it has no body text');
    delete body.message;
  }
  const crashReport = reader.object('crash_report');
  if (crashReport && reader.reader('crash_report', crashReport).text('raw') === undefined) {
    log.add(`${path}.crash_report`, 'dropped', 'it has no raw text');
    delete body.crash_report;
  }
  if (
    body.trace === undefined &&
    body.trace_chain === undefined &&
    body.message === undefined &&
    body.crash_report === undefined
  ) {
    throw meaningless('data.body has no trace, trace_chain, message or crash_report');
  }
}

function readLevel(log: ChangeLog, data: Fields): void {
  const value = data.level;
  if (value === undefined) return;
  const spelled = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
  const level = spelled === 'warn' ? 'warning' : spelled;
  if (level !== undefined && (LEVELS as readonly string[]).includes(level)) {
    data.level = level as Level;
    return;
  }
  delete data.level;
  if (value !== null) {
    log.add('data.level', 'dropped', `not one of ${LEVELS.join(', ')}: the default level is used`);
  }
}

export interface NormalizedItem {
  /** The posted payload, made usable; `data` is what the schema parses. */
  payload: Fields & { data: Fields };
  notes: PayloadNotes | undefined;
}

/**
 * The posted item payload made usable: storable (see storable-json.ts), its known fields read
 * leniently, its timestamp checked against `receivedAtMs`. Throws a ValidationError (422) only when
 * the occurrence would be meaningless.
 */
export function normalizeItemPayload(posted: unknown, receivedAtMs: number): NormalizedItem {
  const log = new ChangeLog();
  const storable = storableJson(posted);
  if (storable.replacedCharacters > 0) {
    log.add(
      'data',
      'replaced',
      `${storable.replacedCharacters} characters SQS cannot carry (U+FFFE, U+FFFF, unpaired surrogates, control characters) replaced with U+FFFD`,
    );
  }
  if (storable.nestingCut) {
    log.add('data', 'truncated', 'values nested deeper than 100 levels replaced with a marker');
  }
  const payload = storable.value;
  if (!isFields(payload)) throw new ValidationError('Invalid format. payload must be a JSON object');
  if (typeof payload.access_token !== 'string') delete payload.access_token;
  const data = payload.data;
  if (!isFields(data)) throw meaningless('data is missing');
  // Ours to write: a client's own `_faultline` would pass for our record of changes.
  delete data._faultline;

  const fields = new FieldReader(log, data, 'data');
  const environment = fields.text('environment', { max: TEXT_MAX_LENGTH });
  if (environment === undefined || environment.trim() === '')
    throw meaningless('data.environment is missing');
  const body = data.body;
  if (!isFields(body)) throw meaningless('data.body is missing');
  readBody(log, body);

  readLevel(log, data);
  const timestamp = fields.number('timestamp');
  if (timestamp !== undefined && occurrenceTimestamp(timestamp, receivedAtMs).replaced) {
    log.add(
      'data.timestamp',
      'replaced',
      `${timestamp} is not within ${TIMESTAMP_FUTURE_WINDOW_SECONDS / 60} minutes ahead of or ${TIMESTAMP_PAST_WINDOW_SECONDS / 86_400} days before the time received: the time received is used (the client's value is kept here)`,
    );
  }
  fields.text('code_version', { max: CODE_VERSION_MAX_LENGTH });
  for (const name of ['platform', 'language', 'framework', 'context', 'title']) {
    fields.text(name, { max: TEXT_MAX_LENGTH });
  }
  if (fields.text('fingerprint', { max: FINGERPRINT_MAX_LENGTH, tooLong: 'hash' }) === '') {
    delete data.fingerprint;
  }
  const uuid = data.uuid;
  if (uuid !== undefined && !(typeof uuid === 'string' && UUID_PATTERN.test(uuid))) {
    delete data.uuid;
    if (uuid !== null) log.add('data.uuid', 'dropped', 'not a UUID: one is assigned');
  }

  const person = fields.object('person');
  if (person) {
    const reader = fields.reader('person', person);
    reader.text('id', { max: PERSON_ID_MAX_LENGTH, tooLong: 'hash' });
    if (person.id === '') delete person.id;
    reader.text('username', { max: TEXT_MAX_LENGTH });
    reader.text('email', { max: TEXT_MAX_LENGTH });
  }
  const server = fields.object('server');
  if (server) {
    const reader = fields.reader('server', server);
    for (const name of ['host', 'root', 'branch']) reader.text(name);
  }
  const notifier = fields.object('notifier');
  if (notifier) {
    const reader = fields.reader('notifier', notifier);
    reader.text('name');
    reader.text('version');
  }
  for (const name of ['request', 'client', 'custom']) fields.object(name);

  return { payload: payload as Fields & { data: Fields }, notes: log.notes() };
}
