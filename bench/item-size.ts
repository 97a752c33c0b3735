// DynamoDB's item size rules, which decide how many write units a write bills.
//
// Applied to items as the document client sends them (undefined values removed): an attribute costs
// its name's UTF-8 length plus its value's size; strings their UTF-8 bytes, binary its bytes,
// numbers 1 byte per two significant digits plus 1, booleans and null 1 byte, lists and maps 3 bytes
// plus their elements (a map's element names counted like attribute names).

export const KILOBYTE = 1024;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** Significant digits of a number as DynamoDB stores it: sign, point, leading and trailing zeros dropped. */
function numberSize(value: number | bigint): number {
  const digits = String(value)
    .replace(/e.*$/i, '')
    .replace(/[-.]/g, '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

export function valueSize(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let size = 0;
    for (const entry of value) size += valueSize(entry);
    return size;
  }
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, entry) => sum + valueSize(entry), 0);
  if (typeof value === 'object') return 3 + attributesSize(value as Record<string, unknown>);
  throw new TypeError(`no DynamoDB size for a ${typeof value}`);
}

function attributesSize(attributes: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    size += utf8(name) + valueSize(value);
  }
  return size;
}

/** The size of a whole item, in bytes. */
export function itemSize(item: Record<string, unknown>): number {
  return attributesSize(item);
}

/** Started kilobytes: the unit of every write charge. An absent item (0 bytes) still bills one. */
export function startedKilobytes(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / KILOBYTE));
}
