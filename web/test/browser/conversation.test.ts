// Two people in two browsers: sign up, a channel found by topic, real-time chat both ways, hostile
// text shown as text, a reload that keeps the session, and a third browser restoring the first
// person from the passphrase and reading the history. Screenshots of every main screen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Browser,
  type LiveServer,
  messageVisible,
  nav,
  openBrowser,
  screenshot,
  send,
  signUp,
  startServer,
  stepwise,
} from './harness';

const PASSWORD_A = 'alice has a long password';
const PASSWORD_B = 'bob has another long one';
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">Garden';
const HOSTILE_MESSAGES = [
  '<script>window.__pwned = 1</script>',
  '<img src=x onerror="window.__pwned = 1">',
  '[click me](javascript:window.__pwned=1)',
  '<a href="javascript:window.__pwned=1">link</a>',
];

describe('a conversation in two browsers', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;
  let restored: Browser | undefined;
  let passphraseA = '';

  beforeAll(async () => {
    server = await startServer();
    alice = await openBrowser(server);
    bob = await openBrowser(server);
  });
  stepwise('conversation', () => ({ alice, bob, restored }));
  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await restored?.close();
    await server?.close();
  });

  it('signs both people up and sets their passphrases', async () => {
    [passphraseA] = await Promise.all([
      signUp(alice.page, 'alice', PASSWORD_A),
      signUp(bob.page, 'bob', PASSWORD_B),
    ]);
  });

  it('lets alice create a channel and bob find it by topic and join', async () => {
    const a = alice.page;
    await nav(a, 'Channels');
    await a.getByRole('link', { name: 'Create', exact: true }).click();
    await a.getByLabel('Name', { exact: true }).fill(HOSTILE_NAME);
    await a.getByLabel('Topic', { exact: true }).fill('Tomatoes, herbs and <b>other</b> plants');
    await a.getByLabel('Tags', { exact: true }).fill('plants, outdoors');
    await screenshot(a, '06-create-channel');
    await a.getByRole('button', { name: 'Create channel' }).click();
    await a.getByRole('heading', { level: 1, name: HOSTILE_NAME }).waitFor();

    const b = bob.page;
    await nav(b, 'Channels');
    await b.getByLabel('Search channels').fill('tomatoes');
    const result = b.getByTestId('channel-results').getByRole('listitem').first();
    await expect.poll(() => result.textContent()).toContain(HOSTILE_NAME);
    await screenshot(b, '07-channel-browser');
    await b.getByRole('button', { name: `Join ${HOSTILE_NAME}` }).click();
    await b.getByRole('heading', { level: 1, name: HOSTILE_NAME }).waitFor({ timeout: 60_000 });
  });

  it('carries messages both ways in real time, with typing and delivery state', async () => {
    await send(alice.page, 'Hello **bob**, welcome to the _garden_');
    await messageVisible(bob.page, 'Hello bob, welcome to the garden');
    expect(await bob.page.getByTestId('messages').locator('strong').last().textContent()).toBe(
      'bob',
    );

    await bob.page.getByRole('textbox', { name: 'Message', exact: true }).fill('typing something');
    await alice.page.getByText('bob is typing…').waitFor();
    await bob.page.getByRole('textbox', { name: 'Message', exact: true }).fill('');
    await send(bob.page, 'Hi alice! `code` and a link https://example.org/tomatoes');
    await messageVisible(alice.page, 'Hi alice! code and a link https://example.org/tomatoes');
    const link = alice.page.getByRole('link', { name: 'https://example.org/tomatoes' });
    expect(await link.getAttribute('href')).toBe('https://example.org/tomatoes');

    const ownLast = alice.page.getByTestId('message').first();
    await expect.poll(() => ownLast.getAttribute('data-delivery')).toMatch(/sent|delivered|seen/);
    await screenshot(alice.page, '08-chat');
    await screenshot(bob.page, '09-chat-other-side');
  });

  it('replies, reacts, edits and deletes, and an admin deletes another’s message', async () => {
    const a = alice.page;
    const b = bob.page;
    const bubbles = (page: typeof a, text: string) =>
      page
        .locator('.bubbles')
        .filter({ has: page.getByTestId('message').filter({ hasText: text }) })
        .last();
    const action = async (page: typeof a, text: string, name: string) => {
      const around = bubbles(page, text);
      await around.hover();
      await around.getByRole('button', { name, exact: true }).click();
    };

    await action(b, 'Hello bob, welcome to the garden', 'Reply');
    await b.getByTestId('composing').getByText('Replying to alice').waitFor();
    await send(b, 'thanks for having me');
    const reply = a.getByTestId('message').filter({ hasText: 'thanks for having me' });
    await reply.getByTestId('quote').filter({ hasText: 'Hello bob, welcome' }).waitFor();

    await action(a, 'thanks for having me', 'React 👍');
    await bubbles(b, 'thanks for having me')
      .getByRole('button', { name: '👍 1: alice' })
      .waitFor({ timeout: 15_000 });

    await action(b, 'thanks for having me', 'Edit');
    const composer = b.getByRole('textbox', { name: 'Message', exact: true });
    await composer.fill('thanks a lot for having me');
    await composer.press('Enter');
    await a
      .getByTestId('message')
      .filter({ hasText: 'thanks a lot for having me' })
      .getByText('(edited)')
      .waitFor({ timeout: 15_000 });
    await screenshot(a, '09b-reply-reaction-edit');

    await action(b, 'thanks a lot for having me', 'Delete');
    await bubbles(b, 'thanks a lot for having me')
      .getByRole('button', { name: 'Delete for everyone' })
      .click();
    await a.getByText('This message was deleted.').waitFor({ timeout: 15_000 });
    expect(await a.getByTestId('messages').textContent()).not.toContain('thanks a lot');

    // Alice made the channel, so she is its admin: she may delete what bob says.
    await send(b, 'an ad for something nobody wants');
    await messageVisible(a, 'an ad for something nobody wants');
    await action(a, 'an ad for something nobody wants', 'Delete');
    await bubbles(a, 'an ad for something nobody wants')
      .getByRole('button', { name: 'Delete for everyone' })
      .click();
    await b.getByText('Deleted by alice.').waitFor({ timeout: 15_000 });
    expect(await b.getByTestId('messages').textContent()).not.toContain('an ad for something');
    // From the keyboard: the arrows go from message to message, and Tab reaches the actions.
    await b.getByTestId('messages').focus();
    const focusedText = () =>
      b.evaluate(() => {
        const focused = document.activeElement;
        if (!focused?.classList.contains('bubbles')) return '';
        return focused.querySelector('.bubble')?.textContent ?? '';
      });
    for (
      let step = 0;
      step < 10 && !(await focusedText()).trim().startsWith('Hello bob, welcome');
      step++
    ) {
      await b.keyboard.press('ArrowUp');
    }
    await b.keyboard.press('Tab');
    expect(await b.evaluate(() => document.activeElement?.textContent)).toBe('Reply');
    // Bob is no admin: he has no Delete on alice's messages.
    await bubbles(b, 'Hello bob, welcome to the garden').hover();
    expect(
      await bubbles(b, 'Hello bob, welcome to the garden')
        .getByRole('button', { name: 'Delete', exact: true })
        .count(),
    ).toBe(0);
  });

  it('shows HTML, script and javascript: payloads as text and runs nothing', async () => {
    for (const payload of HOSTILE_MESSAGES) await send(bob.page, payload);
    for (const payload of HOSTILE_MESSAGES.slice(0, 2)) await messageVisible(alice.page, payload);
    await messageVisible(alice.page, '[click me](javascript:window.__pwned=1)');
    for (const page of [alice.page, bob.page]) {
      const messages = page.getByTestId('messages');
      expect(await messages.locator('script, img, iframe, svg').count()).toBe(0);
      const hrefs = await messages
        .locator('a')
        .evaluateAll((links) => links.map((link) => link.getAttribute('href')));
      expect(hrefs.every((href) => href !== null && /^(https?|mailto):/.test(href))).toBe(true);
      expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
      // The channel name holding markup is text in the sidebar and the header too.
      expect(await page.locator('img').count()).toBe(0);
    }
    await screenshot(alice.page, '10-hostile-text');
  });

  it('collapses a long message behind "Show more" and shows where a misleading link goes', async () => {
    await send(bob.page, `${'a long paste '.repeat(120)}the end of it`);
    const long = alice.page.getByTestId('message').filter({ hasText: 'the end of it' }).first();
    await long.waitFor({ timeout: 30_000 });
    const more = long.getByRole('button', { name: 'Show more' });
    expect(await more.getAttribute('aria-expanded')).toBe('false');
    const collapsed = (await long.boundingBox())!.height;
    await more.click();
    const less = long.getByRole('button', { name: 'Show less' });
    expect(await less.getAttribute('aria-expanded')).toBe('true');
    await expect.poll(async () => (await long.boundingBox())!.height).toBeGreaterThan(collapsed);

    await send(bob.page, '[https://bank.example/login](https://evil.example/steal)');
    const phishing = alice.page.getByTestId('message').filter({ hasText: 'bank.example' }).first();
    await phishing.waitFor({ timeout: 30_000 });
    expect(await phishing.locator('.link-target').textContent()).toBe(
      ' (goes to https://evil.example/steal)',
    );
    expect(await phishing.locator('a').getAttribute('title')).toBe('https://evil.example/steal');
    await screenshot(alice.page, '10b-long-message-and-link-target');
  });

  it('keeps the session and the history over a reload', async () => {
    await alice.page.reload();
    await alice.page.getByRole('heading', { level: 1, name: HOSTILE_NAME }).waitFor();
    await messageVisible(alice.page, 'Hello bob, welcome to the garden');
    await messageVisible(alice.page, '<script>window.__pwned = 1</script>');
    await send(bob.page, 'after the reload');
    await messageVisible(alice.page, 'after the reload');
  });

  it('restores alice on a third browser from the passphrase, with the history', async () => {
    restored = await openBrowser(server, { width: 390, height: 780, colorScheme: 'dark' });
    const page = restored.page;
    await page.goto('/');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD_A);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Backup passphrase').fill(passphraseA);
    await page.getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('heading', { name: 'Your rooms' }).waitFor({ timeout: 60_000 });
    await screenshot(page, '11-phone-rooms');
    await page.getByTestId('room-list').getByRole('link').first().click();
    await messageVisible(page, 'after the reload');
    await screenshot(page, '12-phone-chat-dark');
    // The whole history is there: the first message, at the top of a list that draws only the
    // rows on screen.
    await page.getByTestId('messages').evaluate((element) => (element.scrollTop = 0));
    await messageVisible(page, 'Hello bob, welcome to the garden');
  });

  it('loads older history when scrolled to the top', async () => {
    // More than one page (40) of messages, then a fresh load shows the newest and pages back.
    for (let i = 1; i <= 45; i++) await send(bob.page, `counting ${i}`);
    await messageVisible(alice.page, 'counting 45');
    await alice.page.reload();
    await messageVisible(alice.page, 'counting 45');
    // The list is virtualised: only what is on screen (and a little around) is in the page.
    expect(await alice.page.getByTestId('message').count()).toBeLessThan(45);
    const list = alice.page.getByTestId('messages');
    await list.evaluate((element) => (element.scrollTop = 0));
    // The older page is added above what was on screen, which stays in place (not at the top).
    await expect
      .poll(() => list.evaluate((element) => element.scrollTop), { timeout: 15_000 })
      .toBeGreaterThan(100);
    // Reaching the start adds the room's first membership lines above, in place as well.
    const start = alice.page.getByText('This is the beginning of the conversation.');
    for (let step = 0; step < 20 && !(await start.isVisible()); step++) {
      await list.evaluate((element) => (element.scrollTop = 0));
      await alice.page.waitForTimeout(100);
    }
    await start.waitFor();
    await messageVisible(alice.page, 'Hello bob, welcome to the garden');
    // The first of the counted messages is further down, among the rows the list mounts on scroll.
    const first = alice.page.getByText('counting 1', { exact: true });
    for (let step = 0; step < 40 && (await first.count()) === 0; step++) {
      await list.evaluate((element) => (element.scrollTop += 250));
      await alice.page.waitForTimeout(50);
    }
    await first.waitFor();
  });

  it('shows the directory, a safety number, members and settings', async () => {
    const a = alice.page;
    await nav(a, 'People');
    await a.getByLabel('Search people').fill('bo');
    await a.getByTestId('people-results').getByRole('link', { name: /bob/ }).click();
    const digits = a.getByTestId('safety-number').getByRole('listitem');
    await expect.poll(() => digits.count()).toBe(12);
    await screenshot(a, '13-safety-number');
    await a.getByRole('button', { name: 'The numbers match: mark as verified' }).click();
    await a.getByTestId('verified-badge').waitFor();

    // Bob sees the same digits for alice.
    const b = bob.page;
    await nav(b, 'People');
    await b.getByLabel('Search people').fill('ali');
    await b.getByTestId('people-results').getByRole('link', { name: /alice/ }).click();
    const bobDigits = b.getByTestId('safety-number').getByRole('listitem');
    await expect.poll(() => bobDigits.count()).toBe(12);
    expect(await bobDigits.allTextContents()).toEqual(await digits.allTextContents());

    await a.getByTestId('room-list').getByRole('link').first().click();
    await a.getByRole('link', { name: 'Members' }).click();
    await a.getByTestId('members').getByText('Admin', { exact: true }).waitFor();
    await screenshot(a, '14-members');
    await nav(a, 'Settings');
    await a.getByRole('heading', { name: 'Backup passphrase' }).waitFor();
    await a.getByLabel('Display name').fill('Alice <b>A.</b>');
    await a.getByLabel('Status message').fill('Watering the <script>tomatoes</script>');
    await a.getByRole('button', { name: 'Save profile' }).click();
    await a.getByText('Saved.').waitFor();
    await screenshot(a, '15-settings');

    // Bob finds alice under her new display name, shown as text.
    await nav(b, 'People');
    await b.getByLabel('Search people').fill('ali');
    await b.getByTestId('people-results').getByText('Alice <b>A.</b>').waitFor();
    expect(await b.getByTestId('people-results').locator('b').count()).toBe(0);

    for (const browser of [alice, bob, restored!]) expect(browser.problems).toEqual([]);
  });
});
