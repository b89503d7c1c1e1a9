import { defineConfig } from 'vitest/config';

// Server processes killed and restarted under live clients: each test starts real processes on
// its own database, so the files run one after the other and each test may take up to a minute.
export default defineConfig({
  test: {
    name: 'reliability',
    include: ['**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
