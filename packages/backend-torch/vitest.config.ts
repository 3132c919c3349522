import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Each parity test runs /usr/bin/python3 with PyTorch (a few seconds to import on a busy 2-core
    // machine) and the torchrun test starts two processes: vitest's 5 s default is far too tight.
    testTimeout: 900_000,
    hookTimeout: 180_000,
  },
});
