// Levels in their order: an item's level is the highest its occurrences carried.
import { describe, expect, it } from 'vitest';
import { defaultLevel, higherLevel, isLevel, LEVELS } from '#shared/domain/levels';

describe('levels', () => {
  it('rank debug < info < warning < error < critical', () => {
    for (const [index, level] of LEVELS.entries()) {
      for (const other of LEVELS.slice(index)) expect(higherLevel(level, other)).toBe(other);
    }
    expect(higherLevel('critical', 'debug')).toBe('critical');
  });

  it('are only Rollbar’s five names', () => {
    expect(LEVELS.every(isLevel)).toBe(true);
    for (const value of ['fatal', 'Error', 'warn', 7, null, undefined]) expect(isLevel(value)).toBe(false);
  });

  it('default as Rollbar’s do: an exception is an error, a message is info', () => {
    expect(defaultLevel(true)).toBe('error');
    expect(defaultLevel(false)).toBe('info');
  });
});
