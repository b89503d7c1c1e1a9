// Accounts in the browser: sign up with the rules shown, set the passphrase, keep the session over
// a reload, and restore the account on a new browser from the passphrase.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { nav, openBrowser, screenshot, signUp, startServer, type LiveServer } from './harness';

describe('accounts in Chromium', () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('signs up, survives a reload, and restores on a new browser', async () => {
    const first = await openBrowser(server);
    const second = await openBrowser(server);
    onTestFinished(async () => {
      await first.close();
      await second.close();
    });
    const { page } = first;
    const response = await page.goto('/');
    // The app runs under the strict policy: no inline script, WebAssembly allowed, same-origin only.
    const policy = response?.headers()['content-security-policy'] ?? '';
    expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy.split(';').find((d) => d.trim().startsWith('script-src'))).not.toContain(
      'unsafe-inline',
    );
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await screenshot(page, '01-log-in');

    await page.getByRole('tab', { name: 'Create account' }).click();
    await page.getByLabel('Username').fill('Al');
    await page.getByLabel('Password', { exact: true }).fill('short');
    const rules = page.locator('#username-rules li, #password-rules li');
    await expect.poll(() => rules.count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#username-rules li.ok').count()).toBe(1);
    await screenshot(page, '02-sign-up-rules');

    const passphrase = await signUp(page, 'carol', 'correct horse battery', {
      screenshotAs: '03-passphrase-set-up',
    });
    expect(passphrase.split(' ')).toHaveLength(6);
    await screenshot(page, '04-home');

    await page.reload();
    await page.getByRole('heading', { name: 'Hello, carol' }).waitFor();

    await second.page.goto('/');
    await second.page.getByLabel('Username').fill('carol');
    await second.page.getByLabel('Password', { exact: true }).fill('correct horse battery');
    await second.page.getByRole('button', { name: 'Log in' }).click();
    await second.page.getByRole('heading', { name: 'Restore your keys' }).waitFor();
    await screenshot(second.page, '05-restore');
    await second.page.getByLabel('Backup passphrase').fill('wrong words entirely here now ok');
    await second.page.getByRole('button', { name: 'Restore' }).click();
    await second.page.getByRole('alert').filter({ hasText: 'does not open' }).waitFor({
      timeout: 60_000,
    });
    await second.page.getByLabel('Backup passphrase').fill(passphrase);
    await second.page.getByRole('button', { name: 'Restore' }).click();
    await second.page.getByRole('heading', { name: 'Hello, carol' }).waitFor({ timeout: 60_000 });

    expect(first.problems).toEqual([]);
    expect(second.problems).toEqual([]);
  });

  it('returns to the log-in screen when another device logs out everywhere', async () => {
    const browser = await openBrowser(server);
    onTestFinished(() => browser.close());
    const { page } = browser;
    await signUp(page, 'dora', 'dora correct horse battery');
    // Another device of Dora's ends every session of the account.
    const login = await fetch(`${server.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dora', password: 'dora correct horse battery' }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const ended = await fetch(`${server.baseUrl}/api/auth/logout-all`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(ended.status).toBe(200);
    // The page hears it over its WebSocket, at once, not at its next request.
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor({ timeout: 5000 });
    await page.getByText('You were signed out. Log in again.').waitFor();
    expect(browser.problems).toEqual([]);
  });

  it('lands on Home when logging in again after logging out from Settings', async () => {
    const browser = await openBrowser(server);
    onTestFinished(() => browser.close());
    const { page } = browser;
    await signUp(page, 'fern', 'fern correct horse battery');
    await nav(page, 'Settings');
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();

    await page.getByLabel('Username').fill('fern');
    await page.getByLabel('Password', { exact: true }).fill('fern correct horse battery');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Hello, fern' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Settings' }).count()).toBe(0);
    expect(browser.problems).toEqual([]);
  });

  it('signs another browser out at its next request after "Log out everywhere"', async () => {
    const first = await openBrowser(server);
    const second = await openBrowser(server);
    onTestFinished(async () => {
      await first.close();
      await second.close();
    });
    const password = 'gwen correct horse battery';
    const passphrase = await signUp(first.page, 'gwen', password);
    await nav(first.page, 'Channels');
    await first.page.getByRole('link', { name: 'Create', exact: true }).click();
    await first.page.getByLabel('Name', { exact: true }).fill('Notebook');
    await first.page.getByLabel('Topic', { exact: true }).fill('Things to remember');
    await first.page.getByRole('button', { name: 'Create channel' }).click();
    await first.page.getByRole('heading', { level: 1, name: 'Notebook' }).waitFor();

    // The second browser's WebSocket never reaches the server (a proxy that drops it), so only
    // its HTTP requests can tell it that the session ended.
    await second.context.routeWebSocket(/\/ws$/, () => {});
    const b = second.page;
    await b.goto('/');
    await b.getByLabel('Username').fill('gwen');
    await b.getByLabel('Password', { exact: true }).fill(password);
    await b.getByRole('button', { name: 'Log in' }).click();
    await b.getByLabel('Backup passphrase').fill(passphrase);
    await b.getByRole('button', { name: 'Restore' }).click();
    await b.getByRole('heading', { name: 'Hello, gwen' }).waitFor({ timeout: 60_000 });

    await nav(first.page, 'Settings');
    await first.page.getByRole('button', { name: 'Log out everywhere' }).click();
    await first.page.getByRole('heading', { name: 'Welcome back' }).waitFor();

    // Opening the room asks for its messages with a token of the ended session.
    await b
      .getByTestId('room-list')
      .getByRole('link', { name: /Notebook/ })
      .click();
    await b.getByRole('heading', { name: 'Welcome back' }).waitFor({ timeout: 10_000 });
    await b.getByText('You were signed out. Log in again.').waitFor();
    expect(await b.getByText(/GET \/api|\/api\/rooms/).count()).toBe(0);
    // Reloaded, it stays signed out: the dead tokens were dropped, not kept for the next visit.
    await b.reload();
    await b.getByRole('heading', { name: 'Welcome back' }).waitFor();
    expect(first.problems).toEqual([]);
    expect(second.problems.filter((problem) => !problem.includes('401'))).toEqual([]);
  });
});
