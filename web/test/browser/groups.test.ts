// Groups and direct conversations in the browser: an admin creates a group with a member, adds,
// promotes and removes people, a member leaves; a direct conversation started from the directory
// shows up with an unread count on the other side.
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

describe('groups and direct conversations', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;
  let dave: Browser;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob, dave] = await Promise.all([
      openBrowser(server),
      openBrowser(server),
      openBrowser(server),
    ]);
  });
  stepwise('groups', () => ({ alice, bob, dave }));
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), dave?.close()]);
    await server?.close();
  });

  it('signs three people up', async () => {
    await Promise.all([
      signUp(alice.page, 'alice', 'alice password here'),
      signUp(bob.page, 'bob', 'bob password is long'),
      signUp(dave.page, 'dave', 'dave uses a passphrase'),
    ]);
  });

  it('creates a group with a member, who sees it and reads it', async () => {
    const a = alice.page;
    await nav(a, 'Home');
    await a.getByRole('link', { name: /New group/ }).click();
    await a.getByLabel(/Group/).check();
    await a.getByLabel('Name', { exact: true }).fill('Book club');
    await a.getByLabel('Members', { exact: true }).fill('bob');
    await a.getByRole('button', { name: 'Create group' }).click();
    await a.getByRole('heading', { level: 1, name: 'Book club' }).waitFor();
    await send(a, 'First book: _Middlemarch_');

    const b = bob.page;
    await b
      .getByTestId('room-list')
      .getByRole('link', { name: /Book club/ })
      .click();
    await messageVisible(b, 'First book: Middlemarch');
  });

  it('lets the admin add, promote and remove, and a member leave', async () => {
    const a = alice.page;
    await a.getByRole('link', { name: 'Members', exact: true }).click();
    const members = a.getByTestId('members');
    await a.getByLabel('Add a member by username').fill('dave');
    await a.getByRole('button', { name: 'Add', exact: true }).click();
    await members.getByText('dave', { exact: true }).waitFor();
    const d = dave.page;
    await d
      .getByTestId('room-list')
      .getByRole('link', { name: /Book club/ })
      .click();
    // Membership changes are lines in the chat, in each reader's words.
    await bob.page
      .getByTestId('membership-line')
      .filter({ hasText: 'Alice added dave' })
      .waitFor({ timeout: 15_000 });
    await d.getByTestId('membership-line').filter({ hasText: 'Alice added you' }).waitFor();

    const bobRow = members.getByRole('listitem').filter({ hasText: 'bob' });
    await bobRow.getByRole('button', { name: 'Make admin' }).click();
    await bobRow.getByText('Admin', { exact: true }).waitFor();
    await screenshot(a, '16-group-members');

    await a.getByRole('button', { name: 'Remove dave' }).click();
    await expect.poll(() => members.getByText('dave', { exact: true }).count()).toBe(0);
    // Dave is told who removed him, keeps what he could read, and can no longer write.
    await d
      .getByTestId('membership-line')
      .filter({ hasText: 'Alice removed you' })
      .waitFor({ timeout: 15_000 });
    await expect(d.getByTestId('removed-notice').textContent()).resolves.toMatch(
      /alice removed you from this group/,
    );
    expect(await d.getByLabel('Message', { exact: true }).isDisabled()).toBe(true);
    await d.getByRole('heading', { level: 1, name: 'Book club' }).waitFor();
    await screenshot(d, '16b-removed-from-group');

    // Bob (now an admin) sees himself as one and leaves.
    const b = bob.page;
    await b.getByRole('link', { name: 'Members', exact: true }).click();
    await b
      .getByTestId('members')
      .getByRole('listitem')
      .filter({ hasText: 'bob (you)' })
      .getByText('Admin', { exact: true })
      .waitFor();
    await b.getByRole('button', { name: 'Leave group' }).click();
    await b.getByRole('alertdialog').getByRole('button', { name: 'Leave', exact: true }).click();
    await b.getByRole('heading', { name: 'Hello, bob' }).waitFor();
    await expect.poll(() => members.getByRole('listitem').count(), { timeout: 15_000 }).toBe(1);
  });

  it('starts a direct conversation from the directory, with an unread count on the other side', async () => {
    const b = bob.page;
    await nav(b, 'People');
    await b.getByLabel('Search people').fill('ali');
    await b.getByRole('button', { name: 'Message alice' }).click();
    await b.getByRole('heading', { level: 1, name: 'alice' }).waitFor();
    await send(b, 'a word in private');

    const a = alice.page;
    await nav(a, 'Home');
    const row = a.getByTestId('room-list').getByRole('link', { name: /bob/ });
    await row.getByLabel('1 unread').waitFor({ timeout: 15_000 });
    await screenshot(a, '17-direct-unread');
    await row.click();
    await messageVisible(a, 'a word in private');
    await expect.poll(() => row.getByLabel(/unread/).count()).toBe(0);
    // Both are online and neither ever chose a status: each shows the other online from the start.
    for (const page of [a, b]) {
      await page.locator('.chat-header .presence.online').waitFor({ timeout: 15_000 });
      await expect
        .poll(() => page.locator('.chat-header .title .muted').textContent())
        .toMatch(/online/);
    }

    for (const browser of [alice, bob, dave]) expect(browser.problems).toEqual([]);
  });

  it('says who in a group has seen a message, and keeps ticks and unread counts over a reload', async () => {
    const a = alice.page;
    await nav(a, 'Home');
    await a.getByRole('link', { name: /New group/ }).click();
    await a.getByLabel(/Group/).check();
    await a.getByLabel('Name', { exact: true }).fill('Readers');
    await a.getByLabel('Members', { exact: true }).fill('bob, dave');
    await a.getByRole('button', { name: 'Create group' }).click();
    await a.getByRole('heading', { level: 1, name: 'Readers' }).waitFor();
    await send(a, 'chapter one');
    const tick = a
      .getByTestId('message')
      .filter({ hasText: 'chapter one' })
      .getByTestId('delivery');

    const d = dave.page;
    await nav(d, 'Home');
    const daveRow = d.getByTestId('room-list').getByRole('link', { name: /Readers/ });
    await daveRow.getByLabel('1 unread').waitFor({ timeout: 15_000 });
    // The count is the server's: a reload (or another browser) shows the same.
    await d.reload();
    await daveRow.getByLabel('1 unread').waitFor({ timeout: 15_000 });

    await bob.page
      .getByTestId('room-list')
      .getByRole('link', { name: /Readers/ })
      .click();
    await messageVisible(bob.page, 'chapter one');
    await expect.poll(() => tick.textContent(), { timeout: 15_000 }).toBe('Seen by 1 of 2');
    expect(await tick.getAttribute('title')).toBe('Seen by bob');
    await a.reload();
    await expect.poll(() => tick.textContent(), { timeout: 15_000 }).toBe('Seen by 1 of 2');

    await daveRow.click();
    await messageVisible(d, 'chapter one');
    await expect.poll(() => tick.textContent(), { timeout: 15_000 }).toBe('Seen by everyone');
    await nav(d, 'Home');
    await d.reload();
    await d
      .getByTestId('room-list')
      .getByRole('link', { name: /Readers/ })
      .waitFor();
    expect(await daveRow.getByLabel(/unread/).count()).toBe(0);
  });

  it('keeps a join request waiting while no member is online, and lets the newcomer in later', async () => {
    const d = dave.page;
    await nav(d, 'Channels');
    await d.getByRole('link', { name: 'Create', exact: true }).click();
    await d.getByLabel('Name', { exact: true }).fill('Night owls');
    await d.getByLabel('Topic', { exact: true }).fill('Talk after midnight');
    await d.getByRole('button', { name: 'Create channel' }).click();
    await d.getByRole('heading', { level: 1, name: 'Night owls' }).waitFor();
    // The only member leaves the app: nobody is online to let a newcomer in.
    await d.goto('about:blank');

    const b = bob.page;
    await nav(b, 'Channels');
    await b.getByLabel('Search channels').fill('night');
    await b.getByRole('button', { name: 'Join Night owls' }).click();
    const pending = b.getByTestId('join-pending');
    await expect
      .poll(() => pending.textContent(), { timeout: 20_000 })
      .toMatch(/Waiting for a member to come online; you will be let in automatically/);
    await screenshot(b, '18-join-pending');

    // The request is the server's, so a reload still shows it; it can be withdrawn and made again.
    await b.reload();
    await b.getByLabel('Search channels').fill('night');
    await b.getByRole('button', { name: 'Cancel request to join Night owls' }).click();
    await b.getByRole('button', { name: 'Join Night owls' }).click();
    await pending.waitFor({ timeout: 20_000 });

    // Dave comes back: his browser lets bob in, and bob is told.
    await d.goto('/');
    await b.getByRole('status').filter({ hasText: 'You were let in to #Night owls.' }).waitFor({
      timeout: 30_000,
    });
    await b
      .getByTestId('room-list')
      .getByRole('link', { name: /Night owls/ })
      .click();
    await send(b, 'hello owls');
    await d
      .getByTestId('room-list')
      .getByRole('link', { name: /Night owls/ })
      .click();
    await messageVisible(d, 'hello owls');
    await d.getByTestId('membership-line').filter({ hasText: 'Bob joined' }).waitFor();
    for (const browser of [alice, bob, dave]) expect(browser.problems).toEqual([]);
  });
});
