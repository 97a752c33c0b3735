// Log messages: one log line is one item, whatever ids, numbers and addresses it carries.
import { describe, expect, it } from 'vitest';
import { groupOccurrence } from '#shared/domain/fingerprint';
import { normalizeMessage } from '#shared/domain/message-normalization';
import { itemDataSchema } from '#shared/domain/payload';

function fingerprintOf(body: string): string {
  const item = itemDataSchema.parse({ environment: 'production', body: { message: { body } } });
  return groupOccurrence(item, { groupingVersion: 2 }).fingerprint;
}

describe('volatile message parts group', () => {
  it.each([
    ['numbers', 'Retried 3 times in 1500 ms', 'Retried 12 times in 20.5 ms'],
    ['long and short ids', 'Order 12345 not found', 'Order 1234567 not found'],
    [
      'UUIDs',
      'Job 8a1f5c2e-0b7d-4e3a-9c6f-1d2e3f4a5b6c expired',
      'Job 1B2C3D4E-5F60-4718-8293-A4B5C6D7E8F9 expired',
    ],
    ['e-mail addresses', 'Bounce from ana.lima+shop@example.com', 'Bounce from bo@mail.example.org'],
    [
      'IPv4 addresses',
      'Blocked 10.0.0.12 after login failures',
      'Blocked 192.168.1.200:8443 after login failures',
    ],
    ['IPv6 addresses', 'Blocked 2001:db8::8a2e:370:7334', 'Blocked fe80::1%eth0'],
    ['hex ids', 'Document 64b7f0c2e4a1d9 missing', 'Document 5f1e2d3c4b5a69 missing'],
    ['0x addresses', 'Segfault at 0x7ffd1234', 'Segfault at 0xDEADBEEF'],
    ['single-quoted values', "Unknown plan 'gold' for account", "Unknown plan 'enterprise-2024' for account"],
    ['double-quoted values', 'Template "invoice" failed', 'Template "receipt v2" failed'],
    ['ISO timestamps', 'Run at 2024-03-01T12:30:45.123Z failed', 'Run at 2025-11-30T08:00:00+02:00 failed'],
    ['dates', 'Report for 2024-03-01 is late', 'Report for 2025-12-31 is late'],
    ['times of day', 'Cron at 12:30:45 skipped', 'Cron at 7:05 skipped'],
    [
      "URLs' query strings",
      'GET https://api.example.com/v1/users?page=2&token=abc failed',
      'GET https://api.example.com/v1/users?page=9 failed',
    ],
    ['whitespace', 'Cache   miss\n for key', 'Cache miss for key'],
  ])('%s group', (_case, first, second) => {
    expect(normalizeMessage(first)).toBe(normalizeMessage(second));
    expect(fingerprintOf(first)).toBe(fingerprintOf(second));
  });
});

describe('messages that differ in words are different', () => {
  it.each([
    ['another verb', 'Payment failed for order 12', 'Payment refunded for order 12'],
    [
      'another URL path',
      'GET https://api.example.com/v1/users failed',
      'GET https://api.example.com/v1/orders failed',
    ],
    ['an apostrophe is not a quote', "Can't reach the database", "Can't reach the cache"],
    ['a word made of hex letters', 'facade failed', 'decade failed'],
    ['a Ruby constant is not an IPv6 address', 'Face::Bed missing', 'Cafe::Bed missing'],
  ])('%s', (_case, first, second) => {
    expect(fingerprintOf(first)).not.toBe(fingerprintOf(second));
  });
});

describe('what a normalized message looks like', () => {
  it.each([
    ['User 42 (ana@example.com) from 10.0.0.1', 'User <n> (<email>) from <ip>'],
    ["Can't load 'settings' for 8a1f5c2e-0b7d-4e3a-9c6f-1d2e3f4a5b6c", "Can't load '<value>' for <uuid>"],
    [
      'GET https://x.io/a/7?b=1 took 3.5s at 2024-01-02T03:04:05Z',
      'GET https://x.io/a/<n>?<query> took <n>s at <timestamp>',
    ],
    ['object 64b7f0c2e4a1 at 0x1F', 'object <hex> at <hex>'],
    ['Reply to ..ana@example.com, not a.b.c.d', 'Reply to ..<email>, not a.b.c.d'],
    ['GET http://?x and http://x.io/?a=1#top', 'GET http://?x and http://x.io/?<query>#top'],
  ])('%s → %s', (message, normalized) => {
    expect(normalizeMessage(message)).toBe(normalized);
  });
});
