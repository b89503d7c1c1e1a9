// Contacts in the browser: alice asks bob from his page, bob sees the request (a badge on People)
// and accepts it on the Contacts tab, and each lists the other; bob blocks alice, whose next
// message to him fails with plain words; bob takes direct conversations from contacts only, and a
// stranger's attempt is refused with the same words. Settings lists the blocked.
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
import type { Page } from 'playwright-core';

const REFUSED = 'This person does not accept direct messages from you.';

async function openPerson(page: Page, username: string): Promise<void> {
  await nav(page, 'People');
  await page.getByRole('tab', { name: /Find people/ }).click();
  await page.getByLabel('Search people').fill(username);
  await page
    .getByTestId('people-results')
    .getByRole('listitem')
    .filter({ hasText: `@${username}` })
    .getByRole('link')
    .click();
  await page.getByRole('heading', { level: 2, name: 'Contact' }).waitFor();
}

describe('contacts', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;
  let carol: Browser;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  stepwise('contacts', () => ({ alice, bob, carol }));
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), carol?.close()]);
    await server?.close();
  });

  it('alice asks, bob accepts from the Contacts tab, and both list each other', async () => {
    await Promise.all([
      signUp(alice.page, 'alice', 'alice password here'),
      signUp(bob.page, 'bob', 'bob password is long'),
    ]);
    const a = alice.page;
    const b = bob.page;
    await openPerson(a, 'bob');
    await a.getByRole('button', { name: 'Add contact' }).click();
    await a
      .getByTestId('contact-status')
      .filter({ hasText: 'You asked bob to be a contact' })
      .waitFor();

    // Bob hears of it live: a badge on People, and the request on the Contacts tab.
    await b.getByTestId('requests-badge').filter({ hasText: '1' }).waitFor({ timeout: 15_000 });
    await b.getByText('alice asks to be your contact (People › Contacts).').waitFor();
    // The link's name carries the count ("People 1 contact requests").
    await b
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: /^People 1 contact request/ })
      .click();
    await b.getByRole('tab', { name: /Contacts/ }).click();
    const incoming = b.getByTestId('incoming-requests');
    await incoming.getByText('alice', { exact: true }).waitFor();
    await screenshot(b, '60-contacts-request');
    expect(await axeViolations(b)).toEqual([]);
    await incoming.getByRole('button', { name: 'Accept alice' }).click();
    await b.getByTestId('contact-list').getByText('alice', { exact: true }).waitFor();
    await b.getByTestId('contact-list').getByText('Not verified').waitFor();
    expect(await b.getByTestId('requests-badge').count()).toBe(0);

    await nav(a, 'People');
    await a.getByRole('tab', { name: /Contacts/ }).click();
    await a
      .getByTestId('contact-list')
      .getByText('bob', { exact: true })
      .waitFor({ timeout: 15_000 });
    await screenshot(a, '61-contacts-list');
  });

  it('bob blocks alice: her message to him fails with plain words', async () => {
    const a = alice.page;
    const b = bob.page;
    await a.getByRole('button', { name: 'Message bob' }).click();
    await a.getByRole('heading', { level: 1, name: 'bob' }).waitFor({ timeout: 30_000 });
    await send(a, 'hello bob');
    await b.getByTestId('room-list').getByRole('link', { name: /alice/ }).click();
    await messageVisible(b, 'hello bob');

    await openPerson(b, 'alice');
    await b.getByRole('button', { name: 'Block' }).click();
    await b.getByTestId('contact-status').filter({ hasText: 'You blocked alice' }).waitFor();

    await send(a, 'are you there?');
    await a.getByText(`A message could not be sent: ${REFUSED}`).waitFor({ timeout: 30_000 });
    await a
      .getByTestId('message')
      .filter({ hasText: 'are you there?' })
      .getByText('Not sent')
      .waitFor();
    await screenshot(a, '62-contacts-blocked-send');
    // Nothing of it reached bob.
    await b.getByTestId('room-list').getByRole('link', { name: /alice/ }).click();
    await messageVisible(b, 'hello bob');
    expect(await b.getByTestId('message').filter({ hasText: 'are you there?' }).count()).toBe(0);

    await nav(b, 'Settings');
    const blocked = b.getByTestId('blocked-users');
    await blocked.getByText('alice', { exact: true }).waitFor();
    await screenshot(b, '63-contacts-settings-privacy');
    expect(await axeViolations(b)).toEqual([]);
  });

  it('contacts-only privacy refuses a stranger with the same words', async () => {
    const b = bob.page;
    await b.getByLabel('Only my contacts').check();
    await b.getByText('Only your contacts can start a direct conversation with you now.').waitFor();
    await b.getByTestId('blocked-users').getByRole('button', { name: 'Unblock alice' }).click();
    await b.getByText('You have not blocked anyone.').waitFor();

    carol = await openBrowser(server);
    const c = carol.page;
    await signUp(c, 'carol', 'carol password is long');
    await openPerson(c, 'bob');
    await c.getByRole('button', { name: 'Message', exact: true }).click();
    await c.getByText(REFUSED).waitFor({ timeout: 15_000 });
    await screenshot(c, '64-contacts-stranger-refused');
  });
});
