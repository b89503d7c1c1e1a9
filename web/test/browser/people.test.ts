// Other people in the browser: bob sets a display name, a status message and a picture; alice
// sees them, and whether he is online, everywhere he appears (the directory, his page, a group's
// members, his messages, the room list), and sees him go offline when his browser closes.
import type { Locator, Page } from 'playwright-core';
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

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1180, height: 780 };
// Bob's picture: wider than tall, red on the left and blue on the right, so a shown image that
// is not his (initials, another picture, a stretched copy) cannot pass for it.
const PICTURE = { width: 48, height: 30, left: [220, 40, 40], right: [30, 60, 200] };

/** Draws bob's picture in a page and returns it as PNG bytes. */
async function drawPicture(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate((picture) => {
    const canvas = document.createElement('canvas');
    canvas.width = picture.width;
    canvas.height = picture.height;
    const context = canvas.getContext('2d')!;
    const half = picture.width / 2;
    context.fillStyle = `rgb(${picture.left.join(',')})`;
    context.fillRect(0, 0, half, picture.height);
    context.fillStyle = `rgb(${picture.right.join(',')})`;
    context.fillRect(half, 0, half, picture.height);
    return canvas.toDataURL('image/png');
  }, PICTURE);
  return Buffer.from(dataUrl.split(',')[1]!, 'base64');
}

/** The picture an avatar inside `scope` shows, as decoded by the browser. */
async function shownPicture(scope: Locator) {
  const image = scope.getByTestId('avatar').locator('img').first();
  await image.waitFor({ timeout: 15_000 });
  return image.evaluate(async (element: HTMLImageElement, picture) => {
    await element.decode();
    const canvas = document.createElement('canvas');
    canvas.width = element.naturalWidth;
    canvas.height = element.naturalHeight;
    const context = canvas.getContext('2d')!;
    context.drawImage(element, 0, 0);
    const pixel = (x: number) => [
      ...context.getImageData(x, picture.height / 2, 1, 1).data.slice(0, 3),
    ];
    return {
      width: element.naturalWidth,
      height: element.naturalHeight,
      left: pixel(2),
      right: pixel(picture.width - 3),
      scheme: new URL(element.src).protocol,
    };
  }, PICTURE);
}

const BOBS_PICTURE = {
  width: PICTURE.width,
  height: PICTURE.height,
  left: PICTURE.left,
  right: PICTURE.right,
  scheme: 'blob:',
};

/** The presence an avatar's dot inside `scope` says. */
function presenceDot(scope: Locator, label: string): Locator {
  return scope.getByTestId('avatar').getByRole('img', { name: label, exact: true });
}

describe('other people', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([openBrowser(server), openBrowser(server)]);
  });
  stepwise('people', () => ({ alice, bob }));
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.close();
  });

  it('lets bob set a display name, a status message and a picture', async () => {
    const b = bob.page;
    await signUp(b, 'bob', 'bob password is long');
    await nav(b, 'Settings');
    await b.getByLabel('Display name').fill('Captain Bob');
    await b.getByLabel('Status message').fill('Out sailing until Monday');
    await b.getByRole('button', { name: 'Save profile' }).click();
    await b.getByText('Saved.').waitFor();
    await b.getByLabel('Add a picture').setInputFiles({
      name: 'bob.png',
      mimeType: 'image/png',
      buffer: await drawPicture(b),
    });
    await b.getByText('Change picture').waitFor();
    // His own corner of the sidebar shows it too.
    const corner = b.getByRole('navigation', { name: 'Main' });
    expect(await shownPicture(corner.locator('.me'))).toEqual(BOBS_PICTURE);
  });

  it('shows alice his picture, status and presence in a shared group and next to his messages', async () => {
    const a = alice.page;
    await signUp(a, 'alice', 'alice password here');
    await a.getByRole('link', { name: /New group/ }).click();
    await a.getByLabel(/Group/).check();
    await a.getByLabel('Name', { exact: true }).fill('Crew');
    await a.getByLabel('Members', { exact: true }).fill('bob');
    await a.getByRole('button', { name: 'Create group' }).click();
    await a.getByRole('heading', { level: 1, name: 'Crew' }).waitFor();
    await send(a, 'Ready to sail?');

    const b = bob.page;
    await b.getByTestId('room-list').getByRole('link', { name: /Crew/ }).click();
    await messageVisible(b, 'Ready to sail?');
    await send(b, 'Ahoy from the boat');

    await messageVisible(a, 'Ahoy from the boat');
    const group = a.locator('article.group[data-sender="Captain Bob"]');
    await group.getByText('Captain Bob', { exact: true }).waitFor();
    expect(await shownPicture(group)).toEqual(BOBS_PICTURE);
    await screenshot(a, '30-people-chat-picture');

    await a.getByRole('link', { name: 'Members', exact: true }).click();
    const row = a.getByTestId('members').getByRole('listitem').filter({ hasText: 'Captain Bob' });
    await row
      .getByTestId('status-message')
      .filter({ hasText: 'Out sailing until Monday' })
      .waitFor();
    await presenceDot(row, 'Online').waitFor();
    expect(await shownPicture(row)).toEqual(BOBS_PICTURE);
    await screenshot(a, '31-people-members');
    expect(await axeViolations(a)).toEqual([]);
  });

  it('shows them in the directory and on his page, and his picture on the direct room', async () => {
    const a = alice.page;
    await nav(a, 'People');
    await a.getByLabel('Search people').fill('bo');
    const result = a
      .getByTestId('people-results')
      .getByRole('listitem')
      .filter({ hasText: '@bob' });
    await result.getByText('Captain Bob', { exact: true }).waitFor();
    await result.getByText('Out sailing until Monday').waitFor();
    await presenceDot(result, 'Online').waitFor();
    expect(await shownPicture(result)).toEqual(BOBS_PICTURE);
    await screenshot(a, '32-people-directory');
    expect(await axeViolations(a)).toEqual([]);

    await result.getByRole('link', { name: /Captain Bob/ }).click();
    const person = a.locator('header.person');
    await person.getByRole('heading', { level: 1, name: 'Captain Bob' }).waitFor();
    await person.getByText('@bob', { exact: true }).waitFor();
    await person
      .getByTestId('status-message')
      .filter({ hasText: 'Out sailing until Monday' })
      .waitFor();
    await presenceDot(person, 'Online').waitFor();
    expect(await shownPicture(person)).toEqual(BOBS_PICTURE);
    await screenshot(a, '33-people-person');
    expect(await axeViolations(a)).toEqual([]);

    await person.getByRole('button', { name: 'Message', exact: true }).click();
    await a.getByRole('heading', { level: 1, name: 'Captain Bob' }).waitFor({ timeout: 30_000 });
    const directRow = a.getByTestId('room-list').getByRole('link', { name: /Captain Bob/ });
    await presenceDot(directRow, 'Online').waitFor();
    expect(await shownPicture(directRow)).toEqual(BOBS_PICTURE);
    expect(await shownPicture(a.locator('.chat-header'))).toEqual(BOBS_PICTURE);
    await screenshot(a, '34-people-direct');
    expect(await axeViolations(a)).toEqual([]);
  });

  it('fits a phone', async () => {
    const a = alice.page;
    await a.setViewportSize(PHONE);
    const header = a.locator('.chat-header');
    await header.getByText('Out sailing until Monday').waitFor();
    expect(await shownPicture(header)).toEqual(BOBS_PICTURE);
    await screenshot(a, '34-people-direct-phone');
    await a.getByRole('link', { name: 'Back to rooms' }).click();
    const directRow = a.getByTestId('room-list').getByRole('link', { name: /Captain Bob/ });
    expect(await shownPicture(directRow)).toEqual(BOBS_PICTURE);
    await screenshot(a, '34-people-rooms-phone');
    await nav(a, 'People');
    await a.getByLabel('Search people').fill('bo');
    const result = a
      .getByTestId('people-results')
      .getByRole('listitem')
      .filter({ hasText: '@bob' });
    expect(await shownPicture(result)).toEqual(BOBS_PICTURE);
    await screenshot(a, '32-people-directory-phone');
    await result.getByRole('link', { name: /Captain Bob/ }).click();
    const person = a.locator('header.person');
    expect(await shownPicture(person)).toEqual(BOBS_PICTURE);
    await screenshot(a, '33-people-person-phone');
    await a.setViewportSize(DESKTOP);
  });

  it('shows a new status message at once, with no reload', async () => {
    const b = bob.page;
    await nav(b, 'Settings');
    await b.getByLabel('Status message').fill('Back on land');
    await b.getByRole('button', { name: 'Save profile' }).click();
    await b.getByText('Saved.').waitFor();
    // Alice has his page open: it changes as he saves.
    await alice.page
      .locator('header.person')
      .getByTestId('status-message')
      .filter({ hasText: 'Back on land' })
      .waitFor({ timeout: 30_000 });
  });

  it('shows him offline once his browser closes', async () => {
    const a = alice.page;
    const person = a.locator('header.person');
    await presenceDot(person, 'Online').waitFor();
    expect(bob.problems).toEqual([]);
    await bob.close();
    await presenceDot(person, 'Offline').waitFor({ timeout: 30_000 });
    const directRow = a.getByTestId('room-list').getByRole('link', { name: /Captain Bob/ });
    await presenceDot(directRow, 'Offline').waitFor();
    await screenshot(a, '35-people-offline');
    expect(alice.problems).toEqual([]);
  });
});
