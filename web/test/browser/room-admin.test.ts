// Room administration in the browser: an admin bans a channel member, who is refused when asking
// back until the ban is lifted; renames a group and edits its topic, which a member sees live,
// then deletes it after a second, confirming step; it disappears for the member with a notice.
// A member is offered none of this.
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

describe('room administration', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  stepwise('room-admin', () => ({ alice, bob }));
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.close();
  });

  it('makes a group with a member', async () => {
    await Promise.all([
      signUp(alice.page, 'alice', 'alice password here'),
      signUp(bob.page, 'bob', 'bob password is long'),
    ]);
    const a = alice.page;
    await nav(a, 'Home');
    await a.getByRole('link', { name: /New group/ }).click();
    await a.getByLabel(/Group/).check();
    await a.getByLabel('Name', { exact: true }).fill('Book club');
    await a.getByLabel('Members', { exact: true }).fill('bob');
    await a.getByRole('button', { name: 'Create group' }).click();
    await a.getByRole('heading', { level: 1, name: 'Book club' }).waitFor();
    await send(a, 'welcome');
    const b = bob.page;
    await b
      .getByTestId('room-list')
      .getByRole('link', { name: /Book club/ })
      .click();
    await messageVisible(b, 'welcome');
  });

  it('bans a channel member, who is refused when asking back until the ban is lifted', async () => {
    const a = alice.page;
    const b = bob.page;
    await nav(a, 'Channels');
    await a.getByRole('link', { name: 'Create', exact: true }).click();
    await a.getByLabel('Name', { exact: true }).fill('Quiet corner');
    await a.getByLabel('Topic', { exact: true }).fill('No shouting');
    await a.getByRole('button', { name: 'Create channel' }).click();
    await a.getByRole('heading', { level: 1, name: 'Quiet corner' }).waitFor();
    await nav(b, 'Channels');
    await b.getByLabel('Search channels').fill('quiet');
    await b.getByRole('button', { name: 'Join Quiet corner' }).click();
    await b.getByRole('heading', { level: 1, name: 'Quiet corner' }).waitFor({ timeout: 30_000 });

    await a.getByRole('link', { name: 'Members', exact: true }).click();
    await a.getByRole('button', { name: 'Ban bob' }).click();
    await a.getByTestId('bans').getByText('bob', { exact: true }).waitFor();
    await screenshot(a, '31c-banned-member');
    await b.getByTestId('removed-notice').waitFor({ timeout: 15_000 });

    await nav(b, 'Channels');
    await b.getByLabel('Search channels').fill('quiet');
    const seen = bob.problems.length;
    await b.getByRole('button', { name: 'Join Quiet corner' }).click();
    await b.getByRole('alert').filter({ hasText: 'banned you' }).waitFor({ timeout: 15_000 });
    // The refusal itself is the server's 403, which Chromium logs; nothing else may show up.
    expect(bob.problems.splice(seen)).toEqual([
      'console error: Failed to load resource: the server responded with a status of 403 (Forbidden)',
    ]);

    await a.getByRole('button', { name: 'Lift the ban on bob' }).click();
    await expect.poll(() => a.getByTestId('bans').count()).toBe(0);
    // Back where the next steps start: both in the group.
    for (const page of [a, b]) {
      await page
        .getByTestId('room-list')
        .getByRole('link', { name: /Book club/ })
        .click();
    }
  });

  it('offers a member neither the details form nor deletion', async () => {
    const b = bob.page;
    await b.getByRole('link', { name: 'Members', exact: true }).click();
    await b.getByRole('button', { name: 'Leave group' }).waitFor();
    expect(await b.getByRole('button', { name: 'Edit name and topic' }).count()).toBe(0);
    expect(await b.getByRole('button', { name: 'Delete group' }).count()).toBe(0);
    await b.getByRole('link', { name: /Back to the conversation/ }).click();
    await b.getByRole('heading', { level: 1, name: 'Book club' }).waitFor();
  });

  it('lets the admin rename the group and edit its topic, live for the member', async () => {
    const a = alice.page;
    await a.getByRole('link', { name: 'Members', exact: true }).click();
    await a.getByRole('button', { name: 'Edit name and topic' }).click();
    await a.getByLabel('Name', { exact: true }).fill('Reading club');
    await a.getByLabel('Topic', { exact: true }).fill('One book a month');
    await screenshot(a, '30-room-details');
    await a.getByRole('button', { name: 'Save', exact: true }).click();
    await a.getByRole('heading', { level: 1, name: 'Reading club: members' }).waitFor();

    const b = bob.page;
    await b.getByRole('heading', { level: 1, name: 'Reading club' }).waitFor({ timeout: 15_000 });
    await b.getByText(/One book a month/).waitFor();
    await b
      .getByTestId('room-list')
      .getByRole('link', { name: /Reading club/ })
      .waitFor();
  });

  it('deletes the group after a confirming step; it disappears for the member with a notice', async () => {
    const a = alice.page;
    await a.getByRole('button', { name: 'Delete group' }).click();
    const question = a.getByRole('alertdialog');
    await question.getByText(/cannot be undone/).waitFor();
    await screenshot(a, '31-room-delete-confirm');
    // Cancelling keeps it.
    await question.getByRole('button', { name: 'Cancel' }).click();
    await a.getByRole('button', { name: 'Delete group' }).click();
    await a.getByRole('alertdialog').getByRole('button', { name: 'Delete for everyone' }).click();
    await a.getByRole('heading', { name: 'Hello, alice' }).waitFor();
    expect(
      await a
        .getByTestId('room-list')
        .getByRole('link', { name: /Reading club/ })
        .count(),
    ).toBe(0);

    const b = bob.page;
    await b.getByText('Reading club was deleted by an admin').waitFor({ timeout: 15_000 });
    await b.getByRole('heading', { name: 'Hello, bob' }).waitFor();
    await expect
      .poll(() =>
        b
          .getByTestId('room-list')
          .getByRole('link', { name: /Reading club/ })
          .count(),
      )
      .toBe(0);
    await screenshot(b, '31b-room-deleted-notice');
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });
});
