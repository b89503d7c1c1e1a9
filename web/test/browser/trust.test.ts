// Verifying a contact by scanning their safety-number QR code with the camera (Chromium's fake
// camera shows a video of the code the other browser displays), and the verified state surviving
// a restore on another browser from the backup passphrase.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Browser,
  type LiveServer,
  nav,
  openBrowser,
  screenshot,
  signUp,
  startServer,
} from './harness';

/** One frame of 640x480 video (Y4M, 4:2:0) showing `text` as a QR code, black on white. */
function qrVideo(text: string): Buffer {
  const [width, height, scale] = [640, 480, 8];
  const modules = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  const luma = Buffer.alloc(width * height, 235);
  const left = Math.floor((width - modules.size * scale) / 2);
  const top = Math.floor((height - modules.size * scale) / 2);
  for (let y = 0; y < modules.size * scale; y++) {
    for (let x = 0; x < modules.size * scale; x++) {
      if (modules.get(Math.floor(y / scale), Math.floor(x / scale))) {
        luma[(top + y) * width + left + x] = 16;
      }
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const header = `YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`;
  return Buffer.concat([Buffer.from(header), luma, chroma]);
}

describe('verifying a contact with the camera', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;
  let restored: Browser | undefined;
  const videos = mkdtempSync(join(tmpdir(), 'parley-camera-'));
  const camera = join(videos, 'code.y4m');

  beforeAll(async () => {
    server = await startServer();
    // The file is written once bob shows his code; the camera reads it when it starts.
    [alice, bob] = await Promise.all([openBrowser(server, { camera }), openBrowser(server)]);
  });
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), restored?.close()]);
    await server?.close();
    rmSync(videos, { recursive: true, force: true });
  });

  it('scans the code the other person shows, and keeps the verification over a restore', async () => {
    const [passphrase] = await Promise.all([
      signUp(alice.page, 'alice', 'alice has a long password'),
      signUp(bob.page, 'bob', 'bob has another long one'),
    ]);
    const openPerson = async (page: typeof alice.page, name: string) => {
      await nav(page, 'People');
      await page.getByLabel('Search people').fill(name.slice(0, 3));
      await page
        .getByTestId('people-results')
        .getByRole('link', { name: new RegExp(name) })
        .click();
    };
    await openPerson(bob.page, 'alice');
    const shown = bob.page.getByRole('img', { name: 'Safety number QR code for alice' });
    writeFileSync(camera, qrVideo((await shown.getAttribute('data-value'))!));

    const a = alice.page;
    await openPerson(a, 'bob');
    await a.getByRole('button', { name: 'Scan bob’s code with the camera' }).click();
    await a.getByText('You verified bob.').waitFor({ timeout: 30_000 });
    await screenshot(a, '19-verified-by-scan');
    expect(await a.getByRole('alert').count()).toBe(0);

    // A new browser restored from the passphrase knows bob as verified.
    restored = await openBrowser(server);
    const r = restored.page;
    await r.goto('/');
    await r.getByLabel('Username').fill('alice');
    await r.getByLabel('Password', { exact: true }).fill('alice has a long password');
    await r.getByRole('button', { name: 'Log in' }).click();
    await r.getByLabel('Backup passphrase').fill(passphrase);
    await r.getByRole('button', { name: 'Restore' }).click();
    await r.getByRole('heading', { name: 'Your rooms' }).waitFor({ timeout: 60_000 });
    await openPerson(r, 'bob');
    await r.getByText('You verified bob.').waitFor();
    for (const browser of [alice, bob, restored]) expect(browser.problems).toEqual([]);
  });
});
