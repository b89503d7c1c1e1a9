import { configDefaults, defineConfig } from 'vitest/config';

// e2e/ is a project of its own (e2e/vitest.config.ts): it needs a live server and longer timeouts.
export default defineConfig({
  test: {
    name: 'vectors',
    include: ['**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'e2e/**'],
  },
});
