import { defineConfig } from 'vitest/config';

// Unit tests of the app's own modules (markdown renderer, rules, formatting). The browser suite
// is a project of its own: test/browser/vitest.config.ts.
export default defineConfig({
  test: {
    name: 'web',
    include: ['test/unit/**/*.test.ts'],
  },
});
