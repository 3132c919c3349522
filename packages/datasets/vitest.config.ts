import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Decoding and resizing all of MNIST takes seconds on a busy 2-core machine (turbo runs the
    // packages' suites side by side): vitest's 5 s default failed there.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
