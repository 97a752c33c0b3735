// Each handler uses only the tables and queues its declaration grants. The local stack gives every
// handler every variable, so only this check catches a handler that would fail its cold start in AWS.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { type FunctionName, functions } from '#infra/topology';

const repoRoot = new URL('../../', import.meta.url);

function namesIn(source: string, call: 'tableNames' | 'queueUrls'): string[] {
  const names: string[] = [];
  for (const match of source.matchAll(new RegExp(`${call}\\(\\[([^\\]]*)\\]`, 'g'))) {
    for (const name of match[1]!.matchAll(/'([^']+)'/g)) names.push(name[1]!);
  }
  return names;
}

async function sourceOf(name: FunctionName): Promise<string> {
  return readFile(new URL(functions[name].entry, repoRoot), 'utf8');
}

describe('the wiring declares what each handler uses', () => {
  it.each(Object.entries(functions))('%s', async (_name, declaration) => {
    const source = await readFile(new URL(declaration.entry, repoRoot), 'utf8');
    const tables = namesIn(source, 'tableNames');
    const queues = namesIn(source, 'queueUrls');
    expect(tables.length + queues.length).toBeGreaterThan(0);
    for (const table of tables) expect(Object.keys(declaration.tables)).toContain(table);
    for (const queue of queues) expect(Object.keys(declaration.queues)).toContain(queue);
  });

  // The other way round: a table declared but never named is a grant nobody needs.
  it.each(Object.entries(functions))(
    '%s is granted no table it does not name',
    async (_name, declaration) => {
      const source = await readFile(new URL(declaration.entry, repoRoot), 'utf8');
      expect(Object.keys(declaration.tables).sort()).toEqual(
        [...new Set(namesIn(source, 'tableNames'))].sort(),
      );
    },
  );

  it('the grouping worker only stores occurrences; the fold counts them into projects and items', async () => {
    expect(namesIn(await sourceOf('groupOccurrences'), 'tableNames')).toEqual(['occurrences']);
    expect(functions.groupOccurrences.tables).toEqual({ occurrences: 'write' });
    expect(namesIn(await sourceOf('foldOccurrences'), 'tableNames').sort()).toEqual([
      'items',
      'occurrences',
      'projects',
    ]);
  });
});
