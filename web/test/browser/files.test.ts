// Files and room lifetimes in two browsers: the attach button and drag and drop, the limit shown
// before anything is uploaded, upload progress, an image decrypted and shown inline, a video played
// and a file saved under its name; rooms that expire after 7 days or store no messages, and an
// expired room leaving both browsers, its keys in IndexedDB included.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGES } from '../../../server/test/images';
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

const MiB = 1024 * 1024;

async function createGroup(
  page: Page,
  name: string,
  lifetime: 'Keep the history' | 'Delete the room after 7 days' | RegExp = 'Keep the history',
): Promise<void> {
  await nav(page, 'Home');
  await page.getByRole('link', { name: /New group/ }).click();
  await page.getByLabel(/Group/).check();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Members', { exact: true }).fill('bob');
  await page.getByLabel(lifetime).check();
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

async function openRoom(page: Page, name: string): Promise<void> {
  await page
    .getByTestId('room-list')
    .getByRole('link', { name: new RegExp(name) })
    .click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** Whether this browser's key store still holds anything of the room (its chain and keys). */
function storedRoom(page: Page, username: string, roomId: string): Promise<boolean> {
  return page.evaluate(
    ([name, key]) =>
      new Promise<boolean>((resolve, reject) => {
        const request = indexedDB.open(name!);
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const get = request.result.transaction('entries').objectStore('entries').get(key!);
          get.onsuccess = () => {
            request.result.close();
            resolve(get.result !== undefined);
          };
          get.onerror = () => reject(get.error);
        };
      }),
    [`parley:${username}`, `room:${roomId}`],
  );
}

describe('files and room lifetimes in two browsers', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;
  const uploads: string[] = [];

  beforeAll(async () => {
    // The sweeper looks for expired rooms often, so a room can be expired and watched leaving.
    server = await startServer({ roomSweepIntervalMs: 100 });
    alice = await openBrowser(server);
    bob = await openBrowser(server);
    alice.page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().includes('/attachments')) {
        uploads.push(request.url());
      }
    });
  });
  stepwise('files', () => ({ alice, bob }));
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.close();
  });

  it('signs both people up and opens a group', async () => {
    await Promise.all([
      signUp(alice.page, 'alice', 'alice password here'),
      signUp(bob.page, 'bob', 'bob password is long'),
    ]);
    await createGroup(alice.page, 'Photos');
    await openRoom(bob.page, 'Photos');
  });

  it('shows the size limit and refuses a larger file before uploading anything', async () => {
    const a = alice.page;
    // The server's limit is 10 MiB of ciphertext: the file may be 10.5 MB less the overhead.
    await expect
      .poll(() => a.getByTestId('file-limit').textContent(), { timeout: 10_000 })
      .toContain('up to 10 MB');
    const chooser = a.waitForEvent('filechooser');
    await a.getByRole('button', { name: 'Attach files' }).click();
    await (
      await chooser
    ).setFiles({
      name: 'huge.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(11 * MiB),
    });
    await a.getByRole('alert').filter({ hasText: 'huge.bin is 12 MB' }).waitFor();
    expect(await a.getByRole('list', { name: 'Files to send' }).count()).toBe(0);
    expect(uploads).toEqual([]);
  });

  it('sends an image, a video and a file with progress; the other side decrypts each', async () => {
    const a = alice.page;
    // Every state the progress line goes through, as the page showed it.
    await a.evaluate(() => {
      const seen: string[] = [];
      (window as { __progress?: string[] }).__progress = seen;
      new MutationObserver(() => {
        const line = document.querySelector('.upload span')?.textContent;
        if (line && seen.at(-1) !== line) seen.push(line);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const report = 'A report\n'.repeat(400_000); // 3.6 MB: long enough to see progress
    const chooser = a.waitForEvent('filechooser');
    // By keyboard: the attach button is reached and pressed like any other.
    await a.getByRole('button', { name: 'Attach files' }).focus();
    await a.keyboard.press('Enter');
    await (
      await chooser
    ).setFiles([
      { name: 'dot.png', mimeType: 'image/png', buffer: IMAGES['image/png'] },
      { name: 'clip.webm', mimeType: 'video/webm', buffer: Buffer.from('not really a video') },
      { name: 'report.txt', mimeType: 'text/plain', buffer: Buffer.from(report) },
    ]);
    const chosen = a.getByRole('list', { name: 'Files to send' });
    await chosen.getByText('report.txt').waitFor();
    expect(await chosen.textContent()).toContain('3.6 MB');
    await screenshot(a, '30-files-chosen');
    await send(a, 'the files from **today**');
    await expect.poll(() => uploads.length, { timeout: 15_000 }).toBe(3);
    await a.getByRole('list', { name: 'Files to send' }).waitFor({ state: 'detached' });
    // Each file is encrypted on the device, then uploaded: the line said which, file by file.
    expect(await a.evaluate(() => (window as { __progress?: string[] }).__progress)).toEqual(
      expect.arrayContaining(['Uploading file 1 of 3…', 'Uploading file 3 of 3…']),
    );

    const b = bob.page;
    await messageVisible(b, 'the files from today');
    const message = b.getByTestId('message').filter({ hasText: 'the files from today' });
    const image = message.locator('img');
    await image.waitFor();
    expect(await image.getAttribute('src')).toMatch(/^blob:/);
    await expect
      .poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 10_000 })
      .toBe(1);
    expect(await image.getAttribute('alt')).toBe('dot.png');

    await message.getByRole('button', { name: '▶ Play video' }).click();
    const video = message.locator('video');
    await video.waitFor();
    expect(await video.getAttribute('src')).toMatch(/^blob:/);

    const save = message.getByRole('button', { name: 'Download report.txt (3.6 MB)' });
    const download = b.waitForEvent('download');
    await save.click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('report.txt');
    expect(readFileSync(await file.path(), 'utf8')).toBe(report);
    await screenshot(b, '31-files-received');
    await b.setViewportSize({ width: 390, height: 780 });
    expect(await b.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(b, '32-files-phone');
    await b.setViewportSize({ width: 1180, height: 780 });
  });

  it('sends a file dropped onto the conversation', async () => {
    const a = alice.page;
    await a.evaluate(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['dropped bytes'], 'dropped.txt', { type: 'text/plain' }));
      const target = document.querySelector('.messages')!;
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(
          new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }),
        );
      }
    });
    await a.getByRole('list', { name: 'Files to send' }).getByText('dropped.txt').waitFor();
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    const message = bob.page.getByTestId('message').filter({ hasText: 'dropped.txt' });
    await message.getByRole('button', { name: 'Download dropped.txt (13 bytes)' }).waitFor();
    await expect.poll(() => uploads.length, { timeout: 15_000 }).toBe(4);
  });

  it('offers a page or an SVG only as a download, and runs nothing of it', async () => {
    const a = alice.page;
    const chooser = a.waitForEvent('filechooser');
    await a.getByRole('button', { name: 'Attach files' }).click();
    const script =
      '<script>window.opener && (window.opener.__pwned = 1); window.__pwned = 1</script>';
    await (
      await chooser
    ).setFiles([
      { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from(`<h1>hi</h1>${script}`) },
      {
        name: 'logo.svg',
        mimeType: 'image/svg+xml',
        buffer: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1"/>`),
      },
    ]);
    await a.getByRole('button', { name: 'Send', exact: true }).click();
    const b = bob.page;
    const message = b.getByTestId('message').filter({ hasText: 'page.html' });
    await message.getByRole('button', { name: /^Download page\.html/ }).waitFor();
    await message.getByRole('button', { name: /^Download logo\.svg/ }).waitFor();
    expect(await message.locator('img, video, iframe, svg, object, embed').count()).toBe(0);
    const download = b.waitForEvent('download');
    await message.getByRole('button', { name: /^Download page\.html/ }).click();
    expect((await download).suggestedFilename()).toBe('page.html');
    expect(await b.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(b.context().pages()).toHaveLength(1);
  });

  it('creates a room that expires in 7 days and one that stores no messages', async () => {
    const a = alice.page;
    await createGroup(a, 'This week', 'Delete the room after 7 days');
    await a.getByTestId('room-lifetime').getByText('6 days left').waitFor();
    await openRoom(bob.page, 'This week');
    await bob.page.getByTestId('room-lifetime').getByText('6 days left').waitFor();
    await screenshot(a, '33-room-expires');

    // At phone width and by keyboard: the lifetime is a group of radio buttons.
    await nav(a, 'Home');
    await a.getByRole('link', { name: /New group/ }).click();
    await a.setViewportSize({ width: 390, height: 780 });
    await a.getByLabel(/Group/).check();
    await a.getByLabel('Name', { exact: true }).fill('Off the record');
    await a.getByLabel('Members', { exact: true }).fill('bob');
    await a.getByLabel('Keep the history').focus();
    await a.keyboard.press('ArrowDown');
    await a.keyboard.press('ArrowDown');
    expect(await a.getByLabel(/Ephemeral/).isChecked()).toBe(true);
    await a.getByText('The server passes messages on to members who are online').waitFor();
    expect(await a.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(a, '35-new-room-lifetime-phone');
    await a.getByRole('button', { name: 'Create group' }).focus();
    await a.keyboard.press('Enter');
    await a.getByRole('heading', { level: 1, name: 'Off the record' }).waitFor();
    await a.getByTestId('room-lifetime').getByText('Ephemeral · messages are not stored').waitFor();
    // The title keeps its room: the lifetime goes on a line of its own.
    expect(
      await a.getByRole('heading', { level: 1 }).evaluate((h1) => h1.getBoundingClientRect().width),
    ).toBeGreaterThan(80);
    expect(await a.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(a, '36-room-ephemeral-phone');
    await a.setViewportSize({ width: 1180, height: 780 });
    await a.getByTestId('room-lifetime').getByText('Ephemeral · messages are not stored').waitFor();
    const b = bob.page;
    await openRoom(b, 'Off the record');
    await b.getByTestId('room-lifetime').getByText('messages are not stored').waitFor();
    // Alice speaks until bob's browser has subscribed and hears her: nothing is replayed here.
    await expect
      .poll(
        async () => {
          await send(a, 'heard once');
          return b.getByTestId('message').filter({ hasText: 'heard once' }).count();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBeGreaterThan(0);
    await screenshot(b, '34-room-ephemeral');
    // The server kept none of it: after a reload the room is empty.
    await b.reload();
    await b.getByRole('heading', { level: 1, name: 'Off the record' }).waitFor();
    await b.getByText('Messages here are not stored').waitFor();
    expect(await b.getByTestId('message').count()).toBe(0);
  });

  it('removes an expired room from both browsers, with its keys', async () => {
    const link = (page: Page) =>
      page.getByTestId('room-list').getByRole('link', { name: /This week/ });
    const href = await link(bob.page).getAttribute('href');
    const id = /rooms\/([0-9a-f]+)/.exec(href ?? '')?.[1];
    expect(id).toBeDefined();
    expect(await storedRoom(bob.page, 'bob', id!)).toBe(true);

    await server.app.db
      .updateTable('rooms')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', id!)
      .execute();
    for (const person of [alice, bob]) {
      await expect.poll(() => link(person.page).count(), { timeout: 15_000 }).toBe(0);
    }
    await bob.page.getByText('This week reached the end of its lifetime').waitFor();
    expect(await storedRoom(bob.page, 'bob', id!)).toBe(false);
    expect(await storedRoom(alice.page, 'alice', id!)).toBe(false);
    expect([...alice.problems, ...bob.problems]).toEqual([]);
  });
});
