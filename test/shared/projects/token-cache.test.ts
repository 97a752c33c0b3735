// The bounded, expiring cache behind token lookups: plain logic, no emulator.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpiringLru } from '#shared/projects/token-cache';

describe('expiring LRU cache', () => {
  it('never holds more than its capacity, however many keys are set', () => {
    const cache = new ExpiringLru<number>(100);
    for (let n = 0; n < 10_000; n++) cache.set(`token-${n}`, n, 1_000);
    expect(cache.size).toBe(100);
    expect(cache.get('token-9999', 0)).toBe(9999);
    expect(cache.get('token-9899', 0)).toBeUndefined();
  });

  it('forgets the least recently used key first: reading a key keeps it', () => {
    const cache = new ExpiringLru<string>(2);
    cache.set('a', 'A', 1_000);
    cache.set('b', 'B', 1_000);
    expect(cache.get('a', 0)).toBe('A');
    cache.set('c', 'C', 1_000);
    expect(cache.get('b', 0)).toBeUndefined();
    expect(cache.get('a', 0)).toBe('A');
    expect(cache.get('c', 0)).toBe('C');
  });

  it('misses an entry from the moment it expires, and lets go of it', () => {
    const cache = new ExpiringLru<string>(10);
    cache.set('a', 'A', 5_000);
    expect(cache.get('a', 4_999)).toBe('A');
    expect(cache.get('a', 5_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('setting a key again replaces its value and expiry without growing', () => {
    const cache = new ExpiringLru<string>(10);
    cache.set('a', 'old', 1_000);
    cache.set('a', 'new', 2_000);
    expect(cache.size).toBe(1);
    expect(cache.get('a', 1_500)).toBe('new');
  });

  it('holds at most its capacity and always the most recently set key, whatever is set and read', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 3 })), { maxLength: 200 }),
        (capacity, operations) => {
          const cache = new ExpiringLru<string>(capacity);
          for (const [isSet, key] of operations) {
            if (isSet) {
              cache.set(key, key, 10);
              expect(cache.get(key, 0)).toBe(key);
            } else {
              cache.get(key, 0);
            }
            expect(cache.size).toBeLessThanOrEqual(capacity);
          }
        },
      ),
    );
  });
});
