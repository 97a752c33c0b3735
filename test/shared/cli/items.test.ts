// `faultline items search`: what is a word of the query and what is an option, how long ago reads,
// and a title cut to the terminal. Its requests to the API are tested in test/functions/read-api-search.test.ts.
import { describe, expect, it } from 'vitest';
import { UsageError } from '#shared/cli/errors';
import { itemsSearchArguments, itemsTable, timeAgo } from '#shared/cli/items';

describe('the arguments of items search', () => {
  it.each<[string, string[], string, Record<string, unknown>]>([
    ['words are joined into the query', ['Error', 'host:web'], 'Error host:web', {}],
    [
      'a negated term is a word, not an option',
      ['Error', '-status:resolved', '-"not found"'],
      'Error -status:resolved -"not found"',
      {},
    ],
    [
      'options take the next argument',
      ['Error', '--level', 'error', '--page', '2'],
      'Error',
      { level: 'error', page: '2' },
    ],
    ['options take =value', ['--environment=production', 'Error'], 'Error', { environment: 'production' }],
    ['--json is a flag', ['Error', '--json'], 'Error', { json: true }],
    ['after -- everything is the query', ['--', '--level', 'x'], '--level x', {}],
    ['a phrase given as one argument keeps its spaces', ['"is not defined"'], '"is not defined"', {}],
  ])('%s', (_case, argv, query, options) => {
    expect(itemsSearchArguments(argv)).toEqual({ query, options });
  });

  it.each([
    ['an unknown option', ['Error', '--colour'], 'unknown option --colour'],
    ['an option without its value', ['Error', '--level'], '--level needs a value'],
    ['an option followed by another', ['Error', '--level', '--json'], '--level needs a value'],
    ['a flag with a value', ['Error', '--json=yes'], '--json takes no value'],
    ['a page that is not a number', ['Error', '--page', 'two'], '--page takes a page number'],
    ['page zero', ['Error', '--page', '0'], '--page takes a page number'],
  ])('refuses %s', (_case, argv, message) => {
    expect(() => itemsSearchArguments(argv)).toThrow(UsageError);
    expect(() => itemsSearchArguments(argv)).toThrow(message);
  });
});

describe('last seen, as a relative time', () => {
  const now = 1_764_000_000_000;
  it.each([
    [0, 'just now'],
    [42, '42s ago'],
    [300, '5m ago'],
    [3 * 3600 + 59, '3h ago'],
    [12 * 86_400, '12d ago'],
  ])('%i seconds ago reads %s', (seconds, shown) => {
    expect(timeAgo(now / 1000 - seconds, now)).toBe(shown);
  });
});

describe('the table', () => {
  const item = {
    id: 1,
    counter: 7,
    level: 'error',
    status: 'active',
    environment: 'production',
    total_occurrences: 12_345,
    last_occurrence_timestamp: 1_764_000_000,
    title: 'A title\nover two lines that is far too long for a narrow terminal',
  };

  it('cuts the title to the width, on one line', () => {
    const lines = itemsTable([item], { nowMs: 1_764_000_060_000, width: 60 });
    expect(lines[1]).toBe('#7  error  active        12345  1m ago     A title over two…');
    expect(lines.every((line) => [...line].length <= 60)).toBe(true);
  });

  it('shows an item without a number with a dash', () => {
    const lines = itemsTable([{ ...item, counter: null, title: 'Short' }], {
      nowMs: 1_764_000_000_000,
      width: 100,
    });
    expect(lines[1]?.startsWith('-  ')).toBe(true);
  });
});
