import { describe, expect, it } from 'vitest';
import { assemble } from '../src/assemble';
import { MemoryKeyStore } from '../src/key-store/memory';
import { nodeTransport } from '../src/node';
import { RoomState } from '../src/room-state';
import { expectClientCode } from './helpers';

// A context as a client builds it; nothing here talks to a server.
async function context() {
  const parts = await assemble({
    transport: nodeTransport('http://127.0.0.1:9'),
    keyStore: new MemoryKeyStore(),
  });
  return parts.ctx;
}

describe('ClientContext', () => {
  it("runs one room's tasks one after the other, even after one fails", async () => {
    const ctx = await context();
    const order: string[] = [];
    const slow = ctx.serial('r', async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      order.push('first');
      throw new Error('first fails');
    });
    const next = ctx.serial('r', async () => {
      order.push('second');
      return 2;
    });
    const other = ctx.serial('s', async () => {
      order.push('other room');
    });
    await expect(slow).rejects.toThrow('first fails');
    await expect(next).resolves.toBe(2);
    await other;
    expect(order).toEqual(['other room', 'first', 'second']);
  });

  it('refuses what needs an account or a known room with a stable code', async () => {
    const ctx = await context();
    await expectClientCode(() => ctx.requireSecrets('send'), 'NOT_SIGNED_IN');
    await expectClientCode(() => ctx.myId, 'NOT_SIGNED_IN');
    await expectClientCode(() => ctx.requireRoom('ab'.repeat(16), 'send'), 'ROOM_NOT_FOUND');
    expect(ctx.isMine(new RoomState('ab'.repeat(16)))).toBe(false);
  });

  it('saves a room under its id in the key store', async () => {
    const ctx = await context();
    const room = new RoomState('cd'.repeat(16));
    await ctx.saveRoom(room);
    expect(await ctx.store.keys('room:')).toEqual([`room:${room.roomId}`]);
    expect(await ctx.store.get(`room:${room.roomId}`)).toEqual(room.toRecord());
  });
});
