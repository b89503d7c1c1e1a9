// Room administration in the browser: an admin renames a group and edits its topic, which a
// member sees live, then deletes it after a second, confirming step; it disappears for the member
// with a notice. A member is offered neither.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
} from './harness';

describe('room administration', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  let failed = false;
  beforeEach((context) => {
    if (failed) context.skip();
  });
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    failed = true;
    console.error([...alice.problems, ...bob.problems].join('\n'));
    await screenshot(alice.page, 'failed-room-admin-alice');
    await screenshot(bob.page, 'failed-room-admin-bob');
  });
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
