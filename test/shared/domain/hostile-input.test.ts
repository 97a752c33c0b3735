// Client text that once stalled the worker: every normalizer reads a bounded part of it, in linear time.
// Nothing here is timed; the figures are `npm run bench`'s. A pattern that backtracks again makes these
// tests run for minutes and fail on vitest's timeout.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BROWSER_MESSAGE_MAX_LENGTH,
  lastPropertyName,
  matchBrowserMessage,
  stripMessagePrefixes,
} from '#shared/domain/browser-messages';
import {
  CRASH_REPORT_SCANNED_MAX_LENGTH,
  crashReportSignature,
  groupOccurrence,
} from '#shared/domain/fingerprint';
import { normalizeFilename, normalizeMethod } from '#shared/domain/frame-normalization';
import { NORMALIZED_MESSAGE_MAX_LENGTH, normalizeMessage } from '#shared/domain/message-normalization';
import { type ItemData, itemDataSchema } from '#shared/domain/payload';
import { TITLE_MAX_LENGTH, titleOf } from '#shared/domain/title';
import { HOSTILE_UNITS, hostileText, safariNotAFunction } from '../../support/hostile-text';

/** 500 KB: about what fits in one post (512 KiB) once the envelope is counted. */
const POST_SIZE = 500_000;
/** The payload schema refuses frame file and method names longer than this. */
const FRAME_FIELD_MAX = 2048;

const hostileCases = Object.entries(HOSTILE_UNITS);

function messageItem(body: string): ItemData {
  return itemDataSchema.parse({ environment: 'x', body: { message: { body } } });
}

function onerror(message: string): ItemData {
  return itemDataSchema.parse({
    environment: 'production',
    platform: 'browser',
    language: 'javascript',
    body: {
      trace: {
        frames: [{ filename: 'https://shop.example.com/assets/app.js', lineno: 1 }],
        exception: { class: 'TypeError', message },
      },
    },
  });
}

describe("the issue's post: `a.` × 150,000 as a log message", () => {
  const body = 'a.'.repeat(150_000);

  it('groups by its first 8 KiB, normalized', () => {
    expect(normalizeMessage(body)).toBe('a.'.repeat(NORMALIZED_MESSAGE_MAX_LENGTH / 2));
    expect(groupOccurrence(messageItem(body), { groupingVersion: 2 })).toEqual(
      groupOccurrence(messageItem(body.slice(0, NORMALIZED_MESSAGE_MAX_LENGTH)), { groupingVersion: 2 }),
    );
  });

  it('is titled by its beginning, cut to 255 characters', () => {
    expect(titleOf(messageItem(body))).toBe(`${'a.'.repeat(127)}…`);
  });
});

describe('500 KB of hostile text', () => {
  it.each(hostileCases)('a log message of %s is normalized from its first 8 KiB', (_name, unit) => {
    const text = hostileText(unit, POST_SIZE);
    const normalized = normalizeMessage(text);
    expect(normalized).toBe(normalizeMessage(text.slice(0, NORMALIZED_MESSAGE_MAX_LENGTH)));
    // The longest placeholder (`<n>` for one digit) is three characters.
    expect(normalized.length).toBeLessThanOrEqual(3 * NORMALIZED_MESSAGE_MAX_LENGTH);
  });

  it.each(hostileCases)('a title of %s is one line of at most 255 characters', (_name, unit) => {
    const title = titleOf(messageItem(hostileText(unit, POST_SIZE)));
    expect(title.length).toBeLessThanOrEqual(TITLE_MAX_LENGTH);
    expect(title).not.toMatch(/\n/);
  });

  it.each(hostileCases)('a crash report of %s is read from its first 256 KiB', (_name, unit) => {
    const raw = `Exception Type:  EXC_CRASH\nThread 0 Crashed:\n${hostileText(unit, POST_SIZE)}`;
    expect(crashReportSignature(raw)).toBe(
      crashReportSignature(raw.slice(0, CRASH_REPORT_SCANNED_MAX_LENGTH)),
    );
    const fingerprint = groupOccurrence(
      itemDataSchema.parse({ environment: 'x', body: { crash_report: { raw } } }),
      { groupingVersion: 2 },
    );
    expect(fingerprint.method).toBe('crash-report');
  });

  it.each(hostileCases)('a browser message of %s is not looked up in the database', (_name, unit) => {
    const message = `${hostileText(unit, POST_SIZE)} is not a function`;
    expect(matchBrowserMessage(message)).toBeUndefined();
    expect(groupOccurrence(onerror(message), { groupingVersion: 2 }).method).toBe('trace');
  });

  it.each(hostileCases)('an expression of %s is reduced to its last name', (_name, unit) => {
    const expression = `${hostileText(unit, POST_SIZE)}.`;
    expect(lastPropertyName(expression).length).toBeLessThanOrEqual(expression.length);
    expect(stripMessagePrefixes(`Uncaught TypeError: ${expression}`)).toBe(expression.trim());
  });
});

describe('frames of hostile text, at the schema’s 2,048 characters', () => {
  it.each(hostileCases)('a file name of %s is normalized', (_name, unit) => {
    const filename = hostileText(unit, FRAME_FIELD_MAX);
    const normalized = normalizeFilename(filename);
    expect(normalized.length).toBeLessThanOrEqual(FRAME_FIELD_MAX);
    expect(normalizeFilename(filename)).toBe(normalized);
  });

  it.each(hostileCases)('a method name of %s is normalized', (_name, unit) => {
    const method = hostileText(unit, FRAME_FIELD_MAX);
    expect(normalizeMethod(method).length).toBeLessThanOrEqual(FRAME_FIELD_MAX);
    expect(normalizeMethod(`${method}<`)).not.toMatch(/<$/);
  });

  it('a trace of 250 distinct hostile frames is fingerprinted', () => {
    const frames = Array.from({ length: 250 }, (_, index) => ({
      filename: `${index}${hostileText('-a', FRAME_FIELD_MAX - 8)}.js`,
      method: `${index}${hostileText('/', FRAME_FIELD_MAX - 8)}x<`,
    }));
    const data = itemDataSchema.parse({
      environment: 'x',
      body: { trace: { frames, exception: { class: 'Error' } } },
    });
    expect(groupOccurrence(data, { groupingVersion: 1 }).fingerprint).toMatch(/^[\da-f]{40}$/);
  });
});

describe('the browser message database', () => {
  it("matches Safari's four-part wording with its separators repeated, and keeps the expression", () => {
    const message = `a.b.save${safariNotAFunction(BROWSER_MESSAGE_MAX_LENGTH - 20)})`;
    expect(message.length).toBeLessThanOrEqual(BROWSER_MESSAGE_MAX_LENGTH);
    expect(matchBrowserMessage(message)?.kind).toBe('not-a-function');
  });

  it('does not look up a message longer than 2,048 characters: its trace groups it', () => {
    const long = `${'a.'.repeat(BROWSER_MESSAGE_MAX_LENGTH)}x is not a function`;
    expect(matchBrowserMessage(long)).toBeUndefined();
    expect(matchBrowserMessage(long.slice(-(BROWSER_MESSAGE_MAX_LENGTH - 10)))?.kind).toBe('not-a-function');
  });
});

describe('invariants on any text made of separators', () => {
  const alphabet = fc.constantFrom(...'a1f.-_:/\\@?#\'"` \n()<>[]=%x'.split(''), 'http://', "', '");
  const text = fc.array(alphabet, { maxLength: 400 }).map((parts) => parts.join(''));

  it('a normalized message has no digit left and one space between words', () => {
    fc.assert(
      fc.property(text, (message) => {
        const normalized = normalizeMessage(message);
        expect(normalized).not.toMatch(/\d|\s\s|^\s|\s$/);
      }),
    );
  });

  it('a normalized file name has no query, fragment, backslash or leading slash', () => {
    fc.assert(
      fc.property(text, (filename) => {
        expect(normalizeFilename(filename)).not.toMatch(/[?#\\]|^\//);
      }),
    );
  });

  it('a title is one line of at most 255 characters', () => {
    fc.assert(
      fc.property(text, (body) => {
        const title = titleOf(messageItem(body));
        expect(title.length).toBeLessThanOrEqual(TITLE_MAX_LENGTH);
        expect(title).not.toMatch(/\n/);
      }),
    );
  });
});
