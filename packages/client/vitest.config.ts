import { defineConfig } from 'vitest/config';

// Unit tests of the client's modules; those that talk to a server start the real one (test/live.ts).
export default defineConfig({
  test: {
    name: 'client',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
