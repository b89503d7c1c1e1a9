import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import { expectClientCode } from './helpers';
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
let alice: Device;
let bob: Client;
let carol: Client;

beforeAll(async () => {
  server = await startServer();
  alice = await device(server, 'alice', { connect: true });
  bob = await person(server, 'bob');
  carol = await person(server, 'carol');
});

afterAll(async () => {
  await shutDown(alice);
  await Promise.all([bob.close(), carol.close()]);
  await server.close();
});

describe('Membership', () => {
  it('creates a group whose first key this device makes, and adds a member who gets it', async () => {
    const { membership } = alice.parts;
    const created = await membership.create('group', { name: 'team' });
    expect(created).toMatchObject({ kind: 'group', epoch: 0, canSend: true });
    expect([...created.members]).toEqual([[alice.userId, 'admin']]);
    await membership.change(created.roomId, 'add', bob.me!.userId);
    expect(membership.view(created.roomId).members.get(bob.me!.userId)).toBe('member');
    await bob.syncRooms();
    expect(bob.room(created.roomId).canSend).toBe(true);
  });

  it('refuses a change the chain does not allow before the server sees it (NOT_ALLOWED)', async () => {
    const { roomId } = await bob.createGroup({ name: "bob's", members: ['alice'] });
    await alice.parts.sync.syncRooms();
    const before = alice.parts.ctx.rooms.get(roomId)!.chain.length;
    await expectClientCode(
      alice.parts.membership.change(roomId, 'promote', alice.userId),
      'NOT_ALLOWED',
    );
    const { entries } = await alice.parts.ctx.api.chain(roomId, undefined);
    expect(entries).toHaveLength(before);
  });

  it('starts a new epoch at a removal, whose key the removed member never gets', async () => {
    const { membership, ctx } = alice.parts;
    const { roomId } = await membership.create('group', { name: 'shrinking' });
    await membership.change(roomId, 'add', bob.me!.userId);
    await membership.change(roomId, 'add', carol.me!.userId);
    await Promise.all([bob.syncRooms(), carol.syncRooms()]);
    const carolKeys: number[] = [];
    carol.on('room-key', (event) => event.roomId === roomId && carolKeys.push(event.epoch));
    const removed = carol.next('removed', (event) => event.roomId === roomId);
    await membership.change(roomId, 'remove', carol.me!.userId);
    expect(membership.view(roomId)).toMatchObject({ epoch: 1, canSend: true });
    await removed;
    const sealed = await ctx.api.keys(roomId);
    expect(sealed.envelopes.map((e) => e.epoch).sort()).toEqual([0, 1]);
    await eventually(
      () => bob.room(roomId).epoch === 1 && bob.room(roomId).canSend,
      'bob gets epoch 1',
    );
    expect(carol.room(roomId).canSend).toBe(false);
    expect(carolKeys).not.toContain(1);
  });

  it('finds the direct conversation that exists already instead of making a second', async () => {
    const first = await alice.parts.membership.create('direct', {}, bob.me!.userId);
    const again = await alice.parts.membership.create('direct', {}, bob.me!.userId);
    expect(again.roomId).toBe(first.roomId);
  });

  it('admits a newcomer to a channel while online, with the key sealed to them', async () => {
    const { roomId } = await alice.parts.membership.create('channel', {
      name: 'open',
      topic: 'all',
    });
    const admitted = alice.parts.ctx.events.next('admitted', (event) => event.roomId === roomId);
    const joined = await carol.join(roomId, { timeoutMs: 20_000 });
    expect(await admitted).toEqual({ roomId, userId: carol.me!.userId });
    expect(joined.canSend).toBe(true);
    const listed = await alice.parts.membership.browseChannels({ q: 'open' });
    expect(listed.channels).toContainEqual({ roomId, name: 'open', topic: 'all', tags: [] });
  });
});
