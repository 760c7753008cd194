import { defineConfig } from 'vitest/config';

// Three projects: unit tests of pure logic (no servers), integration tests that start real
// servers (InfluxDB behind nginx, the embedded broker) through a global setup, and the console's
// browser tests (precall + Debian's chromium driven by playwright-core, one of each per file).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Vitest's 5 s default is wall time: on a shared 2-core machine the property test of
          // the state machine and the outbox's 50,000 appends (2-3 s alone) overran it under load.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Integration files share one InfluxDB; run them one file at a time to keep the
          // 2-core CI machine from starving the servers they measure.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/browser/global-setup.ts'],
          // After the other projects, not beside them: a browser and precall want both cores.
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**', 'devices/**', 'simulator/**'],
    },
  },
});
