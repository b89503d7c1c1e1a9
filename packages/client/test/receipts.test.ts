import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import {
  device,
  eventually,
  person,
  shutDown,
  startServer,
  type Device,
  type LiveServer,
} from './live';

let server: LiveServer;
let alice: Client;
let bob: Device;
let roomId: string;
let seq: number;

beforeAll(async () => {
  server = await startServer();
  alice = await person(server, 'alice');
  bob = await device(server, 'bob');
  roomId = (await alice.createGroup({ name: 'receipts', members: ['bob'] })).roomId;
  const { messageId } = await alice.send(roomId, 'one');
  await alice.send(roomId, 'two');
  seq = (await alice.acked(messageId)) + 1;
  await alice.acked((await alice.send(roomId, 'three')).messageId);
  await bob.parts.sync.syncRooms();
});

afterAll(async () => {
  await shutDown(bob);
  await alice.close();
  await server.close();
});

describe('Receipts', () => {
  it('moves the read marker over REST when the socket is closed, and the unread count with it', async () => {
    const room = bob.parts.ctx.rooms.get(roomId)!;
    expect(room.lastSeq).toBe(seq + 1);
    await bob.parts.receipts.markRead(roomId, seq);
    expect(room.summary).toMatchObject({ readSeq: seq, unread: 1 });
    const markers = await alice.receipts(roomId);
    expect(markers.find((m) => m.userId === bob.userId)).toMatchObject({ readSeq: seq });
  });

  it('sends a delivered receipt once per new high-water mark, over the socket when it is open', async () => {
    const open = bob.parts.ctx.events.next('connection', (event) => event.state === 'open');
    bob.parts.connection.start();
    await open;
    await eventually(
      () => bob.transport.sent.some((frame) => frame.type === 'subscribe' && frame.room === roomId),
      'bob subscribes',
    );
    const seen: number[] = [];
    alice.on(
      'receipt',
      (r) => r.userId === bob.userId && r.kind === 'delivered' && seen.push(r.seq),
    );
    const before = bob.transport.sent.length;
    // A live message: bob's client says it was delivered by itself, once.
    const latest = await alice.acked((await alice.send(roomId, 'four')).messageId);
    await eventually(() => bob.parts.ctx.rooms.get(roomId)!.lastSeq === latest, 'bob receives it');
    await bob.parts.receipts.markDelivered(roomId, latest);
    await bob.parts.receipts.markDelivered(roomId, latest - 1);
    const frames = bob.transport.sent
      .slice(before)
      .filter((frame) => frame.type === 'receipt' && frame.kind === 'delivered');
    expect(frames).toEqual([{ type: 'receipt', room: roomId, kind: 'delivered', seq: latest }]);
    await eventually(() => seen.includes(latest), 'alice sees the delivered receipt');
  });

  it('keeps the chosen presence and tells every new socket, and relays typing', async () => {
    bob.parts.connection.stop();
    bob.parts.receipts.setPresence('away');
    const statuses: string[] = [];
    alice.on('presence', (p) => p.userId === bob.userId && statuses.push(p.status));
    const before = bob.transport.sent.length;
    const open = bob.parts.ctx.events.next('connection', (event) => event.state === 'open');
    bob.parts.connection.start();
    await open;
    await eventually(() => statuses.includes('away'), 'alice sees bob away');
    expect(bob.transport.sent.slice(before)).toContainEqual({ type: 'presence', status: 'away' });

    const typing = alice.next('typing', (t) => t.userId === bob.userId);
    bob.parts.receipts.setTyping(roomId, true);
    expect(await typing).toEqual({ roomId, userId: bob.userId, active: true });
  });
});
