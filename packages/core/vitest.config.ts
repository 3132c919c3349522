import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Some tests build and differentiate whole ResNets: seconds each on a busy 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
