import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // Two cores: two files at a time keeps real PostgreSQL, PGlite and argon2 from starving each other.
    maxWorkers: 2,
    pool: 'forks',
    // Test files share their worker process (two in all) instead of one new process each: the
    // src module graph is imported once per worker, not once per file (seconds of CPU each), and
    // the browser files share the worker's Chromium (the `browser` fixture is worker-scoped).
    // Every file still gets its own databases, Redis prefix, portal processes and browser
    // contexts through test/support; nothing in src keeps state at module level but a memo.
    isolate: false,
    // One migrated PostgreSQL database and PGlite database (a dump) per run, copied for each test
    // database instead of migrating an empty one each time (test/support/global-setup.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // Every portal process a test starts gets a free internal metrics port (default 9091 would clash).
    env: { METRICS_PORT: '0' },
  },
});
