import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/lab/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A test that is not run is a test that cannot fail: CI refuses .only and skips nothing.
    allowOnly: false,
    projects: [
      {
        extends: true,
        // Unit tests run in a random order (the seed is printed; `--sequence.seed=N` repeats an order), so that none
        // can lean on another having run first.
        test: { name: 'unit', include: ['src/**/*.test.ts', 'commands/**/*.test.ts'], sequence: { shuffle: true } },
      },
      {
        extends: true,
        // Scenarios against the lab and the Discord emulator: each file starts its own servers and runs alone, in any
        // order among files; within a file, tests are steps of one story and run in the order written.
        test: { name: 'scenarios', include: ['test/**/*.test.ts'] },
      },
    ],
  },
});
