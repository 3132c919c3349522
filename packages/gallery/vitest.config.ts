import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Building HNSW graphs of a few thousand points on a busy 2-core machine: vitest's 5 s default
    // is too tight there.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
