import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // Two cores: two files at a time keeps real PostgreSQL, PGlite and argon2 from starving each other.
    maxWorkers: 2,
    pool: 'forks',
    // One migrated PostgreSQL database and PGlite data directory per run, copied for each test
    // database instead of migrating an empty one each time (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // Every portal process a test starts gets a free internal metrics port (default 9091 would clash).
    env: { METRICS_PORT: '0' },
  },
});
