// A socket drops in the middle of a conversation, several times: every message arrives exactly
// once, in order, on both sides, and the server stores each exactly once.
import type { Client, ReceivedMessage } from '@parley/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  failures,
  newDevice,
  startServer,
  TamperingTransport,
  type LiveServer,
} from './harness';

describe('a socket drop mid-conversation', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let aliceNetwork: TamperingTransport;
  let bobNetwork: TamperingTransport;

  beforeAll(async () => {
    server = await startServer();
    aliceNetwork = new TamperingTransport(server.baseUrl);
    bobNetwork = new TamperingTransport(server.baseUrl);
    alice = await newDevice(server, { transport: aliceNetwork });
    bob = await newDevice(server, { transport: bobNetwork });
    await alice.signUp({ username: 'alice', password: 'alice-password-1234' });
    await bob.signUp({ username: 'bob', password: 'bob-password-5678' });
    for (const client of [alice, bob]) {
      client.connect();
      await client.connected();
    }
  });

  afterAll(async () => {
    await Promise.all([alice.close(), bob.close()]);
    await server.close();
  });

  it('loses and doubles nothing', async () => {
    const room = await alice.createGroup({ name: 'pair', members: ['bob'] });
    await eventually(
      () => bob.listRooms().some((r) => r.roomId === room.roomId) || undefined,
      10_000,
      'bob sees the group',
    ).catch(async () => bob.syncRooms());
    await eventually(() => bob.room(room.roomId).canSend, 10_000, 'bob has the key');
    const bobFailures = failures(bob);
    const aliceFailures = failures(alice);
    const atBob: ReceivedMessage[] = [];
    const atAlice: ReceivedMessage[] = [];
    bob.on('message', (m) => m.roomId === room.roomId && !m.own && atBob.push(m));
    alice.on('message', (m) => m.roomId === room.roomId && !m.own && atAlice.push(m));

    const sent: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const text = `alice ${i}`;
      sent.push(text);
      await alice.send(room.roomId, text);
      if (i % 3 === 0) await bob.send(room.roomId, `bob ${i / 3}`);
      // Cut both sides at different moments, while messages are in flight.
      if (i % 7 === 0) aliceNetwork.cut();
      if (i % 11 === 0) bobNetwork.cut();
    }
    await eventually(() => atBob.length >= 30 || undefined, 30_000, 'bob has all 30');
    await eventually(() => atAlice.length >= 10 || undefined, 30_000, 'alice has all 10');
    await eventually(
      () => alice.pendingMessages().length === 0 && bob.pendingMessages().length === 0,
      30_000,
      'outboxes empty',
    );

    expect(atBob.map((m) => m.text)).toEqual(sent);
    expect(atAlice.map((m) => m.text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `bob ${i + 1}`),
    );
    expect(new Set(atBob.map((m) => m.seq)).size).toBe(30);
    expect(bobFailures).toEqual([]);
    expect(aliceFailures).toEqual([]);

    // The server stored every message exactly once: the full history, read from a fresh page.
    const stored = await bob.history(room.roomId, { limit: 100 });
    expect(stored.filter((m) => m.senderId === alice.me!.userId).map((m) => m.text)).toEqual(sent);
    expect(stored).toHaveLength(40);
    expect(aliceNetwork.sockets.length).toBeGreaterThan(1);
    // Messages cut off before their acknowledgement went out again, the same bytes each time.
    const sends = aliceNetwork.sent.filter((frame) => frame.type === 'send');
    expect(sends.length).toBeGreaterThan(30);
    expect(new Set(sends.map((frame) => frame.envelope)).size).toBe(30);
    expect(bobNetwork.sockets.length).toBeGreaterThan(1);
  });
});
