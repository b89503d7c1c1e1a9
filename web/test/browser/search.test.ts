// Search in the browser: the sidebar's box (Ctrl+K or "/") searches this browser's history
// across rooms, results grouped by room with the matched words marked; Enter opens the room at
// the message, loaded with what surrounds it even when it is far back, highlighted and focused.
// The room header's search keeps to that room; a deleted message is no longer found.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './a11y';
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

describe('search', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  stepwise('search', () => ({ alice, bob }));
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.close();
  });

  async function createGroup(name: string) {
    const a = alice.page;
    await nav(a, 'Home');
    await a.getByRole('link', { name: /New group/ }).click();
    await a.getByLabel(/Group/).check();
    await a.getByLabel('Name', { exact: true }).fill(name);
    await a.getByLabel('Members', { exact: true }).fill('bob');
    await a.getByRole('button', { name: 'Create group' }).click();
    await a.getByRole('heading', { level: 1, name }).waitFor();
  }

  it('finds messages across rooms from the sidebar, grouped by room, the match marked', async () => {
    await Promise.all([
      signUp(alice.page, 'alice', 'alice password here'),
      signUp(bob.page, 'bob', 'bob password is long'),
    ]);
    const a = alice.page;
    await createGroup('Garden');
    await send(a, 'the tulip bulbs arrive on friday');
    // Far more after it than the first page of a room holds: opening it must load around it.
    for (let i = 1; i <= 55; i++) await send(a, `filler ${i}`);
    await messageVisible(a, 'filler 55');
    await createGroup('Allotment');
    await send(a, 'tulip fever has reached the allotment');
    await messageVisible(a, 'tulip fever');

    const b = bob.page;
    const box = b.getByRole('combobox', { name: 'Search messages' });
    await expect
      .poll(() => b.getByTestId('room-list').getByRole('link').count(), { timeout: 30_000 })
      .toBe(2);
    await b.keyboard.press('Control+k');
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
    await box.fill('tulip');
    const results = b.getByRole('listbox', { name: 'Search results' });
    await expect.poll(() => results.getByTestId('search-hit').count(), { timeout: 30_000 }).toBe(2);
    const groups = results.getByRole('group');
    expect(await groups.count()).toBe(2);
    expect(
      await groups.filter({ hasText: 'Garden' }).getByTestId('search-hit').textContent(),
    ).toContain('the tulip bulbs arrive on friday');
    expect(await results.locator('mark').allTextContents()).toEqual(['tulip', 'tulip']);
    expect(await box.getAttribute('aria-expanded')).toBe('true');
    expect(await box.getAttribute('aria-activedescendant')).toMatch(/hit-0$/);
    await screenshot(b, 'search-results');
    // The open combobox and its grouped results pass axe-core's serious and critical rules.
    expect(await axeViolations(b)).toEqual([]);
  });

  it('opens a result in its room, with its context, highlighted and focused', async () => {
    const b = bob.page;
    const box = b.getByRole('combobox', { name: 'Search messages' });
    await box.fill('bulbs fri');
    await expect.poll(() => b.getByTestId('search-hit').count()).toBe(1);
    await box.press('Enter');
    await b.getByRole('heading', { level: 1, name: 'Garden' }).waitFor();
    expect(b.url()).toMatch(/\/rooms\/[0-9a-f]{32}\?message=[0-9a-f]{32}&seq=\d+$/);
    const highlighted = b.getByTestId('highlighted-message');
    await highlighted.waitFor();
    expect(await highlighted.textContent()).toContain('the tulip bulbs arrive on friday');
    await expect
      .poll(() => highlighted.evaluate((el) => el.contains(document.activeElement)))
      .toBe(true);
    // What came after it is there to read, and the newest messages below.
    await messageVisible(b, 'filler 1');
    await messageVisible(b, 'filler 2');
    const box2 = await highlighted.boundingBox();
    const log = await b.getByTestId('messages').boundingBox();
    expect(box2!.y).toBeGreaterThanOrEqual(log!.y);
    expect(box2!.y + box2!.height).toBeLessThanOrEqual(log!.y + log!.height);
  });

  it('searches one room from its header, and "/" reaches the sidebar box', async () => {
    const b = bob.page;
    await b.getByRole('button', { name: 'Search in this room' }).click();
    const inRoom = b.getByRole('combobox', { name: 'Search in Garden' });
    await expect.poll(() => inRoom.evaluate((el) => el === document.activeElement)).toBe(true);
    await inRoom.fill('tulip');
    const hits = b.getByTestId('room-search').getByTestId('search-hit');
    await expect.poll(() => hits.count()).toBe(1);
    expect(await hits.textContent()).toContain('bulbs');
    await inRoom.press('Escape');
    await inRoom.press('Escape');
    expect(await b.getByRole('combobox', { name: 'Search in Garden' }).count()).toBe(0);

    await nav(b, 'Home');
    // Once the page is there: a navigation that completes later moves the focus itself.
    await b.getByRole('heading', { name: 'Hello, bob' }).waitFor();
    await b.keyboard.press('/');
    const box = b.getByRole('combobox', { name: 'Search messages' });
    await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
  });

  it('no longer finds a message its author deleted', async () => {
    const a = alice.page;
    await a
      .getByTestId('room-list')
      .getByRole('link', { name: /Allotment/ })
      .click();
    const message = a.getByTestId('message').filter({ hasText: 'tulip fever' });
    await message.hover();
    await a.getByRole('button', { name: 'Delete', exact: true }).click();
    await a.getByRole('button', { name: 'Delete for everyone' }).click();
    await a.getByText('This message was deleted.').waitFor();

    const b = bob.page;
    const box = b.getByRole('combobox', { name: 'Search messages' });
    await box.fill('tulip');
    // Until the deletion arrives both rooms' messages are found; then only the garden's.
    await expect
      .poll(
        async () => {
          await box.fill('');
          await box.fill('tulip');
          await new Promise((done) => setTimeout(done, 300));
          return b.getByTestId('search-hit').allTextContents();
        },
        { timeout: 30_000 },
      )
      .toEqual([expect.stringContaining('the tulip bulbs arrive on friday')]);
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  });
});
