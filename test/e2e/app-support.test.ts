// What a chat app needs beyond the protocol: history re-read after a reload (the app keeps no
// plaintext), delivered and read receipts without the app asking, unread counts and last activity,
// profiles and avatars, ending every session, and the account rules for a sign-up form.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, ClientEvents } from '@parley/client';
import { FileKeyStore } from '@parley/client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canSendIn,
  connectedUsers,
  eventually,
  failures,
  inbox,
  type LiveServer,
  newDevice,
  startServer,
} from './harness';
import { IMAGES } from '../../server/test/images';

type ReceiptEvent = ClientEvents['receipt'];

// A 1×1 PNG: the server checks an avatar's bytes against its declared type.
const PNG = Uint8Array.from(IMAGES['image/png']);

describe('app support', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  const clients: Client[] = [];
  let home: string;

  beforeAll(async () => {
    server = await startServer();
    home = await mkdtemp(join(tmpdir(), 'parley-e2e-app-'));
    clients.push(
      ...(await connectedUsers(server, ['alice', 'bob'], async (name) => ({
        keyStore: await FileKeyStore.open(join(home, name, 'keys.json')),
      }))),
    );
    [alice, bob] = clients as [Client, Client];
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  const receiptsAt = (client: Client, roomId: string): ReceiptEvent[] => {
    const seen: ReceiptEvent[] = [];
    client.on('receipt', (r) => r.roomId === roomId && seen.push(r));
    return seen;
  };

  it('shows already-read messages again in history after a reload, without a failure', async () => {
    const group = await alice.createGroup({ name: 'reload', members: ['bob'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(bob, roomId));
    const atBob = inbox(bob, roomId);
    for (const text of ['one', 'two', 'three']) {
      await alice.acked((await alice.send(roomId, text)).messageId);
    }
    await eventually(() => atBob.length === 3, 10_000, 'bob reads live');

    // A reload: the same key store, a new client, and the room opened again, twice.
    await bob.close();
    clients.splice(clients.indexOf(bob), 1);
    bob = await newDevice(server, {
      keyStore: await FileKeyStore.open(join(home, 'bob', 'keys.json')),
    });
    clients.push(bob);
    const bobFailures = failures(bob);
    const aliceFailures = failures(alice);
    for (let round = 0; round < 2; round++) {
      const page = await bob.history(roomId, { limit: 10 });
      expect(page.map((m) => m.text)).toEqual(['one', 'two', 'three']);
      expect(page.map((m) => m.seq)).toEqual(atBob.map((m) => m.seq));
      const own = await alice.history(roomId, { limit: 10 });
      expect(own.map((m) => [m.text, m.own])).toEqual([
        ['one', true],
        ['two', true],
        ['three', true],
      ]);
    }
    expect(bobFailures).toEqual([]);
    expect(aliceFailures).toEqual([]);

    // Reconnecting resumes after the last sequence number processed: nothing comes twice (a live
    // copy of a processed message would still be MESSAGE_DUPLICATE, see malicious.test.ts).
    const again = inbox(bob, roomId);
    bob.connect();
    await bob.connected();
    await alice.acked((await alice.send(roomId, 'four')).messageId);
    await eventually(() => again.length > 0, 10_000, 'bob reads live after the reload');
    expect(again.map((m) => m.text)).toEqual(['four']);
    expect(bobFailures).toEqual([]);
  });

  it('takes messages history() showed first as no replay when the live stream reaches them', async () => {
    const group = await alice.createGroup({ name: 'history first', members: ['bob'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(bob, roomId));
    const bobFailures = failures(bob);
    // Bob is away while alice writes; opening the room reads history before the socket resumes.
    bob.disconnect();
    for (const text of ['while', 'away']) {
      await alice.acked((await alice.send(roomId, text)).messageId);
    }
    const page = await bob.history(roomId);
    expect(page.map((m) => m.text)).toEqual(['while', 'away']);
    const live = inbox(bob, roomId);
    bob.connect();
    await bob.connected();
    await alice.acked((await alice.send(roomId, 'back')).messageId);
    await eventually(() => live.some((m) => m.text === 'back'), 10_000, 'bob reads live');
    expect(live.map((m) => m.text)).toEqual(['back']);
    expect(bobFailures).toEqual([]);
  });

  it('sends delivered receipts by itself, and read receipts when asked; both can be read back', async () => {
    const group = await alice.createGroup({ name: 'receipts', members: ['bob'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(bob, roomId));
    const atAlice = receiptsAt(alice, roomId);
    const atBob = inbox(bob, roomId);

    const seq = await alice.acked((await alice.send(roomId, 'did it arrive?')).messageId);
    await eventually(() => atBob.length === 1, 10_000, 'bob reads live');
    const delivered = await eventually(
      () => atAlice.find((r) => r.kind === 'delivered' && r.userId === bob.me!.userId),
      10_000,
      'delivered receipt',
    );
    expect(delivered.seq).toBe(seq);
    expect(atAlice.some((r) => r.kind === 'read')).toBe(false);

    await bob.markRead(roomId, seq);
    const read = await eventually(
      () => atAlice.find((r) => r.kind === 'read' && r.userId === bob.me!.userId),
      10_000,
      'read receipt',
    );
    expect(read.seq).toBe(seq);

    // After a reload the sender's app reads the markers back.
    const markers = await eventually(async () => {
      const all = await alice.receipts(roomId);
      const bobs = all.find((r) => r.userId === bob.me!.userId);
      return bobs !== undefined && bobs.readSeq === seq ? all : undefined;
    });
    expect(markers.find((r) => r.userId === bob.me!.userId)).toEqual({
      userId: bob.me!.userId,
      deliveredSeq: seq,
      readSeq: seq,
    });
  });

  it('counts unread messages and tracks last activity, from the server and live', async () => {
    const group = await alice.createGroup({ name: 'unread', members: ['bob'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(bob, roomId));
    const atBob = inbox(bob, roomId);
    for (const text of ['a', 'b']) await alice.acked((await alice.send(roomId, text)).messageId);
    await eventually(() => atBob.length === 2, 10_000, 'bob reads live');

    const rooms = await bob.refreshRooms();
    const view = rooms.find((r) => r.roomId === roomId)!;
    expect(view.unread).toBe(2);
    expect(Date.parse(view.lastActivity!)).toBeGreaterThan(Date.now() - 60_000);
    // Most recently active first.
    expect(rooms[0]!.roomId).toBe(roomId);
    const before = view.lastActivity!;

    await alice.acked((await alice.send(roomId, 'c')).messageId);
    await eventually(() => atBob.length === 3, 10_000, 'bob reads live');
    expect(bob.room(roomId).unread).toBe(3);
    expect(bob.room(roomId).lastActivity! >= before).toBe(true);
    // One's own messages are not unread.
    expect((await alice.refreshRooms()).find((r) => r.roomId === roomId)!.unread).toBe(3);

    await bob.markRead(roomId, atBob[2]!.seq);
    expect(bob.room(roomId).unread).toBe(0);
    await eventually(
      async () => (await bob.refreshRooms()).find((r) => r.roomId === roomId)!.unread === 0,
      10_000,
      'the server counts it read',
    );
  });

  it('tells the people who share a room that a profile changed', async () => {
    const group = await alice.createGroup({ name: 'profiles', members: ['bob'] });
    await eventually(() => canSendIn(bob, group.roomId), 10_000, 'bob in');
    const told = bob.next('profile', (event) => event.userId === alice.me!.userId);
    await alice.updateProfile({ statusMessage: 'reading' });
    await told;
    expect((await bob.getProfile(alice.me!.userId)).statusMessage).toBe('reading');
  });

  it('reads and changes profiles and avatars', async () => {
    const changed = await alice.updateProfile({ displayName: 'Alice A.', statusMessage: 'here' });
    expect(changed).toMatchObject({ displayName: 'Alice A.', statusMessage: 'here' });
    expect((await alice.myProfile()).displayName).toBe('Alice A.');
    expect(await bob.getProfile(alice.me!.userId)).toEqual({
      userId: alice.me!.userId,
      username: 'alice',
      displayName: 'Alice A.',
      statusMessage: 'here',
      hasAvatar: false,
    });
    expect(await bob.avatar(alice.me!.userId)).toBeUndefined();

    await alice.setAvatar(PNG, 'image/png');
    expect((await bob.getProfile(alice.me!.userId)).hasAvatar).toBe(true);
    expect(await bob.avatar(alice.me!.userId)).toEqual({ data: PNG, mediaType: 'image/png' });
    // The URL needs no session: an <img src> shows it.
    const response = await fetch(bob.avatarUrl(alice.me!.userId));
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(PNG);

    await expect(alice.setAvatar(utf8('not an image'), 'image/png')).rejects.toMatchObject({
      status: 400,
    });
    await alice.removeAvatar();
    expect(await bob.avatar(alice.me!.userId)).toBeUndefined();
    await alice.updateProfile({ statusMessage: null });
    expect((await bob.getProfile(alice.me!.userId)).statusMessage).toBeNull();
  });

  it('gives the account rules without a session, and ends every session of an account', async () => {
    const stranger = await newDevice(server);
    clients.push(stranger);
    const rules = await stranger.accountRules();
    expect(rules.username.minLength).toBeGreaterThan(0);
    expect(rules.password.minLength).toBeGreaterThan(0);

    const carol = await newDevice(server);
    clients.push(carol);
    await carol.signUp({ username: 'carol', password: 'carol-password-1234' });
    // A second session of the same account, as another browser would hold.
    const login = await fetch(`${server.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'carol', password: 'carol-password-1234' }),
    });
    const { refreshToken } = (await login.json()) as { refreshToken: string };

    expect(await carol.logOutEverywhere()).toBe(2);
    expect(carol.isLoggedIn).toBe(false);
    await expect(carol.myProfile()).rejects.toMatchObject({ code: 'NOT_SIGNED_IN' });
    const refresh = await fetch(`${server.baseUrl}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken }),
    });
    expect(refresh.status).toBe(401);
  });
});

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
