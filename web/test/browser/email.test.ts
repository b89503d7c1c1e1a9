// Email and passwords in the browser, with the server mailing a real SMTP server in this process:
// sign up with an address and verify it from the mailed link; forget the password, reset it from
// the mailed link on another browser and log in there with the backup passphrase, while the first
// browser is signed out; change the password in Settings, which signs the other browser out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { link, startMailbox, type Mailbox } from '../../../server/test/mailbox';
import { axeViolations, checkScreen } from './a11y';
import {
  nav,
  openBrowser,
  screenshot,
  startServer,
  type Browser,
  type LiveServer,
} from './harness';

describe('email and password', () => {
  let server: LiveServer;
  let mailbox: Mailbox;
  let laptop: Browser;
  let phone: Browser;

  beforeAll(async () => {
    mailbox = await startMailbox();
    server = await startServer({}, { SMTP_URL: mailbox.url });
    [laptop, phone] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  afterAll(async () => {
    await laptop?.close();
    await phone?.close();
    await server?.close();
    await mailbox?.close();
  });

  /** A mailed link opened in this browser: same path and fragment, on the test server. */
  async function open(page: Page, url: URL): Promise<void> {
    await page.goto(`${url.pathname}${url.hash}`);
  }

  async function logIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto('/');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  let passphrase = '';

  it('signs up with an email and verifies it from the mailed link', async () => {
    const page = laptop.page;
    await page.goto('/');
    await page.getByRole('tab', { name: 'Create account' }).click();
    await page.getByLabel('Username').fill('mira');
    await page.getByLabel('Password', { exact: true }).fill('mira has a long password');
    const email = page.getByLabel('Email (optional)');
    await email.fill('mira@');
    await expect.poll(() => email.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Create account' }).isDisabled()).toBe(true);
    await email.fill('Mira@Example.ORG');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Set up your backup passphrase' }).waitFor();
    passphrase = await page
      .getByRole('textbox', { name: 'Backup passphrase', exact: true })
      .inputValue();
    await page.getByLabel('I have written down my backup passphrase.').check();
    await page.getByRole('button', { name: 'Save encrypted backup' }).click();
    await page.getByRole('heading', { name: 'Hello, mira' }).waitFor({ timeout: 60_000 });

    await nav(page, 'Settings');
    const status = page.getByTestId('email-status');
    await expect.poll(() => status.textContent()).toMatch(/Mira@example\.org\s*Not verified/);

    const mail = await mailbox.next('mira@example.org');
    await open(page, link(mail, 'verify-email'));
    await page.getByRole('status').filter({ hasText: 'is verified' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'email-verified');
    await page.getByRole('link', { name: 'Open Parley' }).click();
    await nav(page, 'Settings');
    await expect.poll(() => status.textContent()).toMatch(/Mira@example\.org\s*Verified/);
    // A link opens once.
    await open(page, link(mail, 'verify-email'));
    await page.getByRole('alert').filter({ hasText: 'used already' }).waitFor();
  });

  it('resets a forgotten password from the mail; every session ends, the passphrase restores', async () => {
    const page = phone.page;
    await page.goto('/');
    await page.getByRole('button', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    const field = page.getByLabel('Username or email');
    // The field has the focus, so typing goes there.
    await expect
      .poll(() => field.evaluate((element) => element === document.activeElement))
      .toBe(true);
    await page.keyboard.type('mira@example.org');
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('status').filter({ hasText: 'If an account' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);

    const mail = await mailbox.next('mira@example.org');
    expect(mail.text).toMatch(/backup passphrase/);
    await open(page, link(mail, 'reset-password'));
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page
      .getByRole('note', { name: 'About your messages' })
      .getByText('backup passphrase')
      .waitFor();
    expect(await page.getByRole('note').textContent()).toMatch(/new identity/);
    await page.getByLabel('New password', { exact: true }).fill('short');
    await page.getByLabel('New password again').fill('short');
    // The form waits for the server's minimum length.
    expect(await page.getByRole('button', { name: 'Set new password' }).isDisabled()).toBe(true);
    await page.getByLabel('New password', { exact: true }).fill('mira has a new password');
    await page.getByLabel('New password again').fill('mira has a new passwor');
    await page.getByText('The two passwords differ.').waitFor();
    await page.getByLabel('New password again').fill('mira has a new password');
    // Readable and usable at desktop and phone width, light and dark.
    const report = await checkScreen(page, 'reset-password');
    expect(report.first).toBe('Skip to main content');
    expect([...report.overflow, ...report.violations]).toEqual([]);
    await page.setViewportSize({ width: 1180, height: 780 });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'every session of your account is signed out' })
      .waitFor();

    // The laptop's session ended with it.
    await laptop.page.getByRole('tab', { name: 'Log in' }).waitFor();
    await laptop.page.getByText('You were signed out. Log in again.').waitFor();

    // The old password no longer works (the laptop, which holds the keys, asks the server at once).
    await logIn(laptop.page, 'mira', 'mira has a long password');
    await laptop.page
      .getByRole('alert')
      .filter({ hasText: 'Wrong username or password' })
      .waitFor();
    // On this new browser the new password works, and the backup passphrase brings the keys.
    await logIn(page, 'mira', 'mira has a new password');
    await page.getByRole('heading', { name: 'Restore your keys' }).waitFor();
    await page.getByLabel('Backup passphrase').fill(passphrase);
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('heading', { name: 'Hello, mira' }).waitFor({ timeout: 60_000 });
  });

  it('changes the password in Settings, signing the other browser out', async () => {
    await logIn(laptop.page, 'mira', 'mira has a new password');
    await laptop.page.getByRole('heading', { name: 'Hello, mira' }).waitFor({ timeout: 60_000 });

    const page = phone.page;
    await nav(page, 'Settings');
    const section = page.getByRole('region', { name: 'Password' });
    await section.getByLabel('Current password').fill('not my password at all');
    await section.getByLabel('New password', { exact: true }).fill('mira third password');
    await section.getByLabel('New password again').fill('mira third password');
    await section.getByRole('button', { name: 'Change password' }).click();
    await section.getByRole('alert').filter({ hasText: 'not your current password' }).waitFor();

    await section.getByLabel('Current password').fill('mira has a new password');
    await section.getByRole('button', { name: 'Change password' }).click();
    await section
      .getByRole('status')
      .filter({ hasText: 'One other session was signed out; you stay signed in here.' })
      .waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await laptop.page.getByText('You were signed out. Log in again.').waitFor();
    // This browser is still signed in.
    await nav(page, 'Home');
    await page.getByRole('heading', { name: 'Hello, mira' }).waitFor();
    // Nothing went wrong but the refusals this test asked for: a spent link (410), the old
    // password (401) and a wrong current password (403).
    const provoked = /status of (401|403|410) /;
    const problems = [...laptop.problems, ...phone.problems];
    expect(problems.filter((problem) => !provoked.test(problem))).toEqual([]);
  });
});
