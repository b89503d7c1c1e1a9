import { defineConfig } from 'vitest/config';

// Server processes killed and restarted under live clients: each test starts real processes on
// its own database, so the files run one after the other. A test takes about half a minute on a
// quiet machine; the timeout leaves room for a busy one, where a PGlite start alone takes 20 s+.
export default defineConfig({
  test: {
    name: 'reliability',
    include: ['**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
