// What every browser test needs: the real server (build() from @parley/server on a fresh test
// database) serving the built app on an ephemeral port with the production CSP, and Chromium
// contexts, each with a fresh profile, that record every CSP violation, page error and dialog.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterEach, beforeEach, inject } from 'vitest';
import { createTestApp } from '../../../server/test/helpers';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(WEB, 'test-results', 'screenshots');

type TestApp = Awaited<ReturnType<typeof createTestApp>>;

export interface LiveServer {
  baseUrl: string;
  /** The server itself, for a test that moves time on (a room's expiry) in its database. */
  app: TestApp;
  close(): Promise<void>;
}

export async function startServer(
  config: { roomSweepIntervalMs?: number } = {},
  /** Environment for the server, e.g. SMTP_URL of a test mailbox (server/test/mailbox.ts). */
  env: NodeJS.ProcessEnv = {},
): Promise<LiveServer> {
  const app = await createTestApp({
    env,
    // The server serves this run's build itself, with its own Content-Security-Policy.
    webRoot: inject('webBuild'),
    config: {
      limits: { authPerIpPerMinute: 1000, loginPerAccountPer15Minutes: 1000 },
      logLevel: (process.env.PARLEY_TEST_LOG ?? 'silent') as 'silent',
      ...(config.roomSweepIntervalMs === undefined
        ? {}
        : { roomSweepIntervalMs: config.roomSweepIntervalMs }),
    },
  });
  // The WebSocket accepts an Origin whose host is the request's Host: the page served here.
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, app, close: () => app.close() };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** CSP violations, uncaught errors and dialogs seen so far: a test expects none. */
  problems: string[];
  close(): Promise<void>;
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** A Chromium with a profile of its own (a person's browser). */
export async function openBrowser(
  server: LiveServer,
  options: {
    width?: number;
    height?: number;
    colorScheme?: 'light' | 'dark';
    /** A Y4M video that the browser's camera shows (Chromium's fake capture device). */
    camera?: string;
  } = {},
): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args:
      options.camera === undefined
        ? FLAGS
        : [
            ...FLAGS,
            '--use-fake-ui-for-media-stream',
            '--use-fake-device-for-media-stream',
            `--use-file-for-fake-video-capture=${options.camera}`,
          ],
    viewport: { width: options.width ?? 1180, height: options.height ?? 780 },
    colorScheme: options.colorScheme ?? 'light',
    baseURL: server.baseUrl,
  });
  // Fail a step in seconds, not the default half minute, so one broken step does not stall a run.
  context.setDefaultTimeout(15_000);
  const problems: string[] = [];
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page, problems);
  context.on('page', (opened) => watch(opened, problems));
  return {
    context,
    page,
    problems,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

function watch(page: Page, problems: string[]): void {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(`csp: ${message.text()}`);
    else if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
}

/**
 * Makes the tests of a file one story: after the first failure the rest are skipped (they build
 * on it), and the failure leaves the browsers' problems on stderr and a screenshot of each page
 * (`failed-<name>-<browser>.png`). `browsers` is read at failure time, so it may be filled later.
 */
export function stepwise(name: string, browsers: () => Record<string, Browser | undefined>): void {
  let failed = false;
  beforeEach((context) => {
    if (failed) context.skip();
  });
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    failed = true;
    const open = Object.entries(browsers()).filter(
      (entry): entry is [string, Browser] => entry[1] !== undefined,
    );
    console.error(open.flatMap(([, browser]) => browser.problems).join('\n'));
    for (const [who, browser] of open) {
      if (!browser.page.isClosed()) await screenshot(browser.page, `failed-${name}-${who}`);
    }
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Signs up through the form and sets the backup passphrase; returns the passphrase. */
export async function signUp(
  page: Page,
  username: string,
  password: string,
  options: { screenshotAs?: string } = {},
): Promise<string> {
  await page.goto('/');
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { name: 'Set up your backup passphrase' }).waitFor();
  const passphrase = await page
    .getByRole('textbox', { name: 'Backup passphrase', exact: true })
    .inputValue();
  await page.getByLabel('I have written down my backup passphrase.').check();
  if (options.screenshotAs !== undefined) await screenshot(page, options.screenshotAs);
  await page.getByRole('button', { name: 'Save encrypted backup' }).click();
  await page.getByRole('heading', { name: `Hello, ${username}` }).waitFor({ timeout: 60_000 });
  return passphrase;
}

/** Follows a link of the main navigation (Home, Channels, People...). */
export async function nav(page: Page, name: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name, exact: true })
    .click();
}

/** Types a message into the open room's composer and sends it. */
export async function send(page: Page, text: string): Promise<void> {
  const composer = page.getByRole('textbox', { name: 'Message', exact: true });
  await composer.fill(text);
  await composer.press('Enter');
}

/** Waits for a message with `text` to show in the open room. */
export async function messageVisible(page: Page, text: string): Promise<void> {
  await page.getByTestId('message').filter({ hasText: text }).first().waitFor({ timeout: 30_000 });
}
