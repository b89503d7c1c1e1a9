/**
 * The Content-Security-Policy the server sends with the app (see WEB-NEEDS / the server's static
 * plugin). No inline script anywhere; 'wasm-unsafe-eval' lets libsodium's WebAssembly compile;
 * connect-src 'self' covers the same-origin WebSocket. Style attributes are allowed because Svelte's
 * and SvelteKit's own markup carries some (the route announcer).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
