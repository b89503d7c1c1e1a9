import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import type { ClientEvents } from '../src/events';
import { checkFrame } from '../src/boundary';
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
const outsider = 'dd'.repeat(16);

beforeAll(async () => {
  server = await startServer();
  alice = await person(server, 'alice');
  bob = await device(server, 'bob', { connect: true });
  roomId = (await alice.createGroup({ name: 'dispatch', members: ['bob'] })).roomId;
  await eventually(() => bob.parts.ctx.rooms.get(roomId)?.currentKey(), 'bob adopts the room');
});

afterAll(async () => {
  await shutDown(bob);
  await alice.close();
  await server.close();
});

function collect<K extends 'typing' | 'receipt' | 'presence' | 'join-request' | 'room-updated'>(
  type: K,
) {
  const seen: ClientEvents[K][] = [];
  const off = bob.parts.ctx.events.on(type, (event) => seen.push(event));
  return { seen, off };
}

describe('FrameDispatch', () => {
  it('adopted the room from the key frame sealed to it, once its chain named this account', () => {
    const room = bob.parts.ctx.rooms.get(roomId)!;
    expect(room.isMember(bob.userId)).toBe(true);
  });

  it('passes on typing and receipts of verified members only', async () => {
    const { dispatch } = bob.parts;
    const typing = collect('typing');
    const receipts = collect('receipt');
    dispatch.onFrame({ type: 'typing', room: roomId, user: outsider, active: true });
    dispatch.onFrame({ type: 'receipt', room: roomId, user: outsider, kind: 'read', seq: 1 });
    dispatch.onFrame({ type: 'typing', room: roomId, user: alice.me!.userId, active: true });
    dispatch.onFrame({
      type: 'receipt',
      room: roomId,
      user: alice.me!.userId,
      kind: 'read',
      seq: 1,
    });
    typing.off();
    receipts.off();
    expect(typing.seen).toEqual([{ roomId, userId: alice.me!.userId, active: true }]);
    expect(receipts.seen).toEqual([{ roomId, userId: alice.me!.userId, kind: 'read', seq: 1 }]);
  });

  it('looks the keys up again on a keys frame of a verified member only', async () => {
    const { dispatch, ctx } = bob.parts;
    const looked: string[] = [];
    bob.transport.rewrite = (_method, path, body) => {
      if (path.startsWith('/api/users/') && path.endsWith('/keys')) looked.push(path);
      return body;
    };
    try {
      dispatch.onFrame({ type: 'keys', room: roomId, user: outsider });
      dispatch.onFrame({ type: 'keys', room: 'ee'.repeat(16), user: alice.me!.userId });
      dispatch.onFrame({ type: 'keys', room: roomId, user: alice.me!.userId });
      await eventually(() => looked.length > 0, 'a look-up');
      await ctx.drain();
      expect(looked).toEqual([`/api/users/by-id/${alice.me!.userId}/keys`]);
      // Unchanged keys: nothing to report.
      expect(ctx.trust.get(alice.me!.userId)?.pendingChange).toBeUndefined();
    } finally {
      bob.transport.rewrite = (_method, _path, body) => body;
    }
  });

  it('moves nothing for a room this account is not a verified member of', async () => {
    const { dispatch, ctx } = bob.parts;
    const stranger = 'ee'.repeat(16);
    const requests = collect('join-request');
    const errors: string[] = [];
    const off = ctx.events.on('error', ({ operation }) => errors.push(operation));
    dispatch.onFrame({
      type: 'key',
      room: stranger,
      epoch: 0,
      distributor: outsider,
      envelope: 'AAAA',
    });
    dispatch.onFrame({ type: 'join-request', room: stranger, user: outsider, username: 'eve' });
    dispatch.onFrame({ type: 'typing', room: stranger, user: outsider, active: true });
    await eventually(() => errors.includes('adoptRoom'), 'the adoption fails');
    off();
    requests.off();
    expect(ctx.rooms.has(stranger)).toBe(false);
    expect(bob.parts.chains.known(stranger)).toBeUndefined();
    expect(requests.seen).toEqual([]);
    expect(await ctx.store.get(`room:${stranger}`)).toBeUndefined();
  });

  it('delivers a message frame into its room, after the room work queued before it', async () => {
    const heard = bob.parts.ctx.events.next('message', (m) => m.text === 'live');
    const { messageId } = await alice.send(roomId, 'live');
    const seq = await alice.acked(messageId);
    expect((await heard).seq).toBe(seq);
    await bob.parts.ctx.drain();
    expect(bob.parts.ctx.rooms.get(roomId)!.lastSeq).toBe(seq);
  });

  it('takes a room-updated frame into the room, and refuses a malformed one at the border', async () => {
    const { dispatch, ctx } = bob.parts;
    const updated = collect('room-updated');
    dispatch.onFrame({ type: 'room-updated', room: roomId, name: 'renamed', topic: 'new topic' });
    await ctx.drain();
    updated.off();
    expect(updated.seen).toEqual([{ roomId, name: 'renamed', topic: 'new topic' }]);
    expect(ctx.rooms.get(roomId)!.info).toMatchObject({ name: 'renamed', topic: 'new topic' });
    const checked = checkFrame(JSON.stringify({ type: 'room-updated', room: roomId, name: 7 }));
    expect(checked.ok).toBe(false);
  });

  it('forgets a room an admin deleted and says so', async () => {
    const { dispatch, ctx } = bob.parts;
    const other = await alice.createGroup({ name: 'doomed', members: ['bob'] });
    await eventually(() => ctx.rooms.has(other.roomId), 'bob knows the room');
    await ctx.drain();
    const deleted = ctx.events.next('deleted', (event) => event.roomId === other.roomId);
    dispatch.onFrame({ type: 'removed', room: other.roomId, reason: 'deleted' });
    await deleted;
    expect(ctx.rooms.has(other.roomId)).toBe(false);
    expect(await ctx.store.get(`room:${other.roomId}`)).toBeUndefined();
  });

  it('passes presence on, and forgets a room the server says expired', async () => {
    const { dispatch, ctx } = bob.parts;
    const presence = collect('presence');
    dispatch.onFrame({ type: 'presence', user: alice.me!.userId, status: 'away' });
    presence.off();
    expect(presence.seen).toEqual([{ userId: alice.me!.userId, status: 'away' }]);
    const expired = ctx.events.next('expired', (event) => event.roomId === roomId);
    dispatch.onFrame({ type: 'removed', room: roomId, reason: 'expired' });
    await expired;
    expect(ctx.rooms.has(roomId)).toBe(false);
  });
});
