import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Serves the built web app (web/build) at `/` on the API's own origin, so the page, the API and
 * the WebSocket share one origin and need no CORS. Every response carries the app's
 * Content-Security-Policy and two hardening headers.
 */
export interface WebPluginOptions {
  /** The built app's directory; `undefined` serves no files (the headers are still sent). */
  root: string | undefined;
}

/**
 * No inline script anywhere; 'wasm-unsafe-eval' lets libsodium's WebAssembly compile;
 * connect-src 'self' covers the same-origin WebSocket; style attributes are allowed because
 * Svelte's and SvelteKit's own markup carries some (the route announcer).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where `pnpm --filter @parley/web build` writes the app, from this file's place in the repo. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../../web/build', import.meta.url));

/**
 * The directory to serve: the one asked for, else the repository's web/build when it has been
 * built (a server started without the app still answers the API).
 */
export function resolveWebRoot(requested: string | false | undefined): string | undefined {
  if (requested === false) return undefined;
  if (requested !== undefined) return requested;
  return existsSync(join(DEFAULT_WEB_ROOT, 'index.html')) ? DEFAULT_WEB_ROOT : undefined;
}

/**
 * Powerful features: calls use the camera and microphone of this origin only; nothing else is
 * used, so nothing else may be, by this page or anything framed in it.
 */
export const PERMISSIONS_POLICY = [
  'camera=(self)',
  'microphone=(self)',
  'display-capture=(self)',
  'geolocation=()',
  'payment=()',
  'usb=()',
  'serial=()',
  'bluetooth=()',
  'hid=()',
  'midi=()',
  'interest-cohort=()',
].join(', ');

const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ['content-security-policy', CONTENT_SECURITY_POLICY],
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['permissions-policy', PERMISSIONS_POLICY],
  // No other site's window keeps a handle on ours, and no other site may embed what we serve.
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
];

/** Two years, as the HSTS preload list asks. */
export const STRICT_TRANSPORT_SECURITY = 'max-age=63072000; includeSubDomains';

const IMMUTABLE = 'public, max-age=31536000, immutable';
// Everything outside /_app/immutable/ keeps its name across builds: revalidate it (ETag) each time,
// so a new deployment is picked up on the next load.
const REVALIDATE = 'no-cache';

export const webPlugin = fp<WebPluginOptions>(
  async (app, options) => {
    app.addHook('onSend', async (request, reply, payload) => {
      // A route that set a stricter policy of its own (avatars: default-src 'none') keeps it.
      for (const [name, value] of SECURITY_HEADERS) {
        if (!reply.hasHeader(name)) reply.header(name, value);
      }
      // Over TLS, here or at a trusted proxy (X-Forwarded-Proto is believed only from one).
      if (request.protocol === 'https') {
        reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
      }
      // API answers carry tokens, keys and profiles: no shared or browser cache keeps them.
      if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) {
        const type = reply.getHeader('content-type');
        if (typeof type === 'string' && type.startsWith('application/json')) {
          reply.header('cache-control', 'no-store');
        }
      }
      return payload;
    });

    const root = options.root;
    if (root === undefined) return;
    const immutable = join(root, '_app', 'immutable') + '/';
    // Its own scope, so the `sendFile` decorator stays out of the rest of the app.
    await app.register(async (scope) => {
      await scope.register(fastifyStatic, {
        root,
        prefix: '/',
        // One route per built file (and `/` for index.html) rather than a catch-all: nothing under
        // /api, /ws, /healthz or /readyz can be shadowed, and unknown paths keep the JSON 404.
        wildcard: false,
        index: ['index.html'],
        // The build writes .br and .gz beside every file: sent to a browser that accepts them
        // (with Vary: Accept-Encoding), never listed as files of their own.
        preCompressed: true,
        globIgnore: ['**/*.br', '**/*.gz'],
        cacheControl: false,
        setHeaders: (reply: FastifyReply, path: string) => {
          reply.header('cache-control', path.startsWith(immutable) ? IMMUTABLE : REVALIDATE);
        },
      });
    });
  },
  { name: 'parley-web', fastify: '5.x' },
);
