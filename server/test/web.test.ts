import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { DEFAULT_WEB_ROOT, resolveWebRoot } from '../src/plugins/web';
import { registerUser } from './accounts';
import { createTestApp } from './helpers';
import { IMAGES } from './images';

// The policy the web app was verified against in Chromium (web/README.md, Content-Security-Policy), spelled out here so
// a change to the server's constant is a deliberate one.
const EXPECTED_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; " +
  "object-src 'none'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const INDEX = '<!doctype html><html><head><title>Parley</title></head><body></body></html>';
const BUNDLE = 'console.log("app");';

describe('web app serving', () => {
  let app: ParleyApp;
  let root: string;

  beforeAll(async () => {
    // A built app in miniature: the layout SvelteKit's static adapter writes.
    root = mkdtempSync(join(tmpdir(), 'parley-web-'));
    mkdirSync(join(root, '_app', 'immutable', 'entry'), { recursive: true });
    writeFileSync(join(root, 'index.html'), INDEX);
    writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(root, '_app', 'version.json'), '{"version":"1"}');
    const bundle = join(root, '_app', 'immutable', 'entry', 'start.Ab12.js');
    writeFileSync(bundle, BUNDLE);
    // The build precompresses every file (web/build-tools/external-bootstrap.ts).
    for (const [file, content] of [
      [bundle, BUNDLE],
      [join(root, 'index.html'), INDEX],
    ] as const) {
      writeFileSync(`${file}.br`, brotliCompressSync(content));
      writeFileSync(`${file}.gz`, gzipSync(content));
    }
    app = await createTestApp({ webRoot: root });
  });
  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at / with no-cache and the security headers', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(INDEX);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['content-security-policy']).toBe(EXPECTED_CSP);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    // Revalidation: the ETag lets a browser keep its copy until a new build changes it.
    const again = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'if-none-match': String(response.headers.etag) },
    });
    expect(again.statusCode).toBe(304);

    const named = await app.inject({ method: 'GET', url: '/index.html' });
    expect(named.statusCode).toBe(200);
    expect(named.headers['cache-control']).toBe('no-cache');
  });

  it('caches content-hashed files under /_app/immutable/ for a year, and nothing else', async () => {
    const bundle = await app.inject({ method: 'GET', url: '/_app/immutable/entry/start.Ab12.js' });
    expect(bundle.statusCode).toBe(200);
    expect(bundle.body).toBe(BUNDLE);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(bundle.headers['content-security-policy']).toBe(EXPECTED_CSP);

    const version = await app.inject({ method: 'GET', url: '/_app/version.json' });
    expect(version.statusCode).toBe(200);
    expect(version.headers['cache-control']).toBe('no-cache');
    const icon = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('sends the precompressed copy a browser accepts, with the same caching', async () => {
    const url = '/_app/immutable/entry/start.Ab12.js';
    const br = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, br' } });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/javascript/);
    expect(br.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(BUNDLE);

    const gz = await app.inject({
      method: 'GET',
      url: '/',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toMatch(/^text\/html/);
    expect(gz.headers['cache-control']).toBe('no-cache');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(INDEX);

    // No Accept-Encoding: the file itself.
    const plain = await app.inject({ method: 'GET', url });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(BUNDLE);
    // The compressed copies are not files of their own.
    expect((await app.inject({ method: 'GET', url: `${url}.br` })).statusCode).toBe(404);
  });

  it('leaves the API, health checks and unknown paths to the server, with the JSON 404', async () => {
    const rules = await app.inject({ method: 'GET', url: '/api/auth/rules' });
    expect(rules.statusCode).toBe(200);
    expect(rules.headers['content-type']).toMatch(/^application\/json/);
    expect(rules.headers['content-security-policy']).toBe(EXPECTED_CSP);
    expect(rules.headers['x-content-type-options']).toBe('nosniff');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
    });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    for (const url of ['/api/nothing-here', '/nothing-here', '/_app/immutable/missing.js']) {
      const missing = await app.inject({ method: 'GET', url });
      expect(missing.statusCode, url).toBe(404);
      expect(missing.json(), url).toEqual({
        error: { code: 'NOT_FOUND', message: expect.any(String) },
      });
    }
    // No file outside the root, however the path is spelled.
    for (const url of ['/../package.json', '/_app/../../package.json', '/%2e%2e/package.json']) {
      const escape = await app.inject({ method: 'GET', url });
      expect(escape.statusCode, url).toBe(404);
    }
  });

  it("keeps a route's own stricter policy (avatars)", async () => {
    const png = IMAGES['image/png'];
    const user = await registerUser(app);
    const put = await app.inject({
      method: 'PUT',
      url: '/api/me/avatar',
      headers: { ...user.auth, 'content-type': 'image/png' },
      payload: png,
    });
    expect(put.statusCode).toBe(204);
    const avatar = await app.inject({ method: 'GET', url: `/api/users/by-id/${user.id}/avatar` });
    expect(avatar.statusCode).toBe(200);
    expect(avatar.headers['content-security-policy']).toBe("default-src 'none'");
    expect(avatar.headers['referrer-policy']).toBe('no-referrer');
  });

  it('answers /ws as the WebSocket route, not a file', async () => {
    // A plain GET without the upgrade is refused by the WebSocket route itself.
    const response = await app.inject({ method: 'GET', url: '/ws' });
    expect(response.statusCode).not.toBe(200);
    expect(response.body).not.toBe(INDEX);
  });

  it('serves no app when asked not to, or when the default directory was never built', async () => {
    expect(resolveWebRoot(false)).toBeUndefined();
    expect(resolveWebRoot('/some/where')).toBe('/some/where');
    expect([DEFAULT_WEB_ROOT, undefined]).toContain(resolveWebRoot(undefined));
    expect(DEFAULT_WEB_ROOT.endsWith(join('web', 'build'))).toBe(true);

    const apiOnly = await createTestApp({ webRoot: false });
    try {
      const response = await apiOnly.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
      expect(response.headers['content-security-policy']).toBe(EXPECTED_CSP);
    } finally {
      await apiOnly.close();
    }
  });
});
