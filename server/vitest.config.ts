import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'server',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Each test file builds its own app on a fresh database; files run in parallel workers.
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
