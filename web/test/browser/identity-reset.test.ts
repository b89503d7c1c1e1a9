// An identity reset in the browser: bob lost his browser and his backup passphrase; on a new
// browser the restore screen offers "I lost my passphrase: start a new identity", which warns
// what it means and asks for an explicit confirmation; alice, who had pinned bob's keys, then
// sees the key-change warning on bob's page, and a new safety number once she accepts.
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

describe('identity reset', () => {
  let server: LiveServer;
  let alice: Browser;
  let lostBob: Browser;
  let bob: Browser | undefined;

  beforeAll(async () => {
    server = await startServer();
    [alice, lostBob] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  stepwise('identity-reset', () => ({ alice, lostBob, bob }));
  afterAll(async () => {
    await Promise.all([alice?.close(), lostBob?.close(), bob?.close()]);
    await server?.close();
  });

  async function openPerson(page: Page, name: string): Promise<void> {
    await nav(page, 'People');
    await page.getByLabel('Search people').fill(name.slice(0, 3));
    await page
      .getByTestId('people-results')
      .getByRole('link', { name: new RegExp(name) })
      .click();
  }

  const qrOf = (page: Page, name: string) =>
    page.getByRole('img', { name: `Safety number QR code for ${name}` }).getAttribute('data-value');

  let numberBefore: string | null = null;

  it('offers a new identity on the restore screen, behind a warning and a confirmation', async () => {
    await Promise.all([
      signUp(alice.page, 'alice', 'alice has a long password'),
      signUp(lostBob.page, 'bob', 'bob has another long one'),
    ]);
    await openPerson(alice.page, 'bob');
    numberBefore = await qrOf(alice.page, 'bob');
    expect(numberBefore).toMatch(/^parley:v1:safety:/);
    // The lost browser is gone for bob; it stays open here only so the harness can close it.

    bob = await openBrowser(server);
    const page = bob.page;
    await page.goto('/');
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password', { exact: true }).fill('bob has another long one');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Restore your keys' }).waitFor();
    await page.getByRole('button', { name: 'I lost my passphrase: start a new identity' }).click();
    await page.getByRole('heading', { name: 'Start a new identity' }).waitFor();
    const warning = page.getByRole('note', { name: 'What a new identity means' });
    expect(await warning.textContent()).toMatch(/cannot be undone/);
    expect(await warning.textContent()).toMatch(/every contact is warned/);
    expect(await warning.textContent()).toMatch(/stay unreadable/);
    // Nothing to submit until the warning is acknowledged.
    expect(await page.getByRole('button', { name: 'Start a new identity' }).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    // Back to the restore form and in again: the acknowledgement does not stay.
    await page.getByRole('button', { name: 'Back: I have my passphrase' }).click();
    await page.getByRole('heading', { name: 'Restore your keys' }).waitFor();
    await page.getByRole('button', { name: 'I lost my passphrase: start a new identity' }).click();

    await page.getByLabel(/I understand: my contacts are warned/).check();
    await page.getByLabel('I have written down my backup passphrase.').check();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'identity-reset');
    await page.getByRole('button', { name: 'Start a new identity' }).click();
    await page.getByRole('heading', { name: 'Hello, bob' }).waitFor({ timeout: 60_000 });
  });

  it('shows alice that bob’s keys changed, and a new safety number once she accepts', async () => {
    const page = alice.page;
    await nav(page, 'Home');
    await openPerson(page, 'bob');
    const warning = page.getByTestId('key-change-warning');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/bob’s security keys changed/);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'identity-reset-key-change');
    await warning.getByRole('button', { name: 'Accept the new keys' }).click();
    await expect.poll(() => page.getByTestId('key-change-warning').count()).toBe(0);
    const numberAfter = await qrOf(page, 'bob');
    expect(numberAfter).toMatch(/^parley:v1:safety:/);
    expect(numberAfter).not.toBe(numberBefore);

    // Bob's new browser computes the same new number.
    await openPerson(bob!.page, 'alice');
    await expect.poll(() => qrOf(bob!.page, 'alice')).toBe(numberAfter);
    for (const browser of [alice, bob!]) expect(browser.problems).toEqual([]);
  });
});
