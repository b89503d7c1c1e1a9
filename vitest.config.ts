import { defineConfig } from 'vitest/config';

// One run over every workspace; each project keeps its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'server',
      'test',
      'test/e2e',
      'test/adversarial',
      'test/reliability',
      'test/load',
      'web',
      'web/test/browser',
    ],
  },
});
