// The DynamoDB engine's cache of parsed index ranges, without an emulator: what it serves, at which
// version, and what it lets go when full.
import { describe, expect, it } from 'vitest';
import type { SearchDocument } from '#shared/search/document';
import { MAX_RANGE_AGE_MS, SearchRangeCache } from '#shared/search/range-cache';

function documents(project: number, count: number): SearchDocument[] {
  return Array.from({ length: count }, (_, at) => ({
    project_id: project,
    item_id: at + 1,
    counter: at + 1,
    title: 'error',
    tokens: ['error'],
    level: 'error',
    status: 'active',
    environment: 'production',
    framework: null,
    fingerprint: `fp-${at}`,
    code_version: null,
    first_seen: 0,
    last_seen: 0,
  }));
}

describe('the search cache', () => {
  it('serves a range only at the version it was read at', () => {
    const cache = new SearchRangeCache<SearchDocument>(100);
    const rows = documents(1, 3);
    cache.set(1, 5, 7, rows);
    expect(cache.get(1, 5, 7)).toBe(rows);
    expect(cache.get(1, 5, 8)).toBeUndefined();
    expect(cache.get(1, 4, 7)).toBeUndefined();
    expect(cache.get(2, 5, 7)).toBeUndefined();
  });

  it('reads a range again once it is five minutes old, even at the same version', () => {
    let now = 1_000_000;
    const cache = new SearchRangeCache<SearchDocument>(100, () => now);
    const rows = documents(1, 3);
    cache.set(1, 5, 7, rows);
    now += MAX_RANGE_AGE_MS - 1;
    expect(cache.get(1, 5, 7)).toBe(rows);
    now += 1;
    expect(cache.get(1, 5, 7)).toBeUndefined();
  });

  it('counts a range read again once, at its new size', () => {
    const cache = new SearchRangeCache<SearchDocument>(100);
    cache.set(1, 0, 1, documents(1, 10));
    cache.set(1, 0, 2, documents(1, 12));
    cache.set(1, 1, 1, documents(1, 1));
    expect(cache.size).toBe(13);
    expect(cache.get(1, 0, 1)).toBeUndefined();
    expect(cache.get(1, 0, 2)).toHaveLength(12);
  });

  it('lets go of the least recently searched project when full', () => {
    const cache = new SearchRangeCache<SearchDocument>(100);
    cache.set(1, 0, 1, documents(1, 40));
    cache.set(2, 0, 1, documents(2, 40));
    // Project 1 searched again: project 2 is now the least recent.
    expect(cache.get(1, 0, 1)).toBeDefined();
    cache.set(3, 0, 1, documents(3, 40));
    expect(cache.get(2, 0, 1)).toBeUndefined();
    expect(cache.get(1, 0, 1)).toBeDefined();
    expect(cache.get(3, 0, 1)).toBeDefined();
    expect(cache.size).toBe(80);
  });

  it('holds no project bigger than the whole cache, and remembers it as too big', () => {
    const cache = new SearchRangeCache<SearchDocument>(100);
    cache.set(1, 0, 1, documents(1, 30));
    cache.set(2, 0, 1, documents(2, 60));
    cache.set(2, 1, 1, documents(2, 60));
    expect(cache.isTooBig(2)).toBe(true);
    expect(cache.isTooBig(1)).toBe(false);
    expect(cache.get(2, 0, 1)).toBeUndefined();
    // The project that fits stays.
    expect(cache.get(1, 0, 1)).toHaveLength(30);
    expect(cache.size).toBe(30);
  });
});
