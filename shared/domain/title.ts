// The one-line title an item is listed under, derived from its first occurrence's payload.
import type { ItemData } from '#shared/domain/payload';

export const TITLE_MAX_LENGTH = 255;
const ELLIPSIS = '…';

/**
 * A title is read from the first 16 KiB of its source: far more than the 255 characters it keeps even
 * when whitespace collapses, and a bound on the work a 500 KB message costs.
 */
export const TITLE_SOURCE_MAX_LENGTH = 16 * 1024;

/** Titles are one line: newlines and runs of whitespace from multi-line messages collapse to one space. */
function oneLine(text: string): string {
  const source = text.length > TITLE_SOURCE_MAX_LENGTH ? text.slice(0, TITLE_SOURCE_MAX_LENGTH) : text;
  return source.replace(/\s+/g, ' ').trim();
}

/** Cuts to TITLE_MAX_LENGTH characters, ellipsis included, without splitting a surrogate pair. */
function cut(text: string): string {
  if (text.length <= TITLE_MAX_LENGTH) return text;
  let end = TITLE_MAX_LENGTH - ELLIPSIS.length;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

function crashReportTitle(raw: string): string {
  // Apple's `Exception Type:` line is in the report's header, within its first few hundred bytes.
  const lines = raw.slice(0, TITLE_SOURCE_MAX_LENGTH).split(/\r?\n/);
  // Apple's format opens with per-incident identifiers; its exception type is what a reader recognizes.
  const exceptionType = lines.find((line) => line.startsWith('Exception Type:'));
  return exceptionType ?? lines.find((line) => line.trim() !== '') ?? '';
}

/**
 * The client's `title` when sent; else `Class: message` of the exception (the first of a `trace_chain`,
 * which Rollbar SDKs order outermost first), the text of a log message, or a crash report's first line.
 */
export function titleOf(data: ItemData): string {
  const given = oneLine(data.title ?? '');
  if (given !== '') return cut(given);
  const body = data.body;
  const trace = body.trace_chain?.[0] ?? body.trace;
  let title: string;
  if (trace) {
    const name = oneLine(trace.exception.class);
    const message = oneLine(trace.exception.message ?? '');
    title = name === '' ? message : message === '' ? name : `${name}: ${message}`;
  } else if (body.message) {
    title = oneLine(body.message.body);
  } else {
    title = oneLine(crashReportTitle(body.crash_report?.raw ?? ''));
  }
  return cut(title === '' ? '(no message)' : title);
}
