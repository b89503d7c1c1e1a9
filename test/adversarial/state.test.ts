// Nothing the server says moves the client's state until what stands behind it verified: the
// resume position (lastSeq), the unread counts, the room list and the receipts. Each case is an
// attack on one of them, through a hostile network in front of bob, on a live server.
import { toBase64Url } from '@parley/crypto';
import { type Client, type ReceivedMessage } from '@parley/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  canSendIn,
  eventually,
  inbox,
  newDevice,
  startServer,
  type LiveServer,
} from '../e2e/harness';
import { HostileTransport, settle, watchProcess } from './hostile';

describe('nothing unverified moves client state', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let network: HostileTransport;
  let roomId: string;
  let atBob: ReceivedMessage[];
  let watch: ReturnType<typeof watchProcess>;

  beforeAll(async () => {
    server = await startServer();
    network = new HostileTransport(server.baseUrl);
    alice = await newDevice(server);
    bob = await newDevice(server, { transport: network });
    carol = await newDevice(server);
    await alice.signUp({ username: 'alice', password: 'alice-password-1234' });
    await bob.signUp({ username: 'bob', password: 'bob-password-5678' });
    await carol.signUp({ username: 'carol', password: 'carol-password-9012' });
    for (const client of [alice, bob, carol]) {
      client.connect();
      await client.connected();
    }
    roomId = (await alice.createGroup({ name: 'trio', members: ['bob', 'carol'] })).roomId;
    await eventually(
      () => canSendIn(bob, roomId) || bob.syncRooms().then(() => false),
      10_000,
      'bob in the group',
    );
    atBob = inbox(bob, roomId);
  });

  beforeEach(() => {
    network.answer = (_m, _p, body) => body;
    network.frames = (text) => [text];
    watch?.stop();
    watch = watchProcess();
  });

  afterAll(async () => {
    watch?.stop();
    await Promise.all([alice.close(), bob.close(), carol.close()]);
    await server.close();
  });

  async function aliceSays(text: string): Promise<void> {
    await alice.acked((await alice.send(roomId, text)).messageId);
  }

  function heard(text: string): Promise<ReceivedMessage> {
    return eventually(() => atBob.find((m) => m.text === text), 10_000, `bob hears "${text}"`);
  }

  it('an injected frame with an absurd seq does not move lastSeq nor silence the room', async () => {
    await aliceSays('before the forgery');
    await heard('before the forgery');
    const before = bob.room(roomId).lastSeq;
    const unread = bob.room(roomId).unread;
    network.inject({
      type: 'message',
      room: roomId,
      seq: Number.MAX_SAFE_INTEGER,
      envelope: toBase64Url(crypto.getRandomValues(new Uint8Array(200))),
      sentAt: new Date().toISOString(),
    });
    await settle(300);
    expect(bob.room(roomId).lastSeq).toBe(before);
    expect(bob.room(roomId).unread).toBe(unread);
    await aliceSays('after the forgery');
    await heard('after the forgery');
    expect(bob.room(roomId).lastSeq).toBeGreaterThan(before);
    expect(bob.room(roomId).lastSeq).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(watch.faults).toEqual([]);
  });

  it('a key frame for an unknown room does not create a room', async () => {
    const stranger = 'ee'.repeat(16);
    network.inject({
      type: 'key',
      room: stranger,
      epoch: 1,
      distributor: alice.me!.userId,
      envelope: 'AAAA',
    });
    await settle(500);
    expect(bob.listRooms().map((room) => room.roomId)).not.toContain(stranger);
    expect(watch.faults).toEqual([]);
  });

  it('a receipt or typing frame of someone outside the room is dropped', async () => {
    const receipts: unknown[] = [];
    const typing: unknown[] = [];
    const offReceipt = bob.on('receipt', (receipt) => receipts.push(receipt));
    const offTyping = bob.on('typing', (event) => typing.push(event));
    const outsider = 'dd'.repeat(16);
    network.inject({ type: 'receipt', room: roomId, user: outsider, kind: 'read', seq: 1 });
    network.inject({ type: 'typing', room: roomId, user: outsider, active: true });
    network.inject({ type: 'receipt', room: roomId, user: alice.me!.userId, kind: 'read', seq: 1 });
    await settle();
    offReceipt();
    offTyping();
    expect(receipts).toEqual([{ roomId, userId: alice.me!.userId, kind: 'read', seq: 1 }]);
    expect(typing).toEqual([]);
  });

  it('endless history paging is cut short: catch-up ends and send() is not blocked', async () => {
    let pages = 0;
    network.answer = (method, path, body, url) => {
      if (method !== 'GET' || path !== `/api/rooms/${roomId}/messages`) return body;
      if (!url.searchParams.has('after')) return body;
      pages += 1;
      const after = Number(url.searchParams.get('after'));
      const sentAt = new Date().toISOString();
      return {
        messages: Array.from({ length: 100 }, (_, i) => ({
          seq: after + i + 1,
          envelope: 'AAAA',
          sentAt,
        })),
        headSeq: Number.MAX_SAFE_INTEGER,
        more: true,
      };
    };
    const before = bob.room(roomId).lastSeq;
    const done = await Promise.race([
      bob.catchUp(roomId).then(() => 'done'),
      settle(20_000).then(() => 'still paging'),
    ]);
    expect(done).toBe('done');
    expect(pages).toBeLessThanOrEqual(20);
    expect(bob.room(roomId).lastSeq).toBe(before);
    network.answer = (_m, _p, body) => body;
    const { messageId } = await bob.send(roomId, 'still here');
    await expect(bob.acked(messageId)).resolves.toBeGreaterThan(before);
  });

  it('a genuine message that arrives late is verified and shown out of order', async () => {
    let late: string | undefined;
    network.frames = (text) => {
      const frame = JSON.parse(text) as { type?: string; room?: string };
      if (frame.type !== 'message' || frame.room !== roomId) return [text];
      if (late === undefined) {
        late = text;
        return [];
      }
      network.frames = (t) => [t];
      return [text, late];
    };
    await aliceSays('first, delivered second');
    await aliceSays('second, delivered first');
    await heard('second, delivered first');
    const first = await heard('first, delivered second');
    expect(first.status).toBe('out-of-order');
  });

  it('messages held for a missing key are released when the key comes by REST', async () => {
    // Keys reach bob only over REST, and not at first: the new epoch's first message is held.
    network.frames = (text) =>
      (JSON.parse(text) as { type?: string }).type === 'key' ? [] : [text];
    network.answer = (method, path, body) =>
      method === 'GET' && path === `/api/rooms/${roomId}/keys` ? { envelopes: [] } : body;
    await alice.removeMember(roomId, carol.me!.userId);
    await eventually(() => canSendIn(alice, roomId), 10_000, 'alice holds the new key');
    const epoch = alice.room(roomId).epoch;
    await eventually(() => bob.room(roomId).epoch === epoch, 10_000, 'bob sees the new epoch');
    await aliceSays('held for its key');
    await settle(500);
    expect(atBob.find((m) => m.text === 'held for its key')).toBeUndefined();
    // The key can now be fetched; the next message of the epoch makes bob fetch it.
    network.answer = (_m, _p, body) => body;
    await aliceSays('fetches the key');
    await heard('fetches the key');
    await heard('held for its key');
    expect(watch.faults).toEqual([]);
  });

  it('a direct room with someone else, passed off as the one with alice, is never used for it', async () => {
    const aliceId = alice.me!.userId;
    const withCarol = await bob.createDirect('carol');
    // alice opens a conversation with bob that bob never hears of: the server tells him nothing
    // live, hides it from his room list and names carol's room as the one with alice.
    network.frames = () => [];
    const withAlice = await alice.createDirect('bob');
    network.answer = (method, path, body) => {
      if (method !== 'GET' || path !== '/api/rooms') return body;
      const { rooms, ...rest } = body as { rooms: { id: string; peer: string | null }[] };
      return {
        ...rest,
        rooms: rooms
          .filter((room) => room.id !== withAlice.roomId)
          .map((room) => (room.id === withCarol.roomId ? { ...room, peer: aliceId } : room)),
      };
    };
    await settle();
    // The server's ROOM_EXISTS is true, but no room bob verified makes alice the other party.
    await expect(bob.createDirect('alice')).rejects.toMatchObject({
      code: 'DIRECT_ROOM_UNVERIFIED',
    });
    network.answer = (_m, _p, body) => body;
    network.frames = (text) => [text];
    expect((await bob.createDirect('alice')).roomId).toBe(withAlice.roomId);
    expect(watch.faults).toEqual([]);
  });
});
