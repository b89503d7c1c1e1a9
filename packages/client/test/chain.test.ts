import { toBase64Url } from '@parley/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../src/assemble';
import type { Client } from '../src/client';
import type { VerificationFailure } from '../src/events';
import { nodeTransport } from '../src/node';
import { device, person, shutDown, startServer, type Device, type LiveServer } from './live';

let server: LiveServer;
let alice: Client;
let bob: Device;
let roomId: string;

beforeAll(async () => {
  server = await startServer();
  alice = await person(server, 'alice');
  bob = await device(server, 'bob');
  roomId = (await alice.createGroup({ name: 'chain' })).roomId;
});

afterAll(async () => {
  await shutDown(bob);
  await alice.close();
  await server.close();
});

describe('RoomChains', () => {
  it('adopts a room only once its verified chain names this account', async () => {
    const { chains, ctx } = bob.parts;
    // A key frame naming a room this account is not in: the server refuses its chain.
    await expect(chains.adopt(roomId)).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    expect(ctx.rooms.has(roomId)).toBe(false);
    expect(chains.known(roomId)).toBeUndefined();
    expect(await ctx.store.keys('room:')).toEqual([]);
    await alice.addMember(roomId, bob.userId);
    await chains.adopt(roomId);
    expect(ctx.rooms.get(roomId)?.isMember(bob.userId)).toBe(true);
    expect(ctx.rooms.get(roomId)?.currentKey()).toBeDefined();
  });

  it('verifies the whole chain again on every sync and emits the members it says', async () => {
    const { chains, ctx } = bob.parts;
    const room = ctx.rooms.get(roomId)!;
    const carol = await person(server, 'carol');
    await alice.addMember(roomId, carol.me!.userId);
    const change = ctx.events.next('membership', (event) => event.roomId === roomId);
    await chains.sync(room);
    expect([...(await change).members.keys()].sort()).toEqual(
      [alice.me!.userId, bob.userId, carol.me!.userId].sort(),
    );
    await carol.close();
  });

  it('keeps the verified chain when the server rewrites it, and reports the fork', async () => {
    const { chains, ctx } = bob.parts;
    const room = ctx.rooms.get(roomId)!;
    const before = room.chain.length;
    const failures: VerificationFailure[] = [];
    ctx.events.on('verification-failed', (failure) => failures.push(failure));
    const forged = toBase64Url(crypto.getRandomValues(new Uint8Array(120)));
    // The server serves the chain from the start again, with its first entry swapped.
    bob.transport.rewrite = (method, path, body) => {
      if (method !== 'GET' || path !== `/api/rooms/${roomId}/chain`) return body;
      const page = body as { entries: { position: number; entry: string }[]; head: number };
      return { ...page, entries: [{ position: before, entry: forged }], head: before };
    };
    try {
      await expect(chains.sync(room)).rejects.toMatchObject({ name: 'ClientError' });
    } finally {
      bob.transport.rewrite = (_method, _path, body) => body;
    }
    expect(room.chain.length).toBe(before);
    expect(room.isMember(bob.userId)).toBe(true);
    expect(failures).toMatchObject([{ severity: 'critical', roomId }]);
  });

  it('loads the verified rooms a key store holds, and forgets a deleted one everywhere', async () => {
    const again = await assemble({
      transport: nodeTransport(server.baseUrl),
      keyStore: bob.store,
    });
    expect(again.ctx.rooms.get(roomId)?.chain.length).toBe(
      bob.parts.ctx.rooms.get(roomId)!.chain.length,
    );
    const room = bob.parts.ctx.rooms.get(roomId)!;
    const expired = bob.parts.ctx.events.next('expired');
    await bob.parts.chains.forget(room);
    expect(await expired).toEqual({ roomId });
    expect(bob.parts.ctx.rooms.has(roomId)).toBe(false);
    expect(await bob.store.get(`room:${roomId}`)).toBeUndefined();
  });
});
