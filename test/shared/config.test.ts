// Configuration is read once at cold start: a missing variable fails the start with its name.
import { describe, expect, it } from 'vitest';
import { ConfigurationError, queueUrls, tableNames } from '#shared/config';

describe('configuration', () => {
  it('reads each table and queue from the variable the wiring declares for it', () => {
    const env = {
      ITEMS_TABLE: 'faultline-items',
      PROJECTS_TABLE: 'faultline-projects',
      INGEST_QUEUE_URL: 'https://q',
    };
    expect(tableNames(['items', 'projects'], env)).toEqual({
      items: 'faultline-items',
      projects: 'faultline-projects',
    });
    expect(queueUrls(['ingest'], env)).toEqual({ ingest: 'https://q' });
  });

  it.each([[{}], [{ ITEMS_TABLE: '' }]])(
    'refuses to start when a variable is missing or empty (%j)',
    (env) => {
      expect(() => tableNames(['items'], env)).toThrow(ConfigurationError);
      expect(() => tableNames(['items'], env)).toThrow('environment variable ITEMS_TABLE is not set');
    },
  );
});
