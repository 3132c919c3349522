import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Each test file starts real servers with onnxruntime worker threads (and the CLI in a child
    // process): on a busy 2-core machine one file at a time, with room for model warm-up.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
