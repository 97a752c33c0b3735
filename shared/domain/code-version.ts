// Ordering code versions, to tell whether an occurrence comes from a release older than a fix.

const NUMERIC_VERSION = /^v?(\d+(?:\.\d+)*)(?:[-+].*)?$/i;

/**
 * True only when both versions are dotted numbers (`1.4.2`, `v2.0`, `1042`) and `candidate` is lower.
 * Anything else (git SHAs, names) has no order, so it is never called older: the item reactivates,
 * which is the safe side for an error tracker.
 */
export function isOlderVersion(candidate: string | undefined, reference: string | undefined): boolean {
  if (!candidate || !reference) return false;
  const a = NUMERIC_VERSION.exec(candidate.trim());
  const b = NUMERIC_VERSION.exec(reference.trim());
  if (!a || !b) return false;
  const left = a[1]!.split('.').map(Number);
  const right = b[1]!.split('.').map(Number);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference < 0;
  }
  return false;
}
