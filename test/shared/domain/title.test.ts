// An item's title: what a reader sees in the list, one line, at most 255 characters.
import { describe, expect, it } from 'vitest';
import { type ItemData, itemDataSchema } from '#shared/domain/payload';
import { TITLE_MAX_LENGTH, titleOf } from '#shared/domain/title';

function item(body: unknown, extra: Record<string, unknown> = {}): ItemData {
  return itemDataSchema.parse({ environment: 'production', body, ...extra });
}

const trace = (className: string, message?: string) => ({
  frames: [{ filename: 'app.js', lineno: 1 }],
  exception: { class: className, ...(message === undefined ? {} : { message }) },
});

describe('titles', () => {
  it.each([
    [
      'an exception is its class and message',
      item({ trace: trace('TypeError', 'x is not a function') }),
      'TypeError: x is not a function',
    ],
    ['an exception without a message is its class', item({ trace: trace('StopIteration') }), 'StopIteration'],
    [
      'a chain is titled by its outermost exception',
      item({ trace_chain: [trace('CheckoutError', 'failed'), trace('TimeoutError', 'timed out')] }),
      'CheckoutError: failed',
    ],
    ['a log message is its text', item({ message: { body: 'Payment 42 failed' } }), 'Payment 42 failed'],
    [
      'a multi-line message is one line',
      item({ message: { body: 'Payment failed\n  retrying\tlater' } }),
      'Payment failed retrying later',
    ],
    [
      'a crash report is its first line',
      item({ crash_report: { raw: '\nFatal signal 11 (SIGSEGV)\nbacktrace' } }),
      'Fatal signal 11 (SIGSEGV)',
    ],
    [
      'an Apple crash report is its exception type',
      item({ crash_report: { raw: 'Incident Identifier: 8A1F\nException Type:  EXC_CRASH (SIGABRT)\n' } }),
      'Exception Type: EXC_CRASH (SIGABRT)',
    ],
    ['an empty message says so', item({ message: { body: '   ' } }), '(no message)'],
    [
      'the client title wins',
      item({ trace: trace('TypeError', 'x') }, { title: 'Checkout button broken' }),
      'Checkout button broken',
    ],
  ])('%s', (_case, data, title) => {
    expect(titleOf(data)).toBe(title);
  });

  it('a long title is cut to 255 characters with an ellipsis', () => {
    const title = titleOf(item({ message: { body: `Payment failed: ${'x'.repeat(400)}` } }));
    expect(title).toHaveLength(TITLE_MAX_LENGTH);
    expect(title.endsWith('…')).toBe(true);
    expect(title.startsWith('Payment failed: xxx')).toBe(true);
  });

  it('a title of exactly 255 characters is not cut', () => {
    const body = 'y'.repeat(TITLE_MAX_LENGTH);
    expect(titleOf(item({ message: { body } }))).toBe(body);
  });

  it('cutting never splits an emoji', () => {
    const title = titleOf(item({ message: { body: `${'a'.repeat(253)}😀😀😀` } }));
    expect(title).toBe(`${'a'.repeat(253)}…`);
  });
});
