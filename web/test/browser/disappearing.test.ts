// Disappearing messages in the browser: an admin sets a group's timer on the Members page; the
// member sees the signed change as a line and in the header, and is offered no control of it; a
// message past its time leaves the member's screen without a reload, and a reload does not bring
// back what the server no longer serves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Browser,
  type LiveServer,
  messageVisible,
  nav,
  openBrowser,
  send,
  signUp,
  startServer,
  stepwise,
} from './harness';

const MINUTE_MS = 60_000;

describe('disappearing messages', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  stepwise('disappearing', () => ({ alice, bob }));
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.close();
  });

  it('lets an admin set the timer, which the member sees as a signed change', async () => {
    await Promise.all([
      signUp(alice.page, 'alice', 'alice password here'),
      signUp(bob.page, 'bob', 'bob password is long'),
    ]);
    const a = alice.page;
    const b = bob.page;
    await nav(a, 'Home');
    await a.getByRole('link', { name: /New group/ }).click();
    await a.getByLabel(/Group/).check();
    await a.getByLabel('Name', { exact: true }).fill('Fleeting');
    await a.getByLabel('Members', { exact: true }).fill('bob');
    await a.getByRole('button', { name: 'Create group' }).click();
    await a.getByRole('heading', { level: 1, name: 'Fleeting' }).waitFor();
    await send(a, 'soon gone');
    await b
      .getByTestId('room-list')
      .getByRole('link', { name: /Fleeting/ })
      .click();
    await messageVisible(b, 'soon gone');

    await a.getByRole('link', { name: 'Members', exact: true }).click();
    await a.getByLabel('Messages disappear after').selectOption({ label: '5 minutes' });
    await expect
      .poll(() => a.getByLabel('Messages disappear after').inputValue())
      .toBe(String(5 * 60));

    await b.getByTestId('message-timer').waitFor({ timeout: 30_000 });
    expect(await b.getByTestId('message-timer').textContent()).toBe(
      'Messages disappear after 5 minutes',
    );
    await b.getByText('Alice set messages to disappear after 5 minutes').waitFor();
    // A plain member reads the timer and cannot change it.
    await b.getByRole('link', { name: 'Members', exact: true }).click();
    await b.getByText('Messages disappear after 5 minutes.').waitFor();
    expect(await b.getByLabel('Messages disappear after').count()).toBe(0);
    await b.getByRole('link', { name: /Back to the conversation/ }).click();
    await messageVisible(b, 'soon gone');
  });

  it('takes a message past its time off the screen, and a reload does not bring it back', async () => {
    const b = bob.page;
    // Six minutes later on bob's machine: the message leaves his screen on its own.
    await b.clock.setSystemTime(Date.now() + 6 * MINUTE_MS);
    await b
      .getByTestId('message')
      .filter({ hasText: 'soon gone' })
      .waitFor({ state: 'detached', timeout: 10_000 });

    // The server's copy is six minutes old too: it serves it to nobody, before any sweep.
    await server.app.db
      .updateTable('messages')
      .set({ sent_at: new Date(Date.now() - 6 * MINUTE_MS) })
      .execute();
    const a = alice.page;
    await a.getByRole('link', { name: /Back to the conversation/ }).click();
    await a.getByRole('heading', { level: 1, name: 'Fleeting', exact: true }).waitFor();
    await a.reload();
    await a
      .getByRole('heading', { level: 1, name: 'Fleeting', exact: true })
      .waitFor({ timeout: 30_000 });
    await a.getByText('You set messages to disappear after 5 minutes').waitFor();
    expect(await a.getByTestId('message').filter({ hasText: 'soon gone' }).count()).toBe(0);
    // Back in the present, bob reads what is new.
    await b.clock.setSystemTime(Date.now());
    await send(a, 'still here');
    await messageVisible(b, 'still here');
  });
});
