// Computes the fingerprint that decides which item an occurrence belongs to (see docs/grouping.md).
import { createHash } from 'node:crypto';
import { matchBrowserMessage } from '#shared/domain/browser-messages';
import { normalizeFilename, normalizeMethod, normalizeServerRoot } from '#shared/domain/frame-normalization';
import { normalizeMessage } from '#shared/domain/message-normalization';
import type { ItemData, Trace } from '#shared/domain/payload';

/** A project setting. v2 adds the browser message database; new projects get v2. */
export type GroupingVersion = 1 | 2;

export interface Grouping {
  /** 40-hex SHA-1, or the client's fingerprint verbatim when sent. */
  fingerprint: string;
  method: 'client' | 'trace' | 'browser-message' | 'message' | 'crash-report';
}

export interface GroupingOptions {
  groupingVersion: GroupingVersion;
}

// Fields are joined with NUL so that no concatenation of two fields can spell another pair of fields.
const SEPARATOR = '\u0000';
// Each method hashes under its own tag, so a message can never collide with a trace or a browser pattern.
const TAG = {
  trace: 'trace',
  browserMessage: 'browser-message',
  message: 'message',
  crashReport: 'crash-report',
};

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/**
 * The default fingerprint: every trace's exception class, then every frame's normalized file and method.
 * Line and column numbers and the message are left out so a group survives edits elsewhere in the file and
 * messages that embed ids. Identical consecutive frames (recursion) count once, because the depth at which
 * a recursive trace was cut is not part of the bug.
 */
function traceFingerprint(traces: readonly Trace[], serverRoot: string | undefined): string {
  // One string, one `update`: crossing into the native hash per field costs more than concatenating ropes.
  let text = TAG.trace;
  for (const trace of traces) {
    text += `${SEPARATOR}${SEPARATOR}${trace.exception.class.trim()}`;
    let previous: string | undefined;
    for (const frame of trace.frames) {
      const fragment = frameFragment(
        normalizeFilename(frame.filename, serverRoot),
        normalizeMethod(frame.method),
      );
      if (fragment === previous) continue;
      text += fragment;
      previous = fragment;
    }
  }
  return sha1(text);
}

/** `\0file\0method`, built once per pair: the same pairs recur in every trace of a project. */
const fragments = new Map<string, Map<string, string>>();
const FRAGMENT_FILES_MAX = 10_000;

function frameFragment(file: string, method: string): string {
  let byMethod = fragments.get(file);
  if (!byMethod) {
    if (fragments.size >= FRAGMENT_FILES_MAX) fragments.clear();
    byMethod = new Map();
    fragments.set(file, byMethod);
  }
  let fragment = byMethod.get(method);
  if (fragment === undefined) {
    fragment = `${SEPARATOR}${file}${SEPARATOR}${method}`;
    byMethod.set(method, fragment);
  }
  return fragment;
}

function isJavaScriptClient(data: ItemData): boolean {
  const platform = data.platform?.toLowerCase();
  const language = data.language?.toLowerCase();
  return platform === 'browser' || language === 'javascript' || language === 'js';
}

/**
 * A `window.onerror` report: a JavaScript client's single exception with one frame or none. Only these go
 * through the browser message database; a multi-frame trace has enough in its frames to group by.
 */
function onerrorTrace(data: ItemData): Trace | undefined {
  if (!isJavaScriptClient(data)) return undefined;
  const { trace, trace_chain: chain } = data.body;
  const single = trace ?? (chain?.length === 1 ? chain[0] : undefined);
  return single && single.frames.length <= 1 ? single : undefined;
}

/**
 * Crash reports group by their header: for Apple's format, the exception type and the crashed thread's top
 * frames (addresses and offsets normalized away); otherwise the first non-empty line. The first lines of an
 * Apple report are per-incident identifiers and would make every crash its own item.
 */
const CRASHED_THREAD_FRAMES = 5;
/**
 * Only the first 256 KiB of a crash report are read for its signature: Apple's header and thread
 * backtraces come before the list of binary images that makes most of a report's size.
 */
export const CRASH_REPORT_SCANNED_MAX_LENGTH = 256 * 1024;
export function crashReportSignature(raw: string): string {
  const lines = raw.slice(0, CRASH_REPORT_SCANNED_MAX_LENGTH).split(/\r?\n/);
  const exceptionType = lines.find((line) => line.startsWith('Exception Type:'));
  if (exceptionType === undefined) return lines.find((line) => line.trim() !== '')?.trim() ?? '';
  const parts = [exceptionType];
  const crashed = lines.findIndex((line) => /^Thread \d+ Crashed:/.test(line));
  if (crashed >= 0) {
    for (const line of lines.slice(crashed + 1, crashed + 1 + CRASHED_THREAD_FRAMES)) {
      if (line.trim() === '') break;
      parts.push(line);
    }
  }
  return parts.join('\n');
}

/** Which item an occurrence belongs to, before the caller scopes it by project, environment and platform. */
export function groupOccurrence(data: ItemData, options: GroupingOptions): Grouping {
  if (data.fingerprint !== undefined && data.fingerprint !== '') {
    return { fingerprint: data.fingerprint, method: 'client' };
  }
  const body = data.body;
  if (options.groupingVersion === 2) {
    const onerror = onerrorTrace(data);
    const matched = onerror ? matchBrowserMessage(onerror.exception.message ?? '') : undefined;
    if (matched) {
      // The file and line are left out on purpose: browsers disagree on them for the same bug (inline scripts
      // report the page's URL, Safari often reports no frame), and the kind plus the kept names identify it.
      const text = [TAG.browserMessage, matched.kind, ...matched.kept].join(SEPARATOR);
      return { fingerprint: sha1(text), method: 'browser-message' };
    }
  }
  const traces = body.trace_chain ?? (body.trace ? [body.trace] : undefined);
  if (traces) {
    return { fingerprint: traceFingerprint(traces, normalizeServerRoot(data.server?.root)), method: 'trace' };
  }
  if (body.message) {
    return {
      fingerprint: sha1(`${TAG.message}${SEPARATOR}${normalizeMessage(body.message.body)}`),
      method: 'message',
    };
  }
  const raw = body.crash_report?.raw ?? '';
  return {
    fingerprint: sha1(`${TAG.crashReport}${SEPARATOR}${normalizeMessage(crashReportSignature(raw))}`),
    method: 'crash-report',
  };
}
