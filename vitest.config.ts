import { defineConfig } from 'vitest/config';
import { isPostgresDeadSocketWrite } from './src/platform/pg-write-guard.ts';

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
    // Tests that stop PostgreSQL under an in-process daemon can meet postgres.js writing on a socket
    // that is already gone, thrown from a timer (src/platform/pg-write-guard.ts says why it is moot);
    // `capconduit start` counts and survives it, and a test process must too. Any other error
    // nobody handled still fails the run.
    onUnhandledError: (error) => !isPostgresDeadSocketWrite(error),
  },
});
