import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // End-to-end tests start the built binary (node dist/bin.js) a few dozen times.
    testTimeout: 60_000,
    // The work is in child processes: two test files at a time keep both cores busy.
    maxWorkers: 2,
    hookTimeout: 60_000,
  },
});
