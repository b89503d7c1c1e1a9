import { defineConfig } from 'vitest/config';

// The web app in Debian's Chromium (playwright-core) against a real server on an ephemeral port.
// The app is built once per run (global-setup.ts); files run one after the other, each with its
// own server and browsers.
export default defineConfig({
  test: {
    name: 'browser',
    root: import.meta.dirname,
    include: ['**/*.test.ts'],
    globalSetup: ['./global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // A page under a loaded machine can take seconds to get where a poll looks; the 1 s default
    // made focus and count checks fail on a busy run.
    expect: { poll: { timeout: 10_000 } },
  },
});
