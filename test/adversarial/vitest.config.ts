import { defineConfig } from 'vitest/config';

// The client against a hostile server: a live server on an ephemeral port (as in e2e/), with a
// transport between it and one client that injects, rewrites and mutates frames and answers.
export default defineConfig({
  test: {
    name: 'adversarial',
    include: ['**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
