import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Exports and onnxruntime sessions of small models take seconds each on a busy 2-core machine
    // (turbo runs the packages' suites side by side): vitest's 5 s default failed there.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
