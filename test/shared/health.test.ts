// The health check answers whether the region reaches each dependency, naming the failing ones.
import { describe, expect, it } from 'vitest';
import { checkHealth } from '#shared/health';

describe('the health check', () => {
  it('is ok when every probe answers', async () => {
    expect(await checkHealth({ table: async () => 'ok', queue: async () => ({}) })).toEqual({
      ok: true,
      checks: { table: 'ok', queue: 'ok' },
    });
  });

  it('names the dependency that fails, and the others stay ok', async () => {
    const report = await checkHealth({
      table: async () => {
        throw new Error('ResourceNotFoundException');
      },
      queue: async () => 'ok',
    });
    expect(report).toEqual({ ok: false, checks: { table: 'failing', queue: 'ok' } });
  });

  it('counts a probe that never answers as failing, once its deadline passes', async () => {
    const report = await checkHealth({ table: () => new Promise(() => {}), queue: async () => 'ok' });
    expect(report).toEqual({ ok: false, checks: { table: 'failing', queue: 'ok' } });
  });
});
