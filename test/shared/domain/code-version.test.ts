// When an occurrence's release counts as older than the one an item was resolved in.
import { describe, expect, it } from 'vitest';
import { isOlderVersion } from '#shared/domain/code-version';

describe('code versions', () => {
  it.each<[string | undefined, string | undefined, boolean]>([
    ['1.9.3', '2.0.0', true],
    ['2.0.0', '2.0.0', false],
    ['2.0.1', '2.0.0', false],
    ['v1.2', '1.10', true],
    ['1.2', '1.2.0', false],
    ['1041', '1042', true],
    ['2.0.0-beta.1', '2.0.0', false],
    ['a1b2c3d', 'f00ba47', false],
    ['1.0.0', 'f00ba47', false],
    [undefined, '2.0.0', false],
    ['1.0.0', undefined, false],
  ])('%s older than %s: %s', (candidate, reference, older) => {
    expect(isOlderVersion(candidate, reference)).toBe(older);
  });
});
