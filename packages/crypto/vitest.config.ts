import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'crypto',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Argon2id at MODERATE (256 MiB) and multi-chunk attachment round trips take seconds each on a
    // busy two-core machine; the default 5 s would fail them for load, not for a fault.
    testTimeout: 60_000,
  },
});
