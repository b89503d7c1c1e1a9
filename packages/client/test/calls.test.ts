// Calls: the signalling codec, the DTLS fingerprint check and the history (pure), then the state
// machine between real clients over a real server. The SDPs are text: no WebRTC runs here, the
// web app's Chromium test (web/test/browser/calls.test.ts) sends media.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callHistory,
  checkSdpFingerprint,
  describeCall,
  encodeCallSignal,
  formatDuration,
  parseCallSignal,
  type CallMessage,
  type CallSignal,
  type DtlsFingerprint,
} from '../src/call-signal';
import type { CallState } from '../src/calls';
import { createClient, type Client } from '../src/client';
import { MemoryKeyStore } from '../src/key-store/memory';
import { nodeTransport } from '../src/node';
import type { Clock } from '../src/options';
import { expectClientCode } from './helpers';
import { eventually, movableClock, passwordOf, startServer, type LiveServer } from './live';

const CALL_ID = 'a1'.repeat(16);

function fingerprint(byte: number): DtlsFingerprint {
  const value = Array.from({ length: 32 }, (_, i) =>
    ((byte + i) % 256).toString(16).padStart(2, '0'),
  )
    .join(':')
    .toUpperCase();
  return { algorithm: 'sha-256', value };
}

/** An SDP shaped like Chromium's, naming `fp` at session level and in each media section. */
function sdp(fp: DtlsFingerprint, mediaFp: DtlsFingerprint = fp): string {
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=fingerprint:${fp.algorithm} ${fp.value}`,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    `a=fingerprint:${mediaFp.algorithm} ${mediaFp.value.toLowerCase()}`,
    'a=setup:actpass',
    '',
  ].join('\r\n');
}

const mine = fingerprint(1);
const theirs = fingerprint(100);

describe('call signals', () => {
  it('round-trip every type through the payload’s extra bytes', () => {
    const signals: CallSignal[] = [
      { type: 'offer', callId: CALL_ID, media: 'video', sdp: sdp(mine), fingerprint: mine },
      { type: 'answer', callId: CALL_ID, sdp: sdp(theirs), fingerprint: theirs },
      {
        type: 'ice',
        callId: CALL_ID,
        candidates: [
          {
            candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host',
            sdpMid: '0',
            sdpMLineIndex: 0,
          },
        ],
      },
      { type: 'decline', callId: CALL_ID, reason: 'busy' },
      { type: 'end', callId: CALL_ID, reason: 'timeout' },
    ];
    for (const signal of signals) expect(parseCallSignal(encodeCallSignal(signal))).toEqual(signal);
  });

  it('refuse what is not a well-formed version 1 signal', () => {
    const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    const offer = {
      v: 1,
      type: 'offer',
      callId: CALL_ID,
      media: 'audio',
      sdp: sdp(mine),
      fingerprint: mine,
    };
    const bad: Uint8Array[] = [
      new Uint8Array([0xff, 0xfe]),
      new TextEncoder().encode('{not json'),
      bytes({ ...offer, v: 2 }),
      bytes({ ...offer, callId: 'short' }),
      bytes({ ...offer, media: 'screen' }),
      bytes({ ...offer, sdp: '' }),
      bytes({ ...offer, sdp: 'x'.repeat(40_000) }),
      bytes({ ...offer, fingerprint: { algorithm: 'sha-1', value: mine.value.slice(0, 59) } }),
      bytes({ ...offer, fingerprint: { algorithm: 'sha-256', value: 'not hex' } }),
      bytes({ ...offer, type: 'renegotiate' }),
      bytes({ v: 1, type: 'ice', callId: CALL_ID, candidates: 'all of them' }),
      bytes({
        v: 1,
        type: 'ice',
        callId: CALL_ID,
        candidates: Array(33).fill({ candidate: '', sdpMid: null, sdpMLineIndex: null }),
      }),
      bytes({ v: 1, type: 'decline', callId: CALL_ID, reason: 'bored' }),
      bytes({ v: 1, type: 'end', callId: CALL_ID, reason: 'whatever' }),
    ];
    for (const extra of bad) expect(() => parseCallSignal(extra)).toThrowError(/call signal/);
  });

  it('accept an SDP only when every fingerprint in it is the signed one', () => {
    expect(() => checkSdpFingerprint(sdp(mine), mine)).not.toThrow();
    expect(() =>
      checkSdpFingerprint(sdp(mine), { ...mine, value: mine.value.toLowerCase() }),
    ).not.toThrow();
    expect(() => checkSdpFingerprint(sdp(theirs), mine)).toThrowError(/not the one in the signed/);
    // One media section with another certificate is enough to refuse the whole description.
    expect(() => checkSdpFingerprint(sdp(mine, theirs), mine)).toThrowError(/not the one/);
    expect(() => checkSdpFingerprint(sdp(mine), { ...mine, algorithm: 'sha-384' })).toThrow();
    expect(() =>
      checkSdpFingerprint('v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n', mine),
    ).toThrowError(/names no DTLS fingerprint/);
  });
});

describe('call history', () => {
  const alice = 'aa'.repeat(16);
  const bob = 'bb'.repeat(16);
  let seq = 0;
  const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
  const message = (from: string, ms: number, signal: CallSignal): CallMessage => ({
    roomId: 'room',
    seq: ++seq,
    senderId: from,
    clientTime: Date.UTC(2026, 0, 1) + ms,
    sentAt: at(ms),
    own: from === alice,
    payload: { kind: 'call', extra: encodeCallSignal(signal) },
  });
  const id = (n: number) => String(n).padStart(32, '0');
  const offer = (n: number): CallSignal => ({
    type: 'offer',
    callId: id(n),
    media: n === 2 ? 'video' : 'audio',
    sdp: sdp(mine),
    fingerprint: mine,
  });

  it('tells each call’s outcome and the duration from the answer to the hang-up', () => {
    const messages = [
      // 1: answered by bob, alice hangs up 2:13 later.
      message(alice, 0, offer(1)),
      message(bob, 4000, { type: 'answer', callId: id(1), sdp: sdp(theirs), fingerprint: theirs }),
      message(alice, 4000 + 133_000, { type: 'end', callId: id(1), reason: 'hangup' }),
      // 2: bob declines a video call.
      message(alice, 200_000, offer(2)),
      message(bob, 203_000, { type: 'decline', callId: id(2), reason: 'declined' }),
      // 3: nobody answers; the caller's timeout ends it.
      message(bob, 300_000, offer(3)),
      message(bob, 330_000, { type: 'end', callId: id(3), reason: 'timeout' }),
      // 4: alice gives up herself.
      message(alice, 400_000, offer(4)),
      message(alice, 405_000, { type: 'end', callId: id(4), reason: 'cancelled' }),
      // 5: bob is busy.
      message(alice, 500_000, offer(5)),
      message(bob, 500_100, { type: 'decline', callId: id(5), reason: 'busy' }),
      // 6: an offer nobody ever settled (the caller's tab closed), long ago.
      message(bob, 600_000, offer(6)),
      // A decline from the caller itself settles nothing.
      message(alice, 700_000, offer(7)),
      message(alice, 700_100, { type: 'decline', callId: id(7), reason: 'declined' }),
    ].reverse();
    const records = callHistory(messages, Date.UTC(2026, 0, 1) + 700_200);
    const words = records.map((record) => describeCall(record, 'bob'));
    expect(words).toEqual([
      'Call with bob, 2:13',
      'bob declined the call',
      'Missed call from bob',
      'Cancelled call to bob',
      'bob was on another call',
      'Missed call from bob',
      'Call with bob',
    ]);
    expect(records[0]).toMatchObject({ outcome: 'completed', durationMs: 133_000, outgoing: true });
    expect(records[1]).toMatchObject({ outcome: 'declined', media: 'video' });
    expect(records.map((record) => record.outcome)).toEqual([
      'completed',
      'declined',
      'missed',
      'cancelled',
      'busy',
      'missed',
      'ongoing',
    ]);
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });
});

describe('calls between two clients', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let roomId: string;
  const bobClock = movableClock();

  async function person(name: string, clock?: Clock): Promise<Client> {
    const client = await createClient({
      transport: nodeTransport(server.baseUrl),
      keyStore: new MemoryKeyStore(),
      tuning: { reconnectMs: 50, maxReconnectMs: 500, ackTimeoutMs: 2000, ringTimeoutMs: 1500 },
      ...(clock === undefined ? {} : { clock }),
    });
    await client.signUp({ username: name, password: passwordOf(name) });
    client.connect();
    await client.connected();
    return client;
  }

  /** The next state of `client`'s call in `phase`. */
  const phase = (client: Client, wanted: CallState['phase']) =>
    client.next('call', (state) => state.phase === wanted);

  beforeAll(async () => {
    server = await startServer();
    alice = await person('alice');
    bob = await person('bob', bobClock);
    carol = await person('carol');
    roomId = (await alice.createDirect('bob')).roomId;
    await eventually(async () => {
      await bob.syncRooms();
      return bob.listRooms().some((room) => room.roomId === roomId);
    }, 'bob has the room');
  });

  afterAll(async () => {
    await Promise.all([alice.close(), bob.close(), carol.close()]);
    await server.close();
  });

  it('ring, answer, trickle candidates, connect and hang up, then both histories say so', async () => {
    const ringing = phase(bob, 'incoming-ringing');
    const started = await alice.calls.start(roomId, 'video', { sdp: sdp(mine), fingerprint: mine });
    expect(started).toMatchObject({
      phase: 'outgoing-ringing',
      outgoing: true,
      peerId: bob.me!.userId,
    });
    const incoming = await ringing;
    expect(incoming).toMatchObject({
      callId: started.callId,
      media: 'video',
      outgoing: false,
      peerId: alice.me!.userId,
    });
    expect(incoming.remote).toEqual({ type: 'offer', sdp: sdp(mine), fingerprint: mine });

    // Candidates sent while it rings wait at the other side until its connection takes them.
    const candidate = {
      candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    const heard = bob.next('call-candidates');
    await alice.calls.sendCandidates(started.callId, [candidate]);
    expect((await heard).candidates).toEqual([candidate]);
    expect(bob.calls.takeCandidates(started.callId)).toEqual([candidate]);
    expect(bob.calls.takeCandidates(started.callId)).toEqual([]);

    const answered = phase(alice, 'connecting');
    await bob.calls.accept(incoming.callId, { sdp: sdp(theirs), fingerprint: theirs });
    expect((await answered).remote).toEqual({
      type: 'answer',
      sdp: sdp(theirs),
      fingerprint: theirs,
    });
    await alice.calls.verifyRemoteCertificate(started.callId, theirs);
    await bob.calls.verifyRemoteCertificate(started.callId, mine);
    alice.calls.mediaConnected(started.callId);
    bob.calls.mediaConnected(started.callId);
    expect(alice.calls.current?.phase).toBe('active');

    const hungUp = phase(bob, 'ended');
    await alice.calls.hangUp(started.callId);
    expect(alice.calls.current).toMatchObject({ phase: 'ended', endReason: 'hangup' });
    expect(await hungUp).toMatchObject({ endReason: 'remote-hangup' });

    await eventually(async () => {
      const [theirRecord] = await bob.callHistory(roomId);
      return theirRecord?.outcome === 'completed' && theirRecord;
    }, 'bob’s history has the call');
    const [record] = await alice.callHistory(roomId);
    expect(record).toMatchObject({
      callId: started.callId,
      outcome: 'completed',
      outgoing: true,
      media: 'video',
    });
    expect(describeCall(record!, 'bob')).toMatch(/^Video call with bob, 0:0\d$/);
  });

  it('a declined call ends for the caller, and a ringing one cannot be started twice', async () => {
    const ringing = phase(bob, 'incoming-ringing');
    const started = await alice.calls.start(roomId, 'audio', { sdp: sdp(mine), fingerprint: mine });
    await expectClientCode(
      alice.calls.start(roomId, 'audio', { sdp: sdp(mine), fingerprint: mine }),
      'CALL_BUSY',
    );
    await ringing;
    await expectClientCode(bob.calls.hangUp('00'.repeat(16)), 'CALL_NOT_FOUND');
    const declined = phase(alice, 'ended');
    await bob.calls.decline(started.callId);
    expect(await declined).toMatchObject({ endReason: 'declined' });
    await eventually(async () => {
      const records = await alice.callHistory(roomId);
      return records.at(-1)?.outcome === 'declined';
    }, 'the history says declined');
  });

  it('rings out after the timeout: missed on both sides', async () => {
    const ringing = phase(bob, 'incoming-ringing');
    const started = await alice.calls.start(roomId, 'audio', { sdp: sdp(mine), fingerprint: mine });
    await ringing;
    const [mineEnded, theirsEnded] = await Promise.all([
      phase(alice, 'ended'),
      phase(bob, 'ended'),
    ]);
    expect(mineEnded).toMatchObject({ callId: started.callId, endReason: 'missed' });
    expect(theirsEnded).toMatchObject({ callId: started.callId, endReason: 'missed' });
    await eventually(async () => {
      const last = (await bob.callHistory(roomId)).at(-1);
      return last?.outcome === 'missed' && describeCall(last, 'alice') === 'Missed call from alice';
    }, 'bob’s history says missed');
  });

  it('refuses an offer whose SDP names another certificate than its signed fingerprint', async () => {
    const refused = phase(bob, 'ended');
    // Alice's signed signal vouches for one certificate while her SDP names another: what a
    // description rewritten on its way into the message looks like.
    const forged: CallSignal = {
      type: 'offer',
      callId: 'cd'.repeat(16),
      media: 'audio',
      sdp: sdp(theirs),
      fingerprint: mine,
    };
    await alice.send(roomId, { kind: 'call', extra: encodeCallSignal(forged) });
    const state = await refused;
    expect(state).toMatchObject({ callId: forged.callId, endReason: 'refused', remote: undefined });
    expect(state.error).toMatch(/media key does not match/);
    // The caller is told (end/refused); its history records a failed call, not a missed one.
    await eventually(async () => {
      const record = (await alice.callHistory(roomId)).find((r) => r.callId === forged.callId);
      return record?.outcome === 'failed';
    }, 'alice hears the refusal');
    // This client's own description must carry its own fingerprint too.
    await expectClientCode(
      alice.calls.start(roomId, 'audio', { sdp: sdp(theirs), fingerprint: mine }),
      'CALL_FINGERPRINT_MISMATCH',
    );
  });

  it('ends the call when the DTLS handshake met another certificate than the signed one', async () => {
    const ringing = phase(bob, 'incoming-ringing');
    const started = await alice.calls.start(roomId, 'audio', { sdp: sdp(mine), fingerprint: mine });
    await ringing;
    const answered = phase(alice, 'connecting');
    await bob.calls.accept(started.callId, { sdp: sdp(theirs), fingerprint: theirs });
    await answered;
    const told = phase(bob, 'ended');
    await expectClientCode(
      alice.calls.verifyRemoteCertificate(started.callId, fingerprint(7)),
      'CALL_FINGERPRINT_MISMATCH',
    );
    expect(alice.calls.current).toMatchObject({ endReason: 'refused' });
    expect(await told).toMatchObject({ endReason: 'refused' });
  });

  it('a media failure ends the call for both, as refused when the handshake refused the certificate', async () => {
    for (const refused of [false, true]) {
      const ringing = phase(bob, 'incoming-ringing');
      const started = await alice.calls.start(roomId, 'audio', {
        sdp: sdp(mine),
        fingerprint: mine,
      });
      await ringing;
      const answered = phase(alice, 'connecting');
      await bob.calls.accept(started.callId, { sdp: sdp(theirs), fingerprint: theirs });
      await answered;
      const told = phase(bob, 'ended');
      await alice.calls.mediaFailed(started.callId, 'no path', refused);
      expect(alice.calls.current).toMatchObject({
        endReason: refused ? 'refused' : 'failed',
        error: 'no path',
      });
      expect(await told).toMatchObject({ endReason: refused ? 'refused' : 'failed' });
      await expectClientCode(() => alice.calls.mediaConnected(started.callId), 'NOT_ALLOWED');
    }
  });

  it('does not ring for an offer read after its ring timeout, nor outside a direct room', async () => {
    bobClock.offsetMs = 60_000;
    try {
      let rang = false;
      const off = bob.on('call', () => (rang = true));
      const started = await alice.calls.start(roomId, 'audio', {
        sdp: sdp(mine),
        fingerprint: mine,
      });
      await eventually(
        async () => (await bob.callHistory(roomId)).some((r) => r.callId === started.callId),
        'bob got it',
      );
      await new Promise((done) => setTimeout(done, 200));
      off();
      expect(rang).toBe(false);
      await alice.calls.hangUp(started.callId);
    } finally {
      bobClock.offsetMs = 0;
    }
    const group = await alice.createGroup({ name: 'not for calls', members: ['carol'] });
    await expectClientCode(
      alice.calls.start(group.roomId, 'audio', { sdp: sdp(mine), fingerprint: mine }),
      'NOT_ALLOWED',
    );
  });

  it('answers busy to a second caller while in a call', async () => {
    const carolRoom = (await carol.createDirect('bob')).roomId;
    await eventually(async () => {
      await bob.syncRooms();
      return bob.listRooms().some((room) => room.roomId === carolRoom);
    }, 'bob has carol’s room');
    const ringing = phase(bob, 'incoming-ringing');
    const first = await alice.calls.start(roomId, 'audio', { sdp: sdp(mine), fingerprint: mine });
    await ringing;
    const busy = phase(carol, 'ended');
    await carol.calls.start(carolRoom, 'audio', { sdp: sdp(theirs), fingerprint: theirs });
    expect(await busy).toMatchObject({ endReason: 'busy' });
    expect(bob.calls.current).toMatchObject({ callId: first.callId, phase: 'incoming-ringing' });
    await alice.calls.hangUp(first.callId);
  });
});
