// Calls between two Chromiums with fake cameras and microphones: a video call rings, is accepted
// and carries media both ways (the peer connections' inbound bytes grow); Mute stops the audio
// packets and Camera off the video ones; the call ends and both histories give its duration; a
// declined and a missed call (30 s of ringing) are in both histories too. Last, a caller whose
// signed fingerprint vouches for another certificate than the one its connection uses (what a
// party in the media path would need) is refused, with a plain error, and no media flows.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Browser,
  type LiveServer,
  nav,
  openBrowser,
  screenshot,
  signUp,
  startServer,
  stepwise,
} from './harness';

/**
 * Records each RTCPeerConnection the page makes (for its stats), and, once `__tamperFingerprint`
 * is set, makes the page claim another certificate than its own: the certificate's fingerprint and
 * the fingerprint lines of its local description both say one that no key here belongs to.
 */
const PAGE_HOOKS = () => {
  const w = window as unknown as {
    __pcs: RTCPeerConnection[];
    __states: RTCPeerConnectionState[][];
    __tamperFingerprint?: boolean;
  };
  w.__states = [];
  w.__pcs = [];
  const fake = Array.from({ length: 32 }, () => 'AB').join(':');
  const Native = RTCPeerConnection;
  class Recorded extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      w.__pcs.push(this);
      const states: RTCPeerConnectionState[] = [];
      w.__states.push(states);
      this.addEventListener('connectionstatechange', () => states.push(this.connectionState));
    }
  }
  window.RTCPeerConnection = Recorded;
  const fingerprints = RTCCertificate.prototype.getFingerprints;
  RTCCertificate.prototype.getFingerprints = function (this: RTCCertificate) {
    return w.__tamperFingerprint === true
      ? [{ algorithm: 'sha-256', value: fake }]
      : fingerprints.call(this);
  };
  const local = Object.getOwnPropertyDescriptor(Native.prototype, 'localDescription')!;
  Object.defineProperty(Native.prototype, 'localDescription', {
    configurable: true,
    get(this: RTCPeerConnection) {
      const description = local.get!.call(this) as RTCSessionDescription | null;
      if (w.__tamperFingerprint !== true || description === null) return description;
      const sdp = description.sdp.replace(
        /a=fingerprint:(\S+) \S+/g,
        `a=fingerprint:sha-256 ${fake}`,
      );
      return { type: description.type, sdp, toJSON: () => ({ type: description.type, sdp }) };
    },
  });
};

interface Traffic {
  audioIn: number;
  videoIn: number;
  audioPacketsOut: number;
  videoPacketsOut: number;
}

/** What the page's newest peer connection has received and sent so far. */
function traffic(page: Page): Promise<Traffic> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const out = { audioIn: 0, videoIn: 0, audioPacketsOut: 0, videoPacketsOut: 0 };
    const pc = pcs.at(-1);
    if (pc === undefined) return out;
    (await pc.getStats()).forEach((report: Record<string, unknown>) => {
      const kind = report.kind as string;
      if (report.type === 'inbound-rtp') {
        if (kind === 'audio') out.audioIn += report.bytesReceived as number;
        if (kind === 'video') out.videoIn += report.bytesReceived as number;
      } else if (report.type === 'outbound-rtp') {
        if (kind === 'audio') out.audioPacketsOut += report.packetsSent as number;
        if (kind === 'video') out.videoPacketsOut += report.packetsSent as number;
      }
    });
    return out;
  });
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The call lines of the open room. */
function callLines(page: Page): Promise<string[]> {
  return page
    .getByTestId('call-line')
    .evaluateAll((lines) => lines.map((line) => (line.firstChild?.textContent ?? '').trim()));
}

describe('calls', () => {
  let server: LiveServer;
  let alice: Browser;
  let bob: Browser;

  beforeAll(async () => {
    server = await startServer();
    [alice, bob] = await Promise.all([
      openBrowser(server, { media: true }),
      openBrowser(server, { media: true }),
    ]);
    for (const browser of [alice, bob]) await browser.context.addInitScript(PAGE_HOOKS);
  });
  stepwise('calls', () => ({ alice, bob }));
  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await server?.close();
  });

  it('puts a video call through in a direct room, with media both ways', async () => {
    await Promise.all([
      signUp(alice.page, 'alice', 'alice password here'),
      signUp(bob.page, 'bob', 'bob password is long'),
    ]);
    const a = alice.page;
    const b = bob.page;
    await nav(a, 'People');
    await a.getByLabel('Search people').fill('bob');
    await a
      .getByTestId('people-results')
      .getByRole('listitem')
      .filter({ hasText: '@bob' })
      .getByRole('link')
      .first()
      .click();
    await a.locator('header.person').getByRole('button', { name: 'Message', exact: true }).click();
    await a.getByRole('heading', { level: 1, name: 'bob' }).waitFor({ timeout: 30_000 });
    await b
      .getByTestId('room-list')
      .getByRole('link', { name: /alice/ })
      .click({ timeout: 30_000 });
    await b.getByRole('heading', { level: 1, name: 'alice' }).waitFor();

    await a.getByRole('button', { name: 'Video call' }).click();
    await a.getByTestId('call-status').filter({ hasText: 'Calling bob…' }).waitFor();
    const banner = b.getByRole('region', { name: 'Incoming call' });
    await banner.getByText('alice is calling you').waitFor({ timeout: 30_000 });
    await banner.getByText('(video call)').waitFor();
    await screenshot(b, '60-call-incoming');
    await banner.getByRole('button', { name: 'Accept' }).click();
    for (const page of [a, b])
      await page
        .getByTestId('call-status')
        .filter({ hasText: /^\d+:\d\d$/ })
        .waitFor({ timeout: 30_000 });

    // Media flows both ways: each side keeps receiving audio and video.
    const [aBefore, bBefore] = await Promise.all([traffic(a), traffic(b)]);
    await pause(2000);
    const [aAfter, bAfter] = await Promise.all([traffic(a), traffic(b)]);
    for (const [before, after] of [
      [aBefore, aAfter],
      [bBefore, bAfter],
    ] as const) {
      expect(after.audioIn).toBeGreaterThan(before.audioIn);
      expect(after.videoIn).toBeGreaterThan(before.videoIn);
    }
    // The remote video plays: the other camera's pictures reach the element.
    await expect
      .poll(() => a.getByTestId('remote-video').evaluate((v: HTMLVideoElement) => v.videoWidth))
      .toBeGreaterThan(0);
    await screenshot(a, '61-call-video');
  });

  it('stops sending audio on Mute and video on Camera off, and resumes', async () => {
    const b = bob.page;
    const view = b.getByRole('region', { name: 'Call with alice' });
    await view.getByRole('button', { name: 'Mute' }).click();
    await view.getByRole('button', { name: 'Unmute' }).waitFor();
    await pause(500);
    const muted = await traffic(b);
    await pause(1500);
    const stillMuted = await traffic(b);
    expect(stillMuted.audioPacketsOut).toBe(muted.audioPacketsOut);
    expect(stillMuted.videoPacketsOut).toBeGreaterThan(muted.videoPacketsOut);

    await view.getByRole('button', { name: 'Camera off' }).click();
    await view.getByRole('button', { name: 'Camera on' }).waitFor();
    await pause(500);
    const dark = await traffic(b);
    await pause(1500);
    expect((await traffic(b)).videoPacketsOut).toBe(dark.videoPacketsOut);

    await view.getByRole('button', { name: 'Unmute' }).click();
    await view.getByRole('button', { name: 'Camera on' }).click();
    const back = await traffic(b);
    await pause(1500);
    const flowing = await traffic(b);
    expect(flowing.audioPacketsOut).toBeGreaterThan(back.audioPacketsOut);
    expect(flowing.videoPacketsOut).toBeGreaterThan(back.videoPacketsOut);
  });

  it('ends the call for both, and both histories give its duration', async () => {
    const a = alice.page;
    const b = bob.page;
    await a
      .getByRole('region', { name: 'Call with bob' })
      .getByRole('button', { name: 'End call' })
      .click();
    for (const page of [a, b])
      await page
        .getByRole('region', { name: /^Call with/ })
        .waitFor({ state: 'detached', timeout: 15_000 });
    await expect
      .poll(() => callLines(a), { timeout: 15_000 })
      .toEqual([expect.stringMatching(/^Video call with bob, 0:\d\d/)]);
    await expect
      .poll(() => callLines(b), { timeout: 15_000 })
      .toEqual([expect.stringMatching(/^Video call with alice, 0:\d\d/)]);
    await screenshot(a, '62-call-history');
  });

  it('a declined call, and one nobody answers for 30 seconds, are in both histories', async () => {
    const a = alice.page;
    const b = bob.page;
    await a.getByRole('button', { name: 'Voice call' }).click();
    const banner = b.getByRole('region', { name: 'Incoming call' });
    await banner.getByText('(voice call)').waitFor({ timeout: 30_000 });
    await banner.getByRole('button', { name: 'Decline' }).click();
    await a.getByRole('region', { name: 'Call with bob' }).waitFor({ state: 'detached' });
    await a.getByRole('status').filter({ hasText: 'bob declined the call.' }).waitFor();
    await expect.poll(() => callLines(a), { timeout: 15_000 }).toContain('bob declined the call');
    await expect
      .poll(() => callLines(b), { timeout: 15_000 })
      .toContain('Declined call from alice');

    await a.getByRole('button', { name: 'Voice call' }).click();
    await banner.waitFor({ timeout: 30_000 });
    // Nobody answers: it rings for 30 seconds, then it is a missed call on both sides.
    await banner.waitFor({ state: 'detached', timeout: 45_000 });
    await a
      .getByRole('region', { name: 'Call with bob' })
      .waitFor({ state: 'detached', timeout: 15_000 });
    await expect
      .poll(() => callLines(a), { timeout: 15_000 })
      .toContain('Missed call: bob did not answer');
    await expect.poll(() => callLines(b), { timeout: 15_000 }).toContain('Missed call from alice');
  });

  it('refuses a caller whose connection uses another certificate than the signed one', async () => {
    const a = alice.page;
    const b = bob.page;
    await a.evaluate(() => {
      (window as unknown as { __tamperFingerprint: boolean }).__tamperFingerprint = true;
    });
    await a.getByRole('button', { name: 'Video call' }).click();
    const banner = b.getByRole('region', { name: 'Incoming call' });
    await banner.getByRole('button', { name: 'Accept' }).click({ timeout: 30_000 });
    await b
      .getByRole('alert')
      .filter({ hasText: /Call refused: .*media key/ })
      .waitFor({ timeout: 30_000 });
    await a
      .getByRole('alert')
      .filter({ hasText: /Call refused/ })
      .waitFor({ timeout: 15_000 });
    for (const page of [a, b])
      await page.getByRole('region', { name: /^Call with/ }).waitFor({ state: 'detached' });
    // Bob's connection never came up, so nothing of alice's camera or microphone reached him.
    const states = await b.evaluate(
      () => (window as unknown as { __states: string[][] }).__states.at(-1) ?? [],
    );
    expect(states).toContain('failed');
    expect(states).not.toContain('connected');
    await screenshot(b, '63-call-refused');
    await expect
      .poll(() => callLines(b), { timeout: 15_000 })
      .toContain('Video call with alice failed');
    for (const browser of [alice, bob])
      expect(browser.problems.filter((problem) => !/WebRTC|DTLS|ICE/i.test(problem))).toEqual([]);
  });
});
