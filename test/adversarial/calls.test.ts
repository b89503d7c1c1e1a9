// Calls against a hostile peer and a hostile server. The peer's app (or whatever rewrote its
// description on the way into the message) sends an offer or an answer whose SDP names another DTLS
// certificate than the signed fingerprint: the receiving client refuses the call and never hands
// the description to its media stack. The server, which relays the signalling, can neither rewrite
// it (the signature fails) nor ring again with an old offer (a replay), and garbage signals from
// the peer change nothing and crash nothing.
import {
  MemoryKeyStore,
  encodeCallSignal,
  type CallSignal,
  type CallState,
  type Client,
  type DtlsFingerprint,
  type VerificationFailure,
} from '@parley/client';
import { fromBase64Url, toBase64Url } from '@parley/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, newDevice, startServer, type LiveServer } from '../e2e/harness';
import { HostileTransport, settle, watchProcess } from './hostile';

function fingerprint(byte: number): DtlsFingerprint {
  const bytes = Array.from({ length: 32 }, (_, i) =>
    ((byte + i) % 256).toString(16).padStart(2, '0'),
  );
  return { algorithm: 'sha-256', value: bytes.join(':').toUpperCase() };
}
const sdpNaming = (fp: DtlsFingerprint) =>
  `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:${fp.algorithm} ${fp.value}\r\n`;
const honest = fingerprint(1);
const intruder = fingerprint(200);
const newCallId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');

describe('call signalling under attack', () => {
  let server: LiveServer;
  let mallory: Client;
  let bob: Client;
  let network: HostileTransport;
  let roomId: string;
  let watch: ReturnType<typeof watchProcess>;
  const states: CallState[] = [];
  const failures: VerificationFailure[] = [];

  beforeAll(async () => {
    server = await startServer();
    network = new HostileTransport(server.baseUrl);
    mallory = await newDevice(server);
    bob = await newDevice(server, { transport: network, keyStore: new MemoryKeyStore() });
    await mallory.signUp({ username: 'mallory', password: 'mallory-password-1234' });
    await bob.signUp({ username: 'bob', password: 'bob-password-5678' });
    for (const client of [mallory, bob]) {
      client.connect();
      await client.connected();
    }
    roomId = (await mallory.createDirect('bob')).roomId;
    await eventually(
      async () => {
        await bob.syncRooms();
        return bob.listRooms().some((room) => room.roomId === roomId && room.canSend);
      },
      10_000,
      'bob has the room',
    );
    bob.on('call', (state) => states.push(state));
    bob.on('verification-failed', (failure) => failures.push(failure));
    watch = watchProcess();
  });

  afterAll(async () => {
    watch.stop();
    await Promise.all([mallory.close(), bob.close()]);
    await server.close();
  });

  const signal = async (from: Client, value: CallSignal) =>
    from.acked(
      (await from.send(roomId, { kind: 'call', extra: encodeCallSignal(value) })).messageId,
    );

  it('refuses an offer whose SDP fingerprint is not the signed one, and tells the caller', async () => {
    const callId = newCallId();
    const told = mallory.next(
      'message',
      (m) => m.roomId === roomId && !m.own && m.payload.kind === 'call',
    );
    await signal(mallory, {
      type: 'offer',
      callId,
      media: 'video',
      sdp: sdpNaming(intruder),
      fingerprint: honest,
    });
    await eventually(() => states.some((s) => s.callId === callId), 10_000, 'bob decides');
    const seen = states.filter((s) => s.callId === callId);
    // It never rang, and the description never left the client.
    expect(seen.map((s) => s.phase)).toEqual(['ended']);
    expect(seen[0]).toMatchObject({ endReason: 'refused', remote: undefined });
    expect(seen[0]!.error).toMatch(/media key does not match the signed signalling/);
    const refusal = await told;
    expect(new TextDecoder().decode(refusal.payload.extra)).toContain('"reason":"refused"');
  });

  it('refuses an answer whose SDP fingerprint is not the signed one', async () => {
    const ringing = mallory.next('call', (s) => s.phase === 'incoming-ringing');
    const call = await bob.calls.start(roomId, 'audio', {
      sdp: sdpNaming(honest),
      fingerprint: honest,
    });
    await ringing;
    const ended = bob.next('call', (s) => s.phase === 'ended');
    await signal(mallory, {
      type: 'answer',
      callId: call.callId,
      sdp: sdpNaming(intruder),
      fingerprint: honest,
    });
    expect(await ended).toMatchObject({
      callId: call.callId,
      endReason: 'refused',
      remote: undefined,
    });
  });

  it('a server rewriting the signalling breaks its signature, and a replayed offer does not ring', async () => {
    const callId = newCallId();
    let tampered = false;
    let offerFrame: string | undefined;
    // Echoes of the previous case pass first: the next frame of the room is then this offer.
    await settle(500);
    network.frames = (text) => {
      const frame = JSON.parse(text) as { type: string; room?: string; envelope?: string };
      if (frame.type !== 'message' || frame.room !== roomId || tampered) return [text];
      tampered = true;
      offerFrame = text;
      const bytes = fromBase64Url(frame.envelope!);
      bytes[bytes.length - 80]! ^= 0x01;
      return [JSON.stringify({ ...frame, envelope: toBase64Url(bytes) })];
    };
    const before = states.length;
    await signal(mallory, {
      type: 'offer',
      callId,
      media: 'audio',
      sdp: sdpNaming(honest),
      fingerprint: honest,
    });
    await eventually(() => failures.length > 0, 10_000, 'bob rejects the rewritten frame');
    expect(failures.at(-1)!.code).toMatch(/^MESSAGE_(BAD_SIGNATURE|DECRYPT_FAILED)$/);
    expect(states.length).toBe(before);

    // The genuine offer, then the server plays it again under a new sequence number.
    network.frames = (text) => [text];
    const rang = bob.next('call', (s) => s.callId === callId);
    await bob.catchUp(roomId);
    const first = await rang;
    expect(first.phase).toBe('incoming-ringing');
    await bob.calls.decline(callId);
    const replay = JSON.parse(offerFrame!) as { seq: number };
    const count = states.length;
    network.inject({ ...replay, seq: replay.seq + 1000 });
    await eventually(() => failures.at(-1)?.code === 'MESSAGE_DUPLICATE', 10_000, 'replay caught');
    expect(states.length).toBe(count);
  });

  it('ignores malformed signals and signals for calls it is not in, crashing nothing', async () => {
    const before = states.length;
    const garbage = [
      '{',
      '[]',
      '{"v":1,"type":"offer","callId":"zz"}',
      JSON.stringify({ v: 1, type: 'end', callId: newCallId(), reason: 'hangup' }),
    ];
    for (const text of garbage) {
      await mallory.acked(
        (await mallory.send(roomId, { kind: 'call', extra: new TextEncoder().encode(text) }))
          .messageId,
      );
    }
    await signal(mallory, {
      type: 'ice',
      callId: newCallId(),
      candidates: [
        { candidate: 'candidate:1 1 udp 1 10.0.0.1 1 typ host', sdpMid: '0', sdpMLineIndex: 0 },
      ],
    });
    await settle(500);
    expect(states.length).toBe(before);
    expect(watch.faults).toEqual([]);
  });
});
