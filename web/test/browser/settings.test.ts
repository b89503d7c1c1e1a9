// Settings in the browser: one do-not-disturb control, which silences browser notifications, tells
// the server the person is busy, and holds over a reload.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  nav,
  openBrowser,
  send,
  signUp,
  startServer,
  type Browser,
  type LiveServer,
} from './harness';

describe('do not disturb', () => {
  let server: LiveServer;
  let hana: Browser;
  let ivan: Browser;

  beforeAll(async () => {
    server = await startServer();
    [hana, ivan] = await Promise.all([openBrowser(server), openBrowser(server)]);
    // Every browser notification Hana's page raises, by title.
    await hana.context.grantPermissions(['notifications'], { origin: server.baseUrl });
    await hana.context.addInitScript(() => {
      const shown: string[] = [];
      Object.assign(window, { shownNotifications: shown });
      window.Notification = new Proxy(window.Notification, {
        construct(target, args: ConstructorParameters<typeof Notification>) {
          shown.push(args[0]);
          return Reflect.construct(target, args) as Notification;
        },
      });
    });
    await Promise.all([
      signUp(hana.page, 'hana', 'hana has a long password'),
      signUp(ivan.page, 'ivan', 'ivan has a long password'),
    ]);
  });
  afterAll(async () => {
    await hana?.close();
    await ivan?.close();
    await server?.close();
  });

  it('is one control in Settings, silences notifications and holds over a reload', async () => {
    // Ivan makes a group with Hana in it.
    const i = ivan.page;
    await nav(i, 'Channels');
    await i.getByRole('link', { name: 'Create', exact: true }).click();
    await i.getByRole('radio', { name: /^Group/ }).check();
    await i.getByLabel('Name', { exact: true }).fill('Plans');
    await i.getByLabel('Members', { exact: true }).fill('hana');
    await i.getByRole('button', { name: 'Create group' }).click();
    await i.getByRole('heading', { level: 1, name: 'Plans' }).waitFor();

    const h = hana.page;
    await h.getByTestId('room-list').getByRole('link', { name: /Plans/ }).waitFor();
    await nav(h, 'Settings');
    await h.getByRole('heading', { name: 'Notifications' }).waitFor();
    const controls = h.getByRole('main').getByRole('radio', { name: /do not disturb/i });
    expect(await controls.count()).toBe(1);
    // Not a radio elsewhere nor a switch beside it either: one control of any kind.
    const labelled = await h
      .getByRole('main')
      .locator('input, button, select')
      .evaluateAll(
        (elements) =>
          elements.filter((element) =>
            /do not disturb/i.test(
              (element as HTMLInputElement).labels?.[0]?.textContent ?? element.textContent ?? '',
            ),
          ).length,
      );
    expect(labelled).toBe(1);

    await h.getByRole('checkbox', { name: 'Browser notifications for new messages' }).check();
    const dnd = controls.first();
    await dnd.check();
    await send(i, 'one, while Hana is busy');
    await h.getByTestId('room-list').getByLabel('1 unread').waitFor({ timeout: 30_000 });
    expect(await shownNotifications(hana)).toEqual([]);

    // Still busy after a reload: the choice is kept, and the radio shows it.
    await h.reload();
    await h.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(await dnd.isChecked()).toBe(true);
    await send(i, 'two, still busy');
    await h.getByTestId('room-list').getByLabel('2 unread').waitFor({ timeout: 30_000 });
    expect(await shownNotifications(hana)).toEqual([]);

    await h.getByRole('radio', { name: /^Online/ }).check();
    expect(await dnd.isChecked()).toBe(false);
    await send(i, 'three, Hana is back');
    await expect.poll(() => shownNotifications(hana), { timeout: 30_000 }).toEqual(['Plans']);
    await h.reload();
    await h.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(await h.getByRole('radio', { name: /^Online/ }).isChecked()).toBe(true);
    expect(hana.problems).toEqual([]);
    expect(ivan.problems).toEqual([]);
  });
});

function shownNotifications(browser: Browser): Promise<string[]> {
  return browser.page.evaluate(
    () => (window as unknown as { shownNotifications: string[] }).shownNotifications,
  );
}
