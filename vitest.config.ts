import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/helpers/count-reporter.ts'],
    // Budgets far above need (a loaded 2-core CI machine runs several times slower than an idle
    // one): a test fails on a wrong result, never on a slow machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration files share two CPU cores with PostgreSQL, Redis and the simulator.
    maxWorkers: 2,
  },
});
