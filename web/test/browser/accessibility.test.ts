// Every main flow on a phone-sized window with the keyboard alone: sign up, browse and join a
// channel, open a room and send, create a group, people and a person, settings, log in on a new
// browser. Each screen on the way is also checked at desktop and phone width: a screenshot, nothing
// wider than the window, and no serious or critical axe-core violation.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  checkScreen,
  DESKTOP,
  focused,
  hasFocus,
  horizontalOverflow,
  PHONE,
  tabTo,
} from './a11y';
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

const PASSWORD_ALICE = 'alice types a long password';
const PASSWORD_BOB = 'bob has a long password too';

describe('keyboard, phone width and accessibility', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;
  let later: Browser | undefined;
  let passphrase = '';

  beforeAll(async () => {
    server = await startServer();
    alice = await openBrowser(server, PHONE);
    bob = await openBrowser(server, DESKTOP);
  });
  stepwise('accessibility', () => ({ alice, bob, later }));
  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await later?.close();
    await server?.close();
  });

  /**
   * The screen passes at both widths: the skip link comes first, nothing overflows, axe finds
   * nothing serious.
   */
  async function screenPasses(page: Page, screen: string): Promise<void> {
    const report = await checkScreen(page, screen);
    expect(report.first, `${screen}: first in the tab order`).toBe('Skip to main content');
    expect(report.overflow, `${screen}: wider than the window`).toEqual([]);
    expect(report.violations, `${screen}: axe`).toEqual([]);
  }

  /** Types into the field with focus, checking it is the one meant. */
  async function typeInto(page: Page, field: Locator, text: string): Promise<void> {
    await tabTo(page, field);
    await page.keyboard.type(text);
  }

  async function activate(page: Page, control: Locator, options = {}): Promise<void> {
    await tabTo(page, control, options);
    await page.keyboard.press('Enter');
  }

  const composerOf = (page: Page) => page.getByRole('textbox', { name: 'Message', exact: true });

  async function expectComposerFocused(page: Page): Promise<void> {
    await expect
      .poll(async () => ((await hasFocus(composerOf(page))) ? 'composer' : await focused(page)))
      .toBe('composer');
  }

  it('starts every screen with a skip link that shows when focused', async () => {
    const page = alice.page;
    await page.goto('/');
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to main content' });
    expect(await hasFocus(skip)).toBe(true);
    const box = await skip.boundingBox();
    expect(box !== null && box.y >= 0 && box.x >= 0 && box.width > 0).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    expect(page.url()).not.toContain('main');
    await screenPasses(page, 'log-in');
  });

  it('signs up with the keyboard alone', async () => {
    const page = alice.page;
    await activate(page, page.getByRole('tab', { name: 'Create account' }));
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await typeInto(page, page.getByLabel('Username'), 'alice');
    await typeInto(page, page.getByLabel('Password', { exact: true }), PASSWORD_ALICE);
    await screenPasses(page, 'sign-up');
    await page.keyboard.press('Enter');

    await page.getByRole('heading', { name: 'Set up your backup passphrase' }).waitFor();
    const shown = page.getByRole('textbox', { name: 'Backup passphrase', exact: true });
    passphrase = await shown.inputValue();
    // All of it in sight to write down, not scrolled out of a one-line field.
    expect(await shown.evaluate((field) => field.scrollWidth <= field.clientWidth)).toBe(true);
    await screenPasses(page, 'passphrase-set-up');
    await tabTo(page, page.getByLabel('I have written down my backup passphrase.'));
    await page.keyboard.press('Space');
    await activate(page, page.getByRole('button', { name: 'Save encrypted backup' }));
    // On a phone the home screen starts with the room list and the navigation.
    await page.getByRole('heading', { name: 'Your rooms' }).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Hello, alice' }).waitFor();
    await screenPasses(page, 'home');
  });

  it('browses channels and joins one, landing in its composer', async () => {
    await signUp(bob.page, 'bob', PASSWORD_BOB);
    const b = bob.page;
    await nav(b, 'Channels');
    await b.getByRole('link', { name: 'Create', exact: true }).click();
    await b.getByLabel('Name', { exact: true }).fill('Readers');
    await b.getByLabel('Topic', { exact: true }).fill('Books and reading');
    await b.getByLabel('Tags', { exact: true }).fill('books');
    await b.getByRole('button', { name: 'Create channel' }).click();
    await b.getByRole('heading', { level: 1, name: 'Readers' }).waitFor();

    const page = alice.page;
    await activate(page, page.getByRole('link', { name: 'Channels', exact: true }));
    await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();
    await typeInto(page, page.getByLabel('Search channels'), 'books');
    await page.getByRole('button', { name: 'Join Readers' }).waitFor();
    await screenPasses(page, 'channels');
    await activate(page, page.getByRole('button', { name: 'Join Readers' }));
    await page.getByRole('heading', { level: 1, name: 'Readers' }).waitFor({ timeout: 60_000 });
    await expectComposerFocused(page);
    await page.keyboard.type('Hello from the keyboard');
    await page.keyboard.press('Enter');
    await messageVisible(b, 'Hello from the keyboard');
    await messageVisible(page, 'Hello from the keyboard');
    // Text with no place to break still fits a phone.
    await page.keyboard.type(
      `See https://example.org/${'long-path/'.repeat(12)} and ${'x'.repeat(80)}`,
    );
    await page.keyboard.press('Enter');
    await messageVisible(page, 'long-path/long-path/');

    // More than a screen of replies: the history (a scrolling box, which Chromium puts in the tab
    // order) scrolls back with the keyboard.
    for (let reply = 1; reply <= 30; reply++) await send(b, `Reply number ${reply}`);
    await messageVisible(page, 'Reply number 30');
    const history = page.getByTestId('messages');
    await tabTo(page, history, { backwards: true });
    const bottom = await history.evaluate((element) => element.scrollTop);
    await page.keyboard.press('PageUp');
    await expect
      .poll(() => history.evaluate((element) => element.scrollTop))
      .toBeLessThan(bottom - 200);
    await screenPasses(page, 'chat');
  });

  it('opens the members of a room and goes back, by keyboard', async () => {
    const page = alice.page;
    await activate(page, page.getByRole('link', { name: 'Members' }), { backwards: true });
    await page.getByTestId('members').getByText('bob').waitFor();
    await screenPasses(page, 'members');
    await activate(page, page.getByRole('link', { name: 'Back to the conversation' }));
    await expectComposerFocused(page);
  });

  it('reaches the navigation from the menu button and creates a group', async () => {
    const page = alice.page;
    await activate(page, page.getByRole('link', { name: 'Back to rooms' }), { backwards: true });
    await activate(page, page.getByRole('link', { name: 'Channels', exact: true }));
    await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();
    await activate(page, page.getByRole('link', { name: 'Create', exact: true }));
    await page.getByRole('heading', { name: 'New room' }).waitFor();
    await screenPasses(page, 'new-room');
    await tabTo(page, page.getByRole('radio', { name: /Channel/ }));
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('radio', { name: /Group/ }).isChecked()).toBe(true);
    await typeInto(page, page.getByLabel('Name', { exact: true }), 'Book club');
    await typeInto(page, page.getByLabel('Members', { exact: true }), 'bob');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Book club' }).waitFor({ timeout: 30_000 });
    await expectComposerFocused(page);
    await page.keyboard.type('Welcome to the club');
    await page.keyboard.press('Enter');
    await messageVisible(page, 'Welcome to the club');
  });

  it('opens a room from the room list and sends a message', async () => {
    const page = alice.page;
    // Elsewhere than the chat, the navigation is behind the menu button on a phone.
    await activate(page, page.getByRole('link', { name: 'Back to rooms' }), { backwards: true });
    await activate(page, page.getByRole('link', { name: 'Settings', exact: true }));
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    // After a navigation the first Tab lands on the skip link, as on every screen.
    await page.keyboard.press('Tab');
    expect(await hasFocus(page.getByRole('link', { name: 'Skip to main content' }))).toBe(true);
    const menu = page.getByRole('button', { name: 'Menu' });
    const navigation = page.getByRole('navigation', { name: 'Main' });
    expect(await navigation.isVisible()).toBe(false);
    await activate(page, menu);
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    expect(await navigation.isVisible()).toBe(true);
    await screenshot(page, 'a11y-menu-open-phone');
    expect(await horizontalOverflow(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    // Escape closes it, back onto the button.
    await page.keyboard.press('Escape');
    expect(await navigation.isVisible()).toBe(false);
    expect(await hasFocus(menu)).toBe(true);
    await page.keyboard.press('Enter');
    await activate(page, navigation.getByRole('link', { name: /Readers/ }));
    await page.getByRole('heading', { level: 1, name: 'Readers' }).waitFor();
    await expectComposerFocused(page);
    await page.keyboard.type('Sent from the room list');
    await page.keyboard.press('Enter');
    await messageVisible(bob.page, 'Sent from the room list');
  });

  it('finds a person, opens their page and starts a conversation', async () => {
    const page = alice.page;
    await activate(page, page.getByRole('link', { name: 'Back to rooms' }), { backwards: true });
    await activate(page, page.getByRole('link', { name: 'People', exact: true }));
    await page.getByRole('heading', { name: 'People', level: 1 }).waitFor();
    await typeInto(page, page.getByLabel('Search people'), 'bo');
    const bobLink = page.getByTestId('people-results').getByRole('link', { name: /bob/ });
    await bobLink.waitFor();
    await screenPasses(page, 'people');
    await activate(page, bobLink);
    await page.getByTestId('safety-number').getByRole('listitem').nth(11).waitFor();
    await screenPasses(page, 'person');
    await activate(page, page.getByRole('button', { name: 'Message', exact: true }));
    await page.getByRole('heading', { level: 1, name: 'bob' }).waitFor({ timeout: 30_000 });
    await expectComposerFocused(page);
  });

  it('changes settings with the keyboard', async () => {
    const page = alice.page;
    await activate(page, page.getByRole('link', { name: 'Back to rooms' }), { backwards: true });
    await activate(page, page.getByRole('link', { name: 'Settings', exact: true }));
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await screenPasses(page, 'settings');
    await typeInto(page, page.getByLabel('Display name'), 'Alice K.');
    await activate(page, page.getByRole('button', { name: 'Save profile' }));
    await page.getByText('Saved.').waitFor();
  });

  it('logs in on a new browser and restores with the keyboard alone', async () => {
    later = await openBrowser(server, PHONE);
    const page = later.page;
    await page.goto('/');
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await typeInto(page, page.getByLabel('Username'), 'alice');
    await typeInto(page, page.getByLabel('Password', { exact: true }), PASSWORD_ALICE);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Restore your keys' }).waitFor();
    await screenPasses(page, 'restore');
    const field = page.getByLabel('Backup passphrase');
    await typeInto(page, field, 'not the words of the backup');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'does not open' }).waitFor({ timeout: 60_000 });
    await screenPasses(page, 'restore-refused');
    // Refused, the field is there to correct: select what was typed and type it again.
    await tabTo(page, field);
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(passphrase);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your rooms' }).waitFor({ timeout: 60_000 });
    await activate(page, page.getByTestId('room-list').getByRole('link', { name: /Readers/ }));
    await expectComposerFocused(page);
    await messageVisible(page, 'Sent from the room list');

    for (const browser of [alice, bob, later]) expect(browser.problems).toEqual([]);
  });
});
