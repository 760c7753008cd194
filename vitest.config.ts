import { defineConfig } from 'vitest/config';

// Two projects: unit tests of pure logic (no servers) and integration tests that start real
// servers (InfluxDB behind nginx, the embedded broker) through a global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
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
    ],
    coverage: {
      provider: 'v8',
      include: ['src/**', 'devices/**', 'simulator/**'],
    },
  },
});
