// Signed-in sessions in the browser: two browsers signed in to one account; Settings on the first
// lists both, marks "This device", and revokes the other after a confirmation; the second browser
// is signed out at once, and the list then holds only the first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axeViolations } from './a11y';
import {
  nav,
  openBrowser,
  screenshot,
  signUp,
  startServer,
  stepwise,
  type Browser,
  type LiveServer,
} from './harness';

describe('signed-in sessions', () => {
  let server: LiveServer;
  let laptop: Browser;
  let phone: Browser;

  beforeAll(async () => {
    server = await startServer();
    [laptop, phone] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  stepwise('sessions', () => ({ laptop, phone }));
  afterAll(async () => {
    await Promise.all([laptop?.close(), phone?.close()]);
    await server?.close();
  });

  const sessionsOn = (page: Page) => page.getByRole('region', { name: 'Signed-in sessions' });

  it('lists both browsers, this one marked, each with when it was last seen', async () => {
    const passphrase = await signUp(laptop.page, 'nora', 'nora has a long password');
    const p = phone.page;
    await p.goto('/');
    await p.getByLabel('Username').fill('nora');
    await p.getByLabel('Password', { exact: true }).fill('nora has a long password');
    await p.getByRole('button', { name: 'Log in' }).click();
    await p.getByRole('heading', { name: 'Restore your keys' }).waitFor();
    await p.getByLabel('Backup passphrase').fill(passphrase);
    await p.getByRole('button', { name: 'Restore' }).click();
    await p.getByRole('heading', { name: 'Hello, nora' }).waitFor({ timeout: 60_000 });

    const page = laptop.page;
    await nav(page, 'Settings');
    const section = sessionsOn(page);
    const items = section.getByRole('listitem');
    await expect.poll(() => items.count()).toBe(2);
    // Named from the browser's User-Agent: both are Chromium on Linux here.
    for (const text of await items.allTextContents()) {
      expect(text).toMatch(/Chrome on Linux/);
      expect(text).toMatch(/Last seen just now/);
    }
    const mine = items.filter({ hasText: 'This device' });
    expect(await mine.count()).toBe(1);
    // This browser logs out with the buttons under Sessions, not from the list.
    expect(await mine.getByRole('button', { name: /Revoke/ }).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await section.scrollIntoViewIfNeeded();
    await screenshot(page, 'sessions-list');
  });

  it('revokes the other browser after a confirmation, which signs it out', async () => {
    const page = laptop.page;
    const section = sessionsOn(page);
    const other = section.getByRole('listitem').filter({ hasNotText: 'This device' });

    // Cancelling changes nothing.
    await other.getByRole('button', { name: /Revoke/ }).click();
    await section.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await section.getByRole('alertdialog').count()).toBe(0);
    await nav(phone.page, 'Settings');
    await expect.poll(() => sessionsOn(phone.page).getByRole('listitem').count()).toBe(2);

    await other.getByRole('button', { name: /Revoke/ }).click();
    const question = section.getByRole('alertdialog');
    expect(await question.textContent()).toMatch(/need your password to sign in again/);
    expect(await axeViolations(page)).toEqual([]);
    await question.getByRole('button', { name: 'Sign it out' }).click();
    await section.getByRole('status').filter({ hasText: 'is signed out' }).waitFor();
    await expect.poll(() => section.getByRole('listitem').count()).toBe(1);
    expect(await section.getByRole('listitem').textContent()).toMatch(/This device/);

    // The phone is signed out at once, without a reload.
    await phone.page.getByText('You were signed out. Log in again.').waitFor();
    await phone.page.getByRole('tab', { name: 'Log in' }).waitFor();
    await screenshot(phone.page, 'sessions-revoked');

    // The laptop stays signed in.
    await nav(page, 'Home');
    await page.getByRole('heading', { name: 'Hello, nora' }).waitFor();
    // Nothing went wrong but the refusals the revocation causes on the phone (401).
    const problems = [...laptop.problems, ...phone.problems];
    expect(problems.filter((problem) => !/status of 401 /.test(problem))).toEqual([]);
  });
});
