// Vitest runs every test under test/; integration tests start real emulators, hence the long timeouts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file in its own process: handlers are imported once per process, and DynamoDB Local
    // (a child JVM) is killed with the process that started it.
    pool: 'forks',
    // Handlers log JSON lines through Powertools; in tests only their errors are worth reading.
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
