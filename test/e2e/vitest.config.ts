import { defineConfig } from 'vitest/config';

// The client library against a live server on an ephemeral port: PGlite in memory by default, a
// fresh PostgreSQL database (dropped afterwards) when DATABASE_URL is set.
export default defineConfig({
  test: {
    name: 'e2e',
    include: ['**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
