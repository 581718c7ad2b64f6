import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'commands/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/lab/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A test that is not run is a test that cannot fail: CI refuses .only and skips nothing.
    allowOnly: false,
  },
});
