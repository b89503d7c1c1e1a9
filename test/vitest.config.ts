import { configDefaults, defineConfig } from 'vitest/config';

// e2e/, reliability/, load/ and adversarial/ are projects of their own (their vitest.config.ts): they need live
// servers and longer timeouts.
export default defineConfig({
  test: {
    name: 'vectors',
    include: ['**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'e2e/**', 'reliability/**', 'load/**', 'adversarial/**'],
  },
});
