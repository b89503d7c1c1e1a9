import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';
import { staticAdapterWithExternalBootstrap } from './build-tools/external-bootstrap.ts';

// The API the dev server proxies to (`pnpm --filter @parley/server start` listens on :3000).
const API = process.env.PARLEY_API ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [
    sveltekit({
      // A single-page app: one index.html that the Parley server serves at /. The hash router
      // keeps every route under that one document, so the server needs no SPA fallback rules.
      adapter: staticAdapterWithExternalBootstrap({ pages: 'build', fallback: 'index.html' }),
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
});
