import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The browser tests start Chromium and compile models in wasm on a busy 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
