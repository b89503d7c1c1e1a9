// `pnpm bench --web`: how long the web app takes, in Chromium, to open a room with 1,000 messages
// of history and show its newest message (target: under 300 ms), and how much of that history is
// in the page once all of it has been scrolled through (the list is virtualised). The production
// build is served by the real server with its CSP; a Node client writes the history, a person in
// Chromium reads it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, MemoryKeyStore } from '@parley/client';
import { nodeTransport } from '@parley/client/node';
import { chromium, type Page } from 'playwright-core';
import { createTestApp } from '../../server/test/helpers';

export interface WebBenchResult {
  historyMessages: number;
  /** Milliseconds from the click on the room to its newest message drawn, each open. */
  opens: number[];
  /** Message elements in the page with the whole history loaded. */
  renderedAfterFullHistory: number;
}

const WEB = fileURLToPath(new URL('../../web', import.meta.url));
const HISTORY = 1000;
const OPENS = 9;
export const OPEN_TARGET_MS = 300;

export async function runWebBench(log: (line: string) => void): Promise<WebBenchResult> {
  const output = mkdtempSync(join(WEB, 'node_modules', '.parley-bench-build-'));
  const profile = mkdtempSync(join(tmpdir(), 'parley-bench-chromium-'));
  try {
    log('building the web app');
    execFileSync(join(WEB, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'error'], {
      cwd: WEB,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PARLEY_WEB_OUTPUT: output, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
    });
    const app = await createTestApp({ webRoot: join(output, 'build') });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
      viewport: { width: 1180, height: 780 },
      baseURL: baseUrl,
    });
    const writer = await createClient({
      transport: nodeTransport(baseUrl),
      keyStore: new MemoryKeyStore(),
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      context.setDefaultTimeout(60_000);
      await signUpSkippingBackup(page, 'reader');

      await writer.signUp({ username: 'writer', password: 'the writer password' });
      writer.connect();
      const room = await writer.createGroup({ name: 'Long history', members: ['reader'] });
      log(`writing ${HISTORY} messages`);
      let last = '';
      for (let n = 1; n <= HISTORY; n++) {
        const text =
          n % 10 === 0
            ? `message ${n}: a longer one, **with** _markdown_ and \`code\`, to wrap over a line or two at this width`
            : `message ${n}`;
        last = (await writer.send(room.roomId, text)).messageId;
      }
      const newest = await writer.acked(last);
      // The history is in place once the reader's browser has received all of it (its delivered
      // receipt): an open is timed on a quiet room, not while 1,000 live messages are verified.
      const readerId = (await writer.lookUp('reader')).userId;
      for (;;) {
        const receipts = await writer.receipts(room.roomId);
        const reader = receipts.find((receipt) => receipt.userId === readerId);
        if ((reader?.deliveredSeq ?? 0) >= newest) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const link = page.getByTestId('room-list').getByRole('link', { name: /Long history/ });
      await link.waitFor();
      const opens: number[] = [];
      for (let run = 0; run < OPENS; run++) {
        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link', { name: 'Home', exact: true })
          .click();
        await page.getByRole('heading', { name: 'Hello, reader' }).waitFor();
        opens.push(await timeOpen(page, `message ${HISTORY}`));
        log(`open ${run + 1}: ${opens.at(-1)!.toFixed(0)} ms`);
      }

      log('scrolling through the whole history');
      const list = page.getByTestId('messages');
      const start = page.getByText('This is the beginning of the conversation.');
      while ((await start.count()) === 0) {
        await list.evaluate((element) => (element.scrollTop = 0));
        await page.waitForTimeout(50);
      }
      await page.getByText('message 1', { exact: true }).waitFor();
      const renderedAfterFullHistory = await page.getByTestId('message').count();
      return { historyMessages: HISTORY, opens, renderedAfterFullHistory };
    } finally {
      await writer.close();
      await context.close();
      await app.close();
    }
  } finally {
    rmSync(output, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}

export function formatWebTable(result: WebBenchResult): string {
  const sorted = [...result.opens].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const rows: [string, string, string][] = [
    [
      `open a room of ${result.historyMessages} messages, first`,
      ms(result.opens[0]!),
      `< ${OPEN_TARGET_MS} ms`,
    ],
    [`open, median of ${result.opens.length}`, ms(median), `< ${OPEN_TARGET_MS} ms`],
    ['open, slowest', ms(sorted.at(-1)!), ''],
    [
      `messages in the page, all ${result.historyMessages} loaded`,
      String(result.renderedAfterFullHistory),
      'virtualised',
    ],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    'web app in Chromium',
    ...rows.map(
      ([name, value, target]) => `  ${name.padEnd(width)}  ${value.padStart(8)}  ${target}`,
    ),
  ].join('\n');
}

/** Whether every open met the target. */
export function webBenchPassed(result: WebBenchResult): boolean {
  return result.opens.every((open) => open < OPEN_TARGET_MS);
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

/**
 * Clicks the room's link inside the page and resolves, on the first animation frame after the
 * newest message is in the document, with the time since the click.
 */
function timeOpen(page: Page, newest: string): Promise<number> {
  // A string, not a function: tsx would wrap a function's inner names in a helper the page lacks.
  return page.evaluate(`new Promise((resolve, reject) => {
    const text = ${JSON.stringify(newest)};
    const link = [...document.querySelectorAll('[data-testid="room-list"] a')].find((a) =>
      a.textContent.includes('Long history'));
    if (link === undefined) return reject(new Error('no link to the room'));
    const started = performance.now();
    const shown = () => [...document.querySelectorAll('[data-testid="message"]')].some(
      (element) => element.textContent.trim().startsWith(text));
    const check = () => {
      if (shown()) requestAnimationFrame(() => resolve(performance.now() - started));
      else if (performance.now() - started > 30000) reject(new Error(text + ' never showed'));
      else requestAnimationFrame(check);
    };
    link.click();
    check();
  })`);
}

async function signUpSkippingBackup(page: Page, username: string): Promise<void> {
  await page.goto('/');
  await page.getByRole('tab', { name: 'Create account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(`${username} has a long password`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: /Skip for now/ }).click();
  await page.getByRole('heading', { name: `Hello, ${username}` }).waitFor();
}
