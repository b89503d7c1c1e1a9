// What the sign-in page costs to load (everything the browser fetched until the form is usable,
// gzipped as a server would send it), and the backup passphrase's Argon2id running in a Web
// Worker while the page keeps drawing its progress. The 1,000-message room is timed in
// `pnpm bench --web` (test/load/web-bench.ts): timings belong in benchmarks, not tests.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, type LiveServer, openBrowser, startServer } from './harness';

/** The budget of the first screen before sign-in, gzipped (docs/PERFORMANCE.md). */
const FIRST_LOAD_BUDGET = 400_000;

describe('speed of the first screen and of the backup key', () => {
  let server: LiveServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer();
    browser = await openBrowser(server);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it(`loads the sign-in page in under ${FIRST_LOAD_BUDGET / 1000} KB gzipped`, async () => {
    const page = browser.page;
    const loaded: { url: string; raw: number; gzipped: number }[] = [];
    const bodies: Promise<void>[] = [];
    page.on('response', (response) => {
      bodies.push(
        response.body().then(
          (body) => {
            loaded.push({
              url: new URL(response.url()).pathname,
              raw: body.length,
              gzipped: gzipSync(body).length,
            });
          },
          () => undefined, // a redirect or an aborted request has no body
        ),
      );
    });
    await page.goto('/');
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    await page.waitForLoadState('networkidle');
    await Promise.all(bodies);

    const total = loaded.reduce((sum, file) => sum + file.gzipped, 0);
    const rows = [...loaded].sort((a, b) => b.gzipped - a.gzipped);
    console.log(
      [
        'first load before sign-in (gzipped with zlib level 6):',
        ...rows.map(
          (f) => `  ${String(f.gzipped).padStart(8)}  ${String(f.raw).padStart(9)}  ${f.url}`,
        ),
        `  ${String(total).padStart(8)}  total, ${loaded.length} files`,
      ].join('\n'),
    );
    expect(total).toBeLessThan(FIRST_LOAD_BUDGET);
    // libsodium (its WebAssembly inlined in the script) waits until the form is used.
    expect(rows[0]!.gzipped).toBeLessThan(100_000);
    expect(browser.problems).toEqual([]);
  });

  it('derives the backup key in a Web Worker, the page drawing its progress meanwhile', async () => {
    const page = browser.page;
    const workers: string[] = [];
    page.on('worker', (worker) => workers.push(new URL(worker.url()).pathname));
    await page.getByRole('tab', { name: 'Create account' }).click();
    await page.getByLabel('Username').fill('erin');
    await page.getByLabel('Password', { exact: true }).fill('erin has a long password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Set up your backup passphrase' }).waitFor();
    await page.getByLabel('I have written down my backup passphrase.').check();
    // Frames the page draws while the progress is on screen: none if Argon2id held the thread.
    await page.evaluate(() => {
      const state = { frames: 0 };
      (window as { __derivation?: typeof state }).__derivation = state;
      const count = () => {
        if (document.querySelector('[data-testid="key-derivation"]') !== null) state.frames++;
        requestAnimationFrame(count);
      };
      requestAnimationFrame(count);
    });
    await page.getByRole('button', { name: 'Save encrypted backup' }).click();
    await page.getByTestId('key-derivation').getByText('Strengthening your passphrase').waitFor();
    await page.getByRole('heading', { name: 'Hello, erin' }).waitFor({ timeout: 60_000 });
    const frames = await page.evaluate(
      () => (window as { __derivation?: { frames: number } }).__derivation!.frames,
    );
    console.log(`frames drawn during the derivation: ${frames}; workers: ${workers.join(', ')}`);
    expect(frames).toBeGreaterThan(3);
    expect(workers.some((path) => /key\.worker/.test(path))).toBe(true);
    expect(browser.problems).toEqual([]);
  });
});
