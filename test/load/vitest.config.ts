import { defineConfig } from 'vitest/config';

// The load bench's smoke run: real server processes and generator threads, so it runs alone
// with a generous timeout. The full bench is `pnpm bench`, not part of the test suite.
export default defineConfig({
  test: {
    name: 'load',
    include: ['**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
