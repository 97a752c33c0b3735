// Vitest runs every test under test/; integration tests start real emulators, hence the long timeouts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each test file in its own process: handlers are imported once per process, and read their
    // environment (tables, queues) at import, as a cold start does.
    pool: 'forks',
    // One DynamoDB Local per worker for the whole run, emptied before each file: starting a JVM per
    // file cost more CPU than most files' tests (test/support/dynamodb-pool.ts).
    globalSetup: ['test/support/dynamodb-pool.ts'],
    setupFiles: ['test/support/dynamodb-slot.ts'],
    // Three files at a time even on a 2-core machine: most of an integration test's time is spent
    // waiting on emulators, pollers and the two-region simulation's 60 s cut, not computing.
    maxWorkers: 3,
    // Handlers log nothing in tests: the errors they log are the ones tests provoke on purpose, and a
    // failing test says what failed. POWERTOOLS_LOG_LEVEL=ERROR (or DEBUG) shows them when debugging.
    env: {
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
      // Nor metrics (EMF lines on stdout); test/functions/metrics.test.ts turns them on to read them.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
