// The channel browser and the create-channel form: paging that a double click cannot break, tags
// checked against the server's rule before anything is sent, and a search of several words that
// finds a channel by its name, topic and tags.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPerson, createRoom } from '../../../server/test/rooms-fixtures';
import { nav, openBrowser, signUp, startServer, type Browser, type LiveServer } from './harness';

/** More than one page of the channel browser (30 a page). */
const CHANNELS = 35;

describe('the channel browser', () => {
  let server: LiveServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer();
    const owner = await createPerson(server.app);
    for (let index = 0; index < CHANNELS; index++) {
      const name = `Listing ${String(index).padStart(2, '0')}`;
      await createRoom(server.app, owner, 'channel', { name, topic: 'paging' });
    }
    browser = await openBrowser(server);
    await signUp(browser.page, 'erin', 'erin has a long password');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('pages once per request however fast More is clicked, listing each channel once', async () => {
    const { page } = browser;
    await nav(page, 'Channels');
    const results = page.getByTestId('channel-results').getByRole('listitem');
    await expect.poll(() => results.count()).toBe(30);

    await page.getByRole('button', { name: 'More', exact: true }).dblclick();
    await expect.poll(() => results.count()).toBe(CHANNELS);
    const names = await page.getByTestId('channel-results').getByRole('heading').allTextContents();
    expect(new Set(names).size).toBe(CHANNELS);
    expect(await page.getByText('Internal Error').count()).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: 'More' }).count()).toBe(0);
    expect(browser.problems).toEqual([]);
  });

  it('shows the tag rule, names a tag that breaks it, and creates the channel once it is kept', async () => {
    const { page } = browser;
    await nav(page, 'Channels');
    await page.getByRole('link', { name: 'Create', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('Async Rust');
    await page.getByLabel('Topic', { exact: true }).fill('Futures, executors and pinning');
    const tags = page.getByLabel('Tags', { exact: true });
    await page.getByText('lowercase letters, digits and dashes (no spaces)').waitFor();

    await tags.fill('rust, hip hop');
    await page.getByRole('alert').filter({ hasText: '“hip hop” is not a tag' }).waitFor();
    expect(await tags.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByRole('button', { name: 'Create channel' }).isDisabled()).toBe(true);

    await tags.fill(Array.from({ length: 11 }, (_, index) => `t${index}`).join(', '));
    await page.getByRole('alert').filter({ hasText: 'at most 10' }).waitFor();

    await tags.fill('Rust, async, -dash');
    await page.getByRole('alert').filter({ hasText: '“-dash” is not a tag' }).waitFor();

    await tags.fill('Rust, async');
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.getByRole('button', { name: 'Create channel' }).click();
    await page.getByRole('heading', { level: 1, name: 'Async Rust' }).waitFor();

    // Found by two words in another order, and by a word of the topic with a tag.
    await nav(page, 'Channels');
    const results = page.getByTestId('channel-results').getByRole('heading');
    for (const query of ['rust async', 'EXECUTORS async']) {
      await page.getByLabel('Search channels').fill(query);
      await expect.poll(() => results.allTextContents()).toEqual(['#Async Rust']);
    }
    expect(browser.problems).toEqual([]);
  });
});
