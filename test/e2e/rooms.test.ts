// Rooms beyond the basics: direct conversations, group administration (promote, demote, a refused
// removal, leaving with a new epoch keyed by the chosen member), paging history back, typing,
// presence and receipts, and an outbox that survives a restart of the client.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@parley/client';
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

describe('rooms', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  const clients: Client[] = [];
  let home: string;

  beforeAll(async () => {
    server = await startServer();
    home = await mkdtemp(join(tmpdir(), 'parley-e2e-'));
    clients.push(...(await connectedUsers(server, ['alice', 'bob', 'carol'])));
    [alice, bob, carol] = clients as [Client, Client, Client];
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('opens one direct conversation between two people, whoever starts it', async () => {
    const fromAlice = await alice.createDirect('bob');
    expect(fromAlice.kind).toBe('direct');
    expect([...fromAlice.members.keys()].sort()).toEqual([alice.me!.userId, bob.me!.userId].sort());
    const fromBob = await bob.createDirect('alice');
    expect(fromBob.roomId).toBe(fromAlice.roomId);
    await eventually(() => bob.room(fromBob.roomId).canSend, 10_000, 'bob has the key');
    const atAlice = inbox(alice, fromAlice.roomId);
    await bob.send(fromBob.roomId, 'just between us');
    await eventually(
      () => atAlice.some((m) => m.text === 'just between us'),
      10_000,
      'alice reads',
    );
  });

  it('administers a group: promote, demote, refuse a member removing someone, leave with a new epoch', async () => {
    const group = await alice.createGroup({ name: 'admins', members: ['bob', 'carol'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(carol, roomId), 10_000, 'carol in');
    await expect(carol.removeMember(roomId, bob.me!.userId)).rejects.toMatchObject({
      code: 'NOT_ALLOWED',
    });
    expect((await alice.promote(roomId, bob.me!.userId)).members.get(bob.me!.userId)).toBe('admin');
    await eventually(
      () => bob.room(roomId).members.get(bob.me!.userId) === 'admin',
      10_000,
      'bob sees it',
    );
    expect((await alice.demote(roomId, bob.me!.userId)).members.get(bob.me!.userId)).toBe('member');

    const epoch = alice.room(roomId).epoch;
    await carol.leave(roomId);
    // Nobody removed carol, so the member every client picks (the admin, alice) makes the key.
    await eventually(
      () => bob.room(roomId).epoch === epoch + 1 && bob.room(roomId).canSend,
      10_000,
      'bob has the key of the new epoch',
    );
    expect(bob.room(roomId).members.has(carol.me!.userId)).toBe(false);
    const atAlice = inbox(alice, roomId);
    await bob.send(roomId, 'after carol left');
    await eventually(
      () => atAlice.some((m) => m.text === 'after carol left' && m.epoch === epoch + 1),
      10_000,
      'alice reads',
    );
  });

  it('tells a removed member who removed them, and dates every membership line', async () => {
    const group = await alice.createGroup({ name: 'lines', members: ['bob', 'carol'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(carol, roomId), 10_000, 'carol in');
    const removed = carol.next('removed', (event) => event.roomId === roomId);
    const seenByBob = bob.next(
      'membership',
      (event) => event.roomId === roomId && event.changes.some((line) => line.op === 'remove'),
    );
    await alice.removeMember(roomId, carol.me!.userId);
    expect(await removed).toEqual({ roomId, by: alice.me!.userId });
    const [line] = (await seenByBob).changes;
    expect(line).toMatchObject({ op: 'remove', actorId: alice.me!.userId });
    expect(line!.subjectId).toBe(carol.me!.userId);

    const log = carol.membershipLog(roomId);
    expect(log.map((entry) => [entry.op, entry.subjectId])).toEqual([
      ['genesis', undefined],
      ['add', bob.me!.userId],
      ['add', carol.me!.userId],
      ['remove', carol.me!.userId],
    ]);
    for (const entry of log) expect(Date.parse(entry.at ?? '')).toBeGreaterThan(0);
  });

  it('lets an admin rename a group, edit its topic and delete it, live for every member', async () => {
    const group = await alice.createGroup({ name: 'before', members: ['bob', 'carol'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(bob, roomId) && canSendIn(carol, roomId), 10_000, 'both in');
    await expect(bob.updateRoom(roomId, { name: 'mine now' })).rejects.toMatchObject({
      code: 'NOT_AN_ADMIN',
    });
    await expect(bob.deleteRoom(roomId)).rejects.toMatchObject({ code: 'NOT_AN_ADMIN' });

    const heard = bob.next('room-updated', (event) => event.roomId === roomId);
    const view = await alice.updateRoom(roomId, { name: 'after', topic: 'what we do' });
    expect(view.info).toMatchObject({ name: 'after', topic: 'what we do' });
    expect(await heard).toEqual({ roomId, name: 'after', topic: 'what we do' });
    expect(bob.room(roomId).info).toMatchObject({ name: 'after', topic: 'what we do' });

    const goneAtBob = bob.next('deleted', (event) => event.roomId === roomId);
    carol.disconnect();
    await alice.deleteRoom(roomId);
    expect(alice.listRooms().some((room) => room.roomId === roomId)).toBe(false);
    await goneAtBob;
    expect(bob.listRooms().some((room) => room.roomId === roomId)).toBe(false);
    // Carol was away: her device finds out when it next syncs.
    const goneAtCarol = carol.next('deleted', (event) => event.roomId === roomId);
    carol.connect();
    await goneAtCarol;
    expect(carol.listRooms().some((room) => room.roomId === roomId)).toBe(false);
  });

  it('keeps a join request while no member is online, withdraws it, and lets the newcomer in later', async () => {
    const channel = await alice.createChannel({ name: 'night owls', topic: 'late' });
    const roomId = channel.roomId;
    alice.disconnect();
    const [dave] = await connectedUsers(server, ['dave-joins']);
    clients.push(dave!);
    await dave!.requestJoin(roomId);
    expect((await dave!.pendingJoins()).map((request) => request.roomId)).toEqual([roomId]);
    await dave!.cancelJoin(roomId);
    expect(await dave!.pendingJoins()).toEqual([]);

    await dave!.requestJoin(roomId);
    const joined = dave!.next('joined', (event) => event.roomId === roomId);
    // The only member comes back: its client lets the waiting newcomer in, nobody clicks.
    alice.connect();
    await joined;
    await eventually(() => canSendIn(dave!, roomId), 10_000, 'dave can write');
    expect(await dave!.pendingJoins()).toEqual([]);
  });

  it('pages history back, and relays typing, presence and read receipts', async () => {
    const group = await alice.createGroup({ name: 'pages', members: ['bob'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(bob, roomId), 10_000, 'bob in');
    for (let i = 1; i <= 5; i++)
      await alice.acked((await alice.send(roomId, `page ${i}`)).messageId);

    const newest = await bob.history(roomId, { limit: 2 });
    expect(newest.map((m) => m.text)).toEqual(['page 4', 'page 5']);
    const older = await bob.history(roomId, { before: newest[0]!.seq, limit: 2 });
    expect(older.map((m) => m.text)).toEqual(['page 2', 'page 3']);

    const typing = bob.next('typing', (event) => event.roomId === roomId);
    alice.setTyping(roomId, true);
    expect(await typing).toMatchObject({ userId: alice.me!.userId, active: true });

    const presence = bob.next('presence', (event) => event.userId === alice.me!.userId);
    alice.setPresence('away');
    expect((await presence).status).toBe('away');

    const receipt = alice.next(
      'receipt',
      (event) => event.roomId === roomId && event.kind === 'read',
    );
    await bob.markRead(roomId, newest[1]!.seq);
    expect(await receipt).toMatchObject({ userId: bob.me!.userId, seq: newest[1]!.seq });
  });

  it('keeps unsent messages across a restart of the client and delivers each once', async () => {
    const path = join(home, 'dave', 'keys.json');
    let dave = await newDevice(server, { keyStore: await FileKeyStore.open(path) });
    await dave.signUp({ username: 'dave', password: 'dave-password-1234' });
    const group = await alice.createGroup({ name: 'restart', members: ['dave'] });
    const roomId = group.roomId;
    await dave.syncRooms();
    expect(dave.room(roomId).canSend).toBe(true);

    // Offline: the messages wait in the outbox, on disk.
    await dave.send(roomId, 'written offline 1');
    await dave.send(roomId, 'written offline 2');
    expect(dave.pendingMessages(roomId)).toHaveLength(2);
    await dave.close();

    const atAlice = inbox(alice, roomId);
    const aliceFailures = failures(alice);
    dave = await newDevice(server, { keyStore: await FileKeyStore.open(path) });
    clients.push(dave);
    expect(dave.pendingMessages(roomId)).toHaveLength(2);
    dave.connect();
    await eventually(() => dave.pendingMessages().length === 0, 10_000, 'outbox empty');
    await eventually(() => atAlice.length >= 2 || undefined, 10_000, 'alice reads both');
    expect(atAlice.map((m) => m.text)).toEqual(['written offline 1', 'written offline 2']);
    expect(aliceFailures).toEqual([]);
  });
});
