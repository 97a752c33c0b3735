// The runtime stands without the infrastructure code: nothing under shared/ or functions/ imports infra/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sourcesUnder(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file));
}

/** Every module specifier of a file: static imports and re-exports, `import()` and `import type`. */
function specifiersOf(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) found.push(match[1]!);
  return found;
}

/** Whether a specifier written in `file` names a module under infra/. */
function reachesInfra(file: string, specifier: string): boolean {
  if (specifier.startsWith('#infra/')) return true;
  if (!specifier.startsWith('.')) return false;
  const target = relative(root, resolve(root, dirname(file), specifier));
  return target === 'infra' || target.startsWith(`infra/`);
}

describe('the runtime does not depend on the infrastructure code', () => {
  const runtime = [...sourcesUnder('shared'), ...sourcesUnder('functions')];

  it('finds the runtime sources it checks', () => {
    expect(runtime).toContain(join('shared', 'config.ts'));
    expect(runtime).toContain(join('functions', 'read-api.ts'));
  });

  it('recognises an import of infra/ however it is written', () => {
    expect(specifiersOf(`import { tables } from '#infra/tables';`)).toEqual(['#infra/tables']);
    expect(specifiersOf(`import type { X } from "../../infra/topology";`)).toEqual(['../../infra/topology']);
    expect(specifiersOf(`const m = await import('#infra/local/stack');`)).toEqual(['#infra/local/stack']);
    expect(specifiersOf(`export { tables } from '#infra/tables';`)).toEqual(['#infra/tables']);
    expect(reachesInfra('shared/store/items.ts', '../../infra/tables')).toBe(true);
    expect(reachesInfra('functions/read-api.ts', '../infra/topology')).toBe(true);
    expect(reachesInfra('shared/store/items.ts', './keys')).toBe(false);
    expect(reachesInfra('shared/config.ts', '#shared/wiring/tables')).toBe(false);
  });

  it('no file under shared/ or functions/ imports infra/', () => {
    const offending = runtime.flatMap((file) =>
      specifiersOf(readFileSync(join(root, file), 'utf8'))
        .filter((specifier) => reachesInfra(file, specifier))
        .map((specifier) => `${file} imports ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
