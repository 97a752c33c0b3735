// Listing pages hold their uuids packed, 16 bytes each: what goes in comes out, in one spelling.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { packUuids, unpackUuids } from '#shared/store/pages';

describe('a page of uuids', () => {
  it('reads back in order, 16 bytes a uuid, in the canonical spelling', () => {
    const uuids = [randomUUID(), randomUUID(), randomUUID()];
    const packed = packUuids([uuids[0]!.toUpperCase(), uuids[1]!.replaceAll('-', ''), uuids[2]!]);
    expect(packed.byteLength).toBe(48);
    expect(unpackUuids(packed)).toEqual(uuids);
    expect(unpackUuids(packUuids([]))).toEqual([]);
  });

  it('refuses what is not a uuid rather than store bytes that read back as another', () => {
    expect(() => packUuids([randomUUID(), 'not-a-uuid'])).toThrow('not a uuid: not-a-uuid');
  });

  it('refuses bytes that do not hold whole uuids', () => {
    expect(() => unpackUuids(new Uint8Array(17))).toThrow('a page holds whole uuids only');
  });
});
