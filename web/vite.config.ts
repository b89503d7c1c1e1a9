import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';
import { staticAdapterWithExternalBootstrap } from './build-tools/external-bootstrap.ts';

// The API the dev server proxies to (`pnpm --filter @parley/server start` listens on :3000).
const API = process.env.PARLEY_API ?? 'http://localhost:3000';
// The browser tests build into a directory of their own, so a test run never races a developer's
// build (or another test run) over build/ and .svelte-kit/.
const OUTPUT = process.env.PARLEY_WEB_OUTPUT;

export default defineConfig({
  plugins: [
    sveltekit({
      // A single-page app: one index.html that the Parley server serves at /. The hash router
      // keeps every route under that one document, so the server needs no SPA fallback rules.
      adapter: staticAdapterWithExternalBootstrap({
        pages: OUTPUT === undefined ? 'build' : `${OUTPUT}/build`,
        fallback: 'index.html',
      }),
      ...(OUTPUT === undefined ? {} : { outDir: `${OUTPUT}/kit` }),
      router: { type: 'hash' },
      output: { bundleStrategy: 'split' },
    }),
  ],
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': { target: API, changeOrigin: false },
      '/ws': { target: API.replace(/^http/, 'ws'), ws: true, changeOrigin: false },
    },
  },
  // libsodium's sumo build is large; it is loaded once and cached.
  build: { chunkSizeWarningLimit: 2500 },
  // The backup-key worker imports @parley/crypto as modules, like the page.
  worker: { format: 'es' },
});
