// Listing pages: the fold writes, per item and per person, the uuids of the occurrences one fold
// step counted, instead of an index entry per occurrence (which would bill a write unit each).
//
// A page row: `{ PK, SK } = occurrenceKeys.itemPage(…) | occurrenceKeys.personPage(…)`,
// `entity: 'page'`, `project_id`, `uuids` (binary: 16 bytes per uuid, newest first) and
// `expires_at`. Pages sort by the newest receipt time they hold. A fold step that is retried may
// write a page again under another key, so readers drop uuids they have already listed.

import { UUID_PATTERN } from '#shared/domain/payload';

const UUID_BYTES = 16;

export interface PageRow {
  PK: string;
  SK: string;
  entity: 'page';
  project_id: number;
  uuids: Uint8Array;
  expires_at: number;
}

/** Packs uuids, 16 bytes each; they read back in their canonical spelling (`canonicalUuid`). */
export function packUuids(uuids: readonly string[]): Uint8Array {
  const bytes = new Uint8Array(uuids.length * UUID_BYTES);
  uuids.forEach((uuid, index) => {
    if (!UUID_PATTERN.test(uuid)) throw new Error(`not a uuid: ${uuid}`);
    bytes.set(Buffer.from(uuid.replaceAll('-', ''), 'hex'), index * UUID_BYTES);
  });
  return bytes;
}

export function unpackUuids(bytes: Uint8Array): string[] {
  if (bytes.byteLength % UUID_BYTES !== 0) throw new Error('a page holds whole uuids only');
  const uuids: string[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += UUID_BYTES) {
    const hex = Buffer.from(bytes.subarray(offset, offset + UUID_BYTES)).toString('hex');
    uuids.push(
      `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    );
  }
  return uuids;
}
