import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import {
  Answer,
  device,
  person,
  shutDown,
  startServer,
  type Device,
  type LiveServer,
} from './live';

let server: LiveServer;
let alice: Client;
let bob: Device;

beforeAll(async () => {
  server = await startServer();
  alice = await person(server, 'alice');
  bob = await device(server, 'bob');
});

afterAll(async () => {
  await shutDown(bob);
  await alice.close();
  await server.close();
});

describe('RoomSync', () => {
  it('brings in rooms this account was added to while away, with their keys and messages', async () => {
    const { roomId } = await alice.createGroup({ name: 'while away', members: ['bob'] });
    await alice.acked((await alice.send(roomId, 'missed')).messageId);
    const heard = bob.parts.ctx.events.next('message', (m) => m.roomId === roomId);
    await bob.parts.sync.syncRooms();
    expect((await heard).text).toBe('missed');
    expect(bob.parts.sync.list()).toMatchObject([
      { roomId, canSend: true, info: { name: 'while away' } },
    ]);
  });

  it("keeps out a room the server lists that the room's chain does not give this account", async () => {
    const carol = await device(server, 'carol');
    const { roomId: theirs } = await carol.parts.membership.create('group', { name: 'carol only' });
    const chain = await carol.parts.ctx.api.chain(theirs, undefined);
    const described = await carol.parts.ctx.api.room(theirs);
    const mine = await bob.parts.ctx.api.rooms();
    // The server lists carol's room to bob, and hands him its (genuine) chain.
    bob.transport.rewrite = (method, path, body) => {
      if (method === 'GET' && path === '/api/rooms') return { rooms: [...mine.rooms, described] };
      if (method === 'GET' && path === `/api/rooms/${theirs}/chain`) return new Answer(200, chain);
      return body;
    };
    try {
      await bob.parts.sync.syncRooms();
    } finally {
      bob.transport.rewrite = (_method, _path, body) => body;
    }
    expect(bob.parts.sync.list().map((room) => room.roomId)).not.toContain(theirs);
    expect(bob.parts.ctx.rooms.has(theirs)).toBe(false);
    await shutDown(carol);
  });

  it('lists rooms newest activity first and leaves out those past their expiry', async () => {
    const { roomId: older } = await alice.createGroup({ name: 'older', members: ['bob'] });
    const { roomId: newer } = await alice.createGroup({ name: 'newer', members: ['bob'] });
    await bob.parts.sync.syncRooms();
    await alice.acked((await alice.send(newer, 'latest')).messageId);
    const order = (await bob.parts.sync.refresh()).map((room) => room.roomId);
    expect(order.indexOf(newer)).toBeLessThan(order.indexOf(older));
    bob.parts.ctx.rooms.get(older)!.summary!.expiresAt = new Date(Date.now() - 1000).toISOString();
    expect(bob.parts.sync.list().map((room) => room.roomId)).not.toContain(older);
  });
});
