import {
  createGenesis,
  fromHex,
  generateId,
  generateRoomKey,
  sealRoomKey,
  toBase64Url,
  toHex,
} from '@parley/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import type { VerificationFailure } from '../src/events';
import { rotatorOf } from '../src/room-keys';
import { RoomState } from '../src/room-state';
import { makeUser, type TestUser } from './helpers';
import { device, person, shutDown, startServer, type Device, type LiveServer } from './live';

describe('rotatorOf', () => {
  const users = [makeUser('a'), makeUser('b'), makeUser('c')].sort((x, y) =>
    x.userId.localeCompare(y.userId),
  );
  const [low, mid, high] = users as [TestUser, TestUser, TestUser];
  const keys = new Map(users.map((user) => [user.userId, user.identity.publicKey]));
  const identityKeyOf = (id: Uint8Array) => keys.get(toHex(id));

  function groupBy(creator: TestUser): { room: RoomState; entries: Uint8Array[] } {
    const room = new RoomState(toHex(generateId()));
    const entries = [
      createGenesis({
        roomId: room.roomIdBytes,
        kind: 'group',
        actorId: fromHex(creator.userId),
        actor: creator.identity,
      }),
    ];
    room.applyChain(entries, identityKeyOf);
    return { room, entries };
  }

  function append(
    { room, entries }: { room: RoomState; entries: Uint8Array[] },
    actor: TestUser,
    op: 'add' | 'remove' | 'leave' | 'promote',
    subject: TestUser,
  ): void {
    entries.push(room.nextEntry(actor.userId, actor.identity, op, subject.userId));
    room.applyChain(entries, identityKeyOf);
  }

  it('is the creator at genesis, and the admin who removed someone after a removal', () => {
    const group = groupBy(high);
    expect(rotatorOf(group.room)).toBe(high.userId);
    append(group, high, 'add', low);
    append(group, high, 'add', mid);
    expect(rotatorOf(group.room)).toBe(high.userId);
    append(group, high, 'promote', low);
    append(group, low, 'remove', mid);
    expect(rotatorOf(group.room)).toBe(low.userId);
  });

  it('is the lowest admin after a leave, whoever left', () => {
    const group = groupBy(high);
    append(group, high, 'add', low);
    append(group, high, 'add', mid);
    append(group, high, 'promote', mid);
    append(group, high, 'leave', high);
    // mid is the only admin left; low is lower but only a member.
    expect(rotatorOf(group.room)).toBe(mid.userId);
  });
});

describe('RoomKeys', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Device;
  let roomId: string;

  beforeAll(async () => {
    server = await startServer();
    alice = await person(server, 'alice');
    bob = await device(server, 'bob');
    roomId = (await alice.createGroup({ name: 'keys', members: ['bob'] })).roomId;
    await bob.parts.chains.adopt(roomId);
  });

  afterAll(async () => {
    await shutDown(bob);
    await alice.close();
    await server.close();
  });

  it('fetches the key of a new epoch once the chain moves to it, and tells of it', async () => {
    const room = bob.parts.ctx.rooms.get(roomId)!;
    expect(room.currentKey()?.epoch).toBe(0);
    const carol = await person(server, 'carol');
    await alice.addMember(roomId, carol.me!.userId);
    await alice.removeMember(roomId, carol.me!.userId);
    const arrived = bob.parts.ctx.events.next('room-key', (event) => event.roomId === roomId);
    await bob.parts.chains.sync(room);
    expect(room.epoch).toBe(1);
    expect(room.currentKey()?.epoch).toBe(1);
    expect(await arrived).toEqual({ roomId, epoch: 1 });
    await carol.close();
  });

  it('refuses a key handed out by someone the chain does not entitle (critical)', async () => {
    const { keys, ctx } = bob.parts;
    const room = ctx.rooms.get(roomId)!;
    const mallory = makeUser('mallory');
    await ctx.trust.observe(mallory.published);
    const failures: VerificationFailure[] = [];
    ctx.events.on('verification-failed', (failure) => failures.push(failure));
    const planted = sealRoomKey({
      roomKey: generateRoomKey(),
      roomId: room.roomIdBytes,
      epoch: room.epoch,
      recipientId: fromHex(bob.userId),
      recipientEncryptionKey: bob.parts.account.me!.encryptionKey,
      distributorId: fromHex(mallory.userId),
      distributor: mallory.identity,
    });
    const keyBefore = room.currentKey()!.key;
    expect(await keys.acceptEnvelope(room, toBase64Url(planted))).toBe(false);
    expect(room.currentKey()!.key).toEqual(keyBefore);
    expect(failures).toMatchObject([
      { code: 'ENVELOPE_UNAUTHORISED_DISTRIBUTOR', severity: 'critical', roomId },
    ]);
    expect(await keys.acceptEnvelope(room, 'not an envelope')).toBe(false);
    expect(failures.at(-1)).toMatchObject({ code: 'ENVELOPE_MALFORMED' });
  });
});
