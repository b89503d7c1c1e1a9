import {
  createGenesis,
  createMembershipEntry,
  decodeMembershipEntry,
  generateId,
  toBase64Url,
  toHex,
} from '@parley/crypto';
import type { ChainPage, ChannelPage, Room, RoomKeyList } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { expectError, registerUser } from './accounts';
import { createTestApp } from './helpers';
import { expectUnchanged, expiredToken } from './room-state';
import {
  appendEntry,
  createPerson,
  createRoom,
  distributeKey,
  groupWith,
  listen,
  TestRoom,
  sendOver,
  TestSocket,
  type Person,
} from './rooms-fixtures';

let app: ParleyApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app.close();
});

let listening: Promise<string> | undefined;
/** The shared app's WebSocket URL (it listens once, for every test that needs a socket). */
function wsUrl(): Promise<string> {
  listening ??= listen(app);
  return listening;
}

function post(person: Person | undefined, url: string, payload: unknown) {
  return app.inject({
    method: 'POST',
    url,
    headers: person?.auth ?? {},
    payload: payload as object,
  });
}
function get(person: Person | undefined, url: string) {
  return app.inject({ method: 'GET', url, headers: person?.auth ?? {} });
}

function genesis(creator: Person, kind: 'channel' | 'group' | 'direct', peer?: Person): Uint8Array {
  return createGenesis({
    roomId: generateId(),
    kind,
    ...(peer === undefined ? {} : { peerId: peer.idBytes }),
    actorId: creator.idBytes,
    actor: creator.identity,
  });
}

describe('POST /api/rooms', () => {
  it('creates a channel from its genesis entry, with the creator as admin', async () => {
    const alice = await createPerson(app);
    const entry = genesis(alice, 'channel');
    const response = await post(alice, '/api/rooms', {
      genesis: toBase64Url(entry),
      name: 'Gardening',
      topic: 'Tomatoes and more',
      tags: ['plants', 'outdoors'],
    });
    expect(response.statusCode, response.body).toBe(201);
    const room = response.json<Room>();
    expect(room).toMatchObject({
      id: toHex(decodeMembershipEntry(entry).roomId),
      kind: 'channel',
      name: 'Gardening',
      topic: 'Tomatoes and more',
      tags: ['plants', 'outdoors'],
      peer: null,
      ephemeral: false,
      expiresAt: null,
      headSeq: 0,
      chainHead: 0,
      epoch: 0,
      memberCount: 1,
      membership: { role: 'admin', deliveredSeq: 0, readSeq: 0, unread: 0 },
    });
    const mine = (await get(alice, '/api/rooms')).json<{ rooms: Room[] }>().rooms;
    expect(mine.map((r) => r.id)).toContain(room.id);
    const chain = (await get(alice, `/api/rooms/${room.id}/chain`)).json<ChainPage>();
    expect(chain).toEqual({
      entries: [{ position: 0, entry: toBase64Url(entry), appendedAt: expect.any(String) }],
      head: 0,
    });
  });

  it('creates a group, an expiring room and an ephemeral room', async () => {
    const alice = await createPerson(app);
    const group = await post(alice, '/api/rooms', {
      genesis: toBase64Url(genesis(alice, 'group')),
      name: 'Family',
      expiresInDays: 7,
      ephemeral: true,
    });
    expect(group.statusCode, group.body).toBe(201);
    const room = group.json<Room>();
    expect(room.kind).toBe('group');
    expect(room.ephemeral).toBe(true);
    const expires = Date.parse(room.expiresAt!) - Date.parse(room.createdAt);
    expect(Math.abs(expires - 7 * 24 * 3600 * 1000)).toBeLessThan(60_000);
  });

  it('creates a direct conversation once per pair of people', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const first = await post(alice, '/api/rooms', {
      genesis: toBase64Url(genesis(alice, 'direct', bob)),
    });
    expect(first.statusCode, first.body).toBe(201);
    const room = first.json<Room>();
    expect(room).toMatchObject({ kind: 'direct', peer: bob.id, memberCount: 2, name: null });
    const seenByBob = (await get(bob, '/api/rooms')).json<{ rooms: Room[] }>().rooms;
    expect(seenByBob.find((r) => r.id === room.id)?.peer).toBe(alice.id);

    await expectUnchanged(app, async () => {
      const again = await post(bob, '/api/rooms', {
        genesis: toBase64Url(genesis(bob, 'direct', alice)),
      });
      expectError(again, 409, 'ROOM_EXISTS');
      expect(again.json<{ error: { message: string } }>().error.message).toContain(room.id);
    });
  });

  it('refuses bad input and changes nothing', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const good = toBase64Url(genesis(alice, 'channel'));
    const tampered = genesis(alice, 'channel');
    tampered[tampered.length - 1]! ^= 1;
    const unknownPeer = createGenesis({
      roomId: generateId(),
      kind: 'direct',
      peerId: generateId(),
      actorId: alice.idBytes,
      actor: alice.identity,
    });
    const cases: [unknown, number, string, Person | undefined][] = [
      [{ genesis: good, name: 'x', topic: 'y' }, 401, 'UNAUTHENTICATED', undefined],
      [{ genesis: 42, name: 'x', topic: 'y' }, 400, 'VALIDATION_FAILED', alice],
      [{ genesis: good, name: 'x', topic: 'y', owner: 'me' }, 400, 'VALIDATION_FAILED', alice],
      [{ genesis: `${good}=`, name: 'x', topic: 'y' }, 400, 'VALIDATION_FAILED', alice],
      [{ genesis: good.slice(0, -1), name: 'x', topic: 'y' }, 400, 'VALIDATION_FAILED', alice],
      [{ genesis: 'A'.repeat(2000), name: 'x', topic: 'y' }, 400, 'VALIDATION_FAILED', alice],
      [
        { genesis: toBase64Url(new Uint8Array(40)), name: 'x', topic: 'y' },
        400,
        'CHAIN_INVALID',
        alice,
      ],
      [{ genesis: toBase64Url(tampered), name: 'x', topic: 'y' }, 400, 'CHAIN_INVALID', alice],
      [{ genesis: good, name: 'x', topic: 'y' }, 403, 'NOT_THE_ACTOR', bob],
      [{ genesis: good, name: 'x' }, 400, 'ROOM_DETAILS_INVALID', alice],
      [{ genesis: good, name: 'x', topic: 'y', tags: ['Bad Tag'] }, 400, 'TAG_INVALID', alice],
      [{ genesis: good, name: 'x', topic: 'y', tags: ['-dash'] }, 400, 'TAG_INVALID', alice],
      [{ genesis: good, name: 'x', topic: 'y', tags: ['a', 'a'] }, 400, 'TAG_INVALID', alice],
      [
        {
          genesis: good,
          name: 'x',
          topic: 'y',
          tags: Array.from({ length: 11 }, (_, i) => `t${i}`),
        },
        400,
        'TAG_INVALID',
        alice,
      ],
      [{ genesis: good, name: 'x', topic: 'y', expiresInDays: 3 }, 400, 'VALIDATION_FAILED', alice],
      [{ genesis: good, name: 'x'.repeat(81), topic: 'y' }, 400, 'VALIDATION_FAILED', alice],
      [{ genesis: toBase64Url(unknownPeer) }, 404, 'PEER_NOT_FOUND', alice],
    ];
    await expectUnchanged(app, async () => {
      for (const [payload, status, code, person] of cases) {
        expectError(await post(person, '/api/rooms', payload), status, code);
      }
    });
  });

  it('refuses a room whose id exists, a creator without keys, and an expired token', async () => {
    const alice = await createPerson(app);
    const room = await createRoom(app, alice, 'channel');
    const keyless = await registerUser(app);
    await expectUnchanged(app, async () => {
      const again = await post(alice, '/api/rooms', {
        genesis: toBase64Url(room.entries[0]!),
        name: 'again',
        topic: 'again',
      });
      expectError(again, 409, 'ROOM_EXISTS');
      const expired = await app.inject({
        method: 'POST',
        url: '/api/rooms',
        headers: { authorization: `Bearer ${expiredToken(alice.accessToken)}` },
        payload: { genesis: toBase64Url(genesis(alice, 'group')), name: 'g' },
      });
      expectError(expired, 401, 'TOKEN_EXPIRED');
      const keylessGroup = await app.inject({
        method: 'POST',
        url: '/api/rooms',
        headers: keyless.auth,
        payload: {
          genesis: toBase64Url(
            createGenesis({
              roomId: generateId(),
              kind: 'group',
              actorId: Buffer.from(keyless.id, 'hex'),
              actor: alice.identity,
            }),
          ),
          name: 'g',
        },
      });
      expectError(keylessGroup, 404, 'KEYS_NOT_PUBLISHED');
    });
  });
});

describe('GET /api/rooms/:id', () => {
  it('shows members their room, anyone a channel, and refuses strangers a group', async () => {
    const alice = await createPerson(app);
    const stranger = await createPerson(app);
    const group = await createRoom(app, alice, 'group');
    const channel = await createRoom(app, alice, 'channel');
    expect((await get(alice, `/api/rooms/${group.id}`)).json<Room>().membership?.role).toBe(
      'admin',
    );
    const seen = await get(stranger, `/api/rooms/${channel.id}`);
    expect(seen.statusCode).toBe(200);
    expect(seen.json<Room>().membership).toBeNull();
    expectError(await get(stranger, `/api/rooms/${group.id}`), 403, 'NOT_A_MEMBER');
    expectError(await get(stranger, `/api/rooms/${toHex(generateId())}`), 404, 'ROOM_NOT_FOUND');
    expectError(await get(stranger, '/api/rooms/not-an-id'), 400, 'VALIDATION_FAILED');
    expectError(await get(undefined, `/api/rooms/${group.id}`), 401, 'UNAUTHENTICATED');
  });
});

describe('GET /api/channels', () => {
  it('searches by name, topic and tag, and pages by keyset without gaps or repeats', async () => {
    const alice = await createPerson(app);
    const marker = toHex(generateId()).slice(0, 8);
    const names = ['Alpha', 'bravo', 'Charlie', 'delta', 'Echo'];
    for (const [index, name] of names.entries()) {
      await createRoom(app, alice, 'channel', {
        name: `${name} ${marker}`,
        topic: index % 2 === 0 ? `even ${marker}` : 'odd',
        tags: index < 2 ? [`t${marker}`] : [],
      });
    }
    await createRoom(app, alice, 'group', { name: `Hidden ${marker}` });

    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const query = new URLSearchParams({ q: marker, limit: '2', ...(cursor ? { cursor } : {}) });
      const page = (await get(alice, `/api/channels?${query}`)).json<ChannelPage>();
      expect(page.channels.length).toBeLessThanOrEqual(2);
      all.push(...page.channels.map((c) => c.name!));
      cursor = page.cursor;
    } while (cursor !== undefined);
    expect(all).toEqual(names.map((n) => `${n} ${marker}`));

    const byTopic = (await get(alice, `/api/channels?q=EVEN%20${marker}`)).json<ChannelPage>();
    expect(byTopic.channels.map((c) => c.name)).toEqual([
      `Alpha ${marker}`,
      `Charlie ${marker}`,
      `Echo ${marker}`,
    ]);
    const byTag = (await get(alice, `/api/channels?tag=t${marker}`)).json<ChannelPage>();
    expect(byTag.channels.map((c) => c.name)).toEqual([`Alpha ${marker}`, `bravo ${marker}`]);
    const wildcard = (await get(alice, `/api/channels?q=%25${marker}`)).json<ChannelPage>();
    expect(wildcard.channels).toEqual([]);

    expectError(
      await get(alice, '/api/channels?cursor=bm90LWEtY3Vyc29y'),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await get(alice, '/api/channels?limit=0'), 400, 'VALIDATION_FAILED');
    expectError(await get(alice, '/api/channels?limit=101'), 400, 'VALIDATION_FAILED');
    expectError(await get(alice, '/api/channels?sort=name'), 400, 'VALIDATION_FAILED');
    expectError(await get(undefined, '/api/channels'), 401, 'UNAUTHENTICATED');
    expectError(await get(alice, '/api/channels?tag=Bad%20Tag'), 400, 'TAG_INVALID');
  });

  it('finds channels with every word of the query in the name, the topic or the tags', async () => {
    const alice = await createPerson(app);
    const marker = toHex(generateId()).slice(0, 8);
    const channels = [
      { name: `Async Rust ${marker}`, topic: 'futures and executors', tags: [] },
      { name: `Systems ${marker}`, topic: 'low-level programming', tags: ['rust', 'async'] },
      { name: `Tokio ${marker}`, topic: 'An ASYNC runtime', tags: ['rust'] },
      { name: `Rust ${marker}`, topic: 'the language', tags: ['beginners'] },
      { name: `Python ${marker}`, topic: 'async too', tags: ['asyncio'] },
    ];
    for (const channel of channels) await createRoom(app, alice, 'channel', channel);
    const found = async (q: string) =>
      (await get(alice, `/api/channels?${new URLSearchParams({ q })}`))
        .json<ChannelPage>()
        .channels.map((c) => c.name);

    expect(await found(`rust async ${marker}`)).toEqual([
      `Async Rust ${marker}`,
      `Systems ${marker}`,
      `Tokio ${marker}`,
    ]);
    expect(await found(`  RUST   ${marker}  async `)).toEqual(await found(`rust async ${marker}`));
    expect(await found(`asyncio ${marker}`)).toEqual([`Python ${marker}`]);
    expect(await found(`rust beginners ${marker}`)).toEqual([`Rust ${marker}`]);
    // One channel must hold every word: words spread over two channels find neither.
    expect(await found(`rust python ${marker}`)).toEqual([]);
    expect(await found(`executors ${marker} asyncio`)).toEqual([]);
  });
});

describe('membership chain', () => {
  it('follows add, promote, demote, remove and leave, mirroring members and epochs', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const room = await createRoom(app, alice, 'group');
    await appendEntry(app, room, alice, 'add', bob);
    await appendEntry(app, room, alice, 'add', carol);
    await appendEntry(app, room, alice, 'promote', bob);
    expect((await get(bob, `/api/rooms/${room.id}`)).json<Room>().membership?.role).toBe('admin');
    await appendEntry(app, room, bob, 'demote', alice);
    await appendEntry(app, room, bob, 'remove', carol);
    let state = (await get(alice, `/api/rooms/${room.id}`)).json<Room>();
    expect(state).toMatchObject({
      chainHead: 5,
      epoch: 1,
      memberCount: 2,
      membership: { role: 'member' },
    });
    await appendEntry(app, room, alice, 'leave', alice);
    state = (await get(bob, `/api/rooms/${room.id}`)).json<Room>();
    expect(state).toMatchObject({ chainHead: 6, epoch: 2, memberCount: 1 });

    // Former members may read the chain (to see their own removal) but nothing else.
    const chain = (await get(carol, `/api/rooms/${room.id}/chain?after=3`)).json<ChainPage>();
    expect(chain.entries.map((e) => e.position)).toEqual([4, 5, 6]);
    expect(chain.entries.map((e) => e.entry)).toEqual(room.entries.slice(4).map(toBase64Url));
    expectError(await get(carol, `/api/rooms/${room.id}/messages`), 403, 'NOT_A_MEMBER');
    expectError(await get(carol, `/api/rooms/${room.id}`), 403, 'NOT_A_MEMBER');
    const stranger = await createPerson(app);
    expectError(await get(stranger, `/api/rooms/${room.id}/chain`), 403, 'NOT_A_MEMBER');
  });

  it('refuses entries that break the rules, the link or the signature, changing nothing', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const room = await createRoom(app, alice, 'group');
    await appendEntry(app, room, alice, 'add', bob);
    const other = await createRoom(app, alice, 'group');

    const stale = createMembershipEntry({
      roomId: room.idBytes,
      previous: { position: 0, hash: new Uint8Array(32) },
      actorId: alice.idBytes,
      actor: alice.identity,
      op: 'add',
      subjectId: carol.idBytes,
    });
    const badLink = createMembershipEntry({
      roomId: room.idBytes,
      previous: { position: 1, hash: new Uint8Array(32) },
      actorId: alice.idBytes,
      actor: alice.identity,
      op: 'add',
      subjectId: carol.idBytes,
    });
    const forged = room.entry(alice, 'add', carol);
    forged[forged.length - 3]! ^= 0x40;
    const byBobAsAlice = createMembershipEntry({
      roomId: room.idBytes,
      previous: room.head,
      actorId: alice.idBytes,
      actor: bob.identity,
      op: 'add',
      subjectId: carol.idBytes,
    });
    const cases: [Person | undefined, string, Uint8Array | string, number, string][] = [
      [bob, room.id, room.entry(bob, 'add', carol), 403, 'CHAIN_NOT_ALLOWED'],
      [alice, room.id, room.entry(alice, 'add', bob), 403, 'CHAIN_NOT_ALLOWED'],
      [alice, room.id, room.entry(alice, 'remove', alice), 403, 'CHAIN_NOT_ALLOWED'],
      [alice, room.id, room.entry(alice, 'admit', carol), 403, 'CHAIN_NOT_ALLOWED'],
      [alice, room.id, room.entry(alice, 'demote', bob), 403, 'CHAIN_NOT_ALLOWED'],
      [alice, room.id, stale, 409, 'CHAIN_CONFLICT'],
      [alice, room.id, badLink, 409, 'CHAIN_CONFLICT'],
      [alice, room.id, forged, 400, 'CHAIN_INVALID'],
      [alice, room.id, byBobAsAlice, 400, 'CHAIN_INVALID'],
      [bob, room.id, room.entry(alice, 'add', carol), 403, 'NOT_THE_ACTOR'],
      [alice, other.id, room.entry(alice, 'add', carol), 400, 'CHAIN_INVALID'],
      [alice, room.id, room.entries[0]!, 403, 'CHAIN_NOT_ALLOWED'],
      [alice, room.id, new Uint8Array(100), 400, 'CHAIN_INVALID'],
      [alice, room.id, 'not base64!', 400, 'VALIDATION_FAILED'],
      [alice, toHex(generateId()), room.entry(alice, 'add', carol), 400, 'CHAIN_INVALID'],
      [undefined, room.id, room.entry(alice, 'add', carol), 401, 'UNAUTHENTICATED'],
    ];
    await expectUnchanged(app, async () => {
      for (const [person, roomId, entry, status, code] of cases) {
        const response = await post(person, `/api/rooms/${roomId}/chain`, {
          entry: typeof entry === 'string' ? entry : toBase64Url(entry),
        });
        expectError(response, status, code);
      }
      expectError(
        await post(alice, `/api/rooms/${room.id}/chain`, {
          entry: toBase64Url(room.entry(alice, 'add', carol)),
          x: 1,
        }),
        400,
        'VALIDATION_FAILED',
      );
      const ghost = new TestRoom(generateId(), 'group');
      ghost.entries.push(
        createGenesis({
          roomId: ghost.idBytes,
          kind: 'group',
          actorId: alice.idBytes,
          actor: alice.identity,
        }),
      );
      expectError(
        await post(alice, `/api/rooms/${ghost.id}/chain`, {
          entry: toBase64Url(ghost.entry(alice, 'add', carol)),
        }),
        404,
        'ROOM_NOT_FOUND',
      );
      const unknownUser = toHex(generateId());
      expectError(
        await post(alice, `/api/rooms/${room.id}/chain`, {
          entry: toBase64Url(room.entry(alice, 'add', unknownUser)),
        }),
        404,
        'USER_NOT_FOUND',
      );
    });
  });

  it('lets any channel member admit a newcomer, but nobody add to a direct conversation', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const channel = await createRoom(app, alice, 'channel');
    await appendEntry(app, channel, alice, 'add', bob);
    await appendEntry(app, channel, bob, 'admit', carol);
    expect((await get(carol, `/api/rooms/${channel.id}`)).json<Room>().membership?.role).toBe(
      'member',
    );

    const direct = await createRoom(app, alice, 'direct', {}, bob);
    const add = await post(alice, `/api/rooms/${direct.id}/chain`, {
      entry: toBase64Url(direct.entry(alice, 'add', carol)),
    });
    expectError(add, 403, 'CHAIN_NOT_ALLOWED');
    await appendEntry(app, direct, bob, 'leave', bob);
    expect((await get(alice, `/api/rooms/${direct.id}`)).json<Room>()).toMatchObject({
      memberCount: 1,
      epoch: 1,
    });
  });
});

describe('bans', () => {
  it('keeps a banned person out: no join request, no admission, no add, until an admin lifts it', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const channel = await createRoom(app, alice, 'channel');
    await post(bob, `/api/rooms/${channel.id}/join-requests`, {});
    const banned = await post(alice, `/api/rooms/${channel.id}/bans`, { userId: bob.id });
    expect(banned.statusCode, banned.body).toBe(204);
    // The ban also ends the request that was waiting.
    const waiting = await get(alice, `/api/rooms/${channel.id}/join-requests`);
    expect(waiting.json<{ requests: unknown[] }>().requests).toEqual([]);
    expectError(await post(bob, `/api/rooms/${channel.id}/join-requests`, {}), 403, 'BANNED');
    const admit = await post(alice, `/api/rooms/${channel.id}/chain`, {
      entry: toBase64Url(channel.entry(alice, 'admit', bob)),
    });
    expectError(admit, 403, 'BANNED');
    const list = await get(carol, `/api/rooms/${channel.id}/bans`);
    expectError(list, 403, 'NOT_A_MEMBER');
    expect(
      (await get(alice, `/api/rooms/${channel.id}/bans`)).json<{ bans: { userId: string }[] }>()
        .bans,
    ).toMatchObject([{ userId: bob.id, username: bob.username }]);

    const lifted = await app.inject({
      method: 'DELETE',
      url: `/api/rooms/${channel.id}/bans/${bob.id}`,
      headers: alice.auth,
    });
    expect(lifted.statusCode, lifted.body).toBe(204);
    expect((await post(bob, `/api/rooms/${channel.id}/join-requests`, {})).statusCode).toBe(202);
    await appendEntry(app, channel, alice, 'admit', bob);
  });

  it('lets only admins ban, not oneself, and nobody in a direct conversation', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const group = await createRoom(app, alice, 'group');
    await appendEntry(app, group, alice, 'add', bob);
    await expectUnchanged(app, async () => {
      expectError(
        await post(bob, `/api/rooms/${group.id}/bans`, { userId: carol.id }),
        403,
        'NOT_AN_ADMIN',
      );
      expectError(
        await post(alice, `/api/rooms/${group.id}/bans`, { userId: alice.id }),
        400,
        'BAN_INVALID',
      );
      expectError(
        await post(alice, `/api/rooms/${group.id}/bans`, { userId: 'nope' }),
        400,
        'VALIDATION_FAILED',
      );
      expectError(
        await post(alice, `/api/rooms/${group.id}/bans`, { userId: toHex(generateId()) }),
        404,
        'USER_NOT_FOUND',
      );
    });
    // A banned person cannot be added to a group either.
    expect(
      (await post(alice, `/api/rooms/${group.id}/bans`, { userId: carol.id })).statusCode,
    ).toBe(204);
    const add = await post(alice, `/api/rooms/${group.id}/chain`, {
      entry: toBase64Url(group.entry(alice, 'add', carol)),
    });
    expectError(add, 403, 'BANNED');
  });
});

describe('join requests', () => {
  it('records a request, shows it to members, and ends it when the newcomer is admitted', async () => {
    const [alice, bob, stranger] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const channel = await createRoom(app, alice, 'channel');
    const requested = await post(bob, `/api/rooms/${channel.id}/join-requests`, {});
    expect(requested.statusCode, requested.body).toBe(202);
    expect(requested.json()).toMatchObject({ userId: bob.id, username: bob.username });

    const list = await get(alice, `/api/rooms/${channel.id}/join-requests`);
    expect(list.json<{ requests: { userId: string }[] }>().requests.map((r) => r.userId)).toEqual([
      bob.id,
    ]);
    expectError(await get(stranger, `/api/rooms/${channel.id}/join-requests`), 403, 'NOT_A_MEMBER');

    await appendEntry(app, channel, alice, 'admit', bob);
    const after = await get(alice, `/api/rooms/${channel.id}/join-requests`);
    expect(after.json<{ requests: unknown[] }>().requests).toEqual([]);
  });

  it("lists the caller's own waiting requests and withdraws one", async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const first = await createRoom(app, alice, 'channel');
    const second = await createRoom(app, alice, 'channel');
    await post(bob, `/api/rooms/${first.id}/join-requests`, {});
    await post(bob, `/api/rooms/${second.id}/join-requests`, {});
    const mine = async (person: typeof bob) =>
      (await get(person, '/api/join-requests'))
        .json<{ requests: { roomId: string }[] }>()
        .requests.map((request) => request.roomId);
    expect(await mine(bob)).toEqual([first.id, second.id]);
    expect(await mine(alice)).toEqual([]);

    const cancelled = await app.inject({
      method: 'DELETE',
      url: `/api/rooms/${first.id}/join-requests`,
      headers: bob.auth,
    });
    expect(cancelled.statusCode, cancelled.body).toBe(204);
    expect(await mine(bob)).toEqual([second.id]);
    const members = await get(alice, `/api/rooms/${first.id}/join-requests`);
    expect(members.json<{ requests: unknown[] }>().requests).toEqual([]);

    // Admission ends the request for the newcomer's own list too.
    await appendEntry(app, second, alice, 'admit', bob);
    expect(await mine(bob)).toEqual([]);
    expectError(await get(undefined, '/api/join-requests'), 401, 'UNAUTHENTICATED');
  });

  it('dates each chain entry, so clients can place membership lines among messages', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const group = await createRoom(app, alice, 'group');
    await appendEntry(app, group, alice, 'add', bob);
    const page = (await get(alice, `/api/rooms/${group.id}/chain`)).json<{
      entries: { position: number; appendedAt: string }[];
    }>();
    expect(page.entries.map((entry) => entry.position)).toEqual([0, 1]);
    for (const entry of page.entries) {
      expect(Math.abs(Date.parse(entry.appendedAt) - Date.now())).toBeLessThan(60_000);
    }
  });

  it('refuses requests to groups, from members, to unknown rooms and with a body', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const group = await createRoom(app, alice, 'group');
    const channel = await createRoom(app, alice, 'channel');
    await expectUnchanged(app, async () => {
      expectError(
        await post(bob, `/api/rooms/${group.id}/join-requests`, {}),
        409,
        'JOIN_NOT_APPLICABLE',
      );
      expectError(
        await post(alice, `/api/rooms/${channel.id}/join-requests`, {}),
        409,
        'JOIN_NOT_APPLICABLE',
      );
      expectError(
        await post(bob, `/api/rooms/${toHex(generateId())}/join-requests`, {}),
        404,
        'ROOM_NOT_FOUND',
      );
      expectError(
        await post(bob, `/api/rooms/${channel.id}/join-requests`, { please: true }),
        400,
        'VALIDATION_FAILED',
      );
      expectError(
        await post(undefined, `/api/rooms/${channel.id}/join-requests`, {}),
        401,
        'UNAUTHENTICATED',
      );
    });
  });
});

describe('room-key envelopes', () => {
  it('stores envelopes from a member to members and gives each recipient their own', async () => {
    const [alice, bob] = [await createPerson(app), await createPerson(app)];
    const room = await groupWith(app, alice, [bob]);
    await appendEntry(app, room, alice, 'remove', bob);
    await distributeKey(app, room, alice, [alice]);

    const bobs = (await get(alice, `/api/rooms/${room.id}/keys`)).json<RoomKeyList>();
    expect(bobs.envelopes.map((e) => e.epoch)).toEqual([0, 1]);
    expect(bobs.envelopes.every((e) => e.distributor === alice.id)).toBe(true);
    const epoch1 = (await get(alice, `/api/rooms/${room.id}/keys?epoch=1`)).json<RoomKeyList>();
    expect(epoch1.envelopes).toHaveLength(1);
    expectError(await get(bob, `/api/rooms/${room.id}/keys`), 403, 'NOT_A_MEMBER');
  });

  it('refuses envelopes that are malformed, forged, misaddressed or early, changing nothing', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const room = await groupWith(app, alice, [bob]);
    const other = await groupWith(app, alice, []);
    const forged = room.envelope(alice, bob);
    forged[forged.length - 1]! ^= 1;
    const cases: [Person, string, (Uint8Array | string)[], number, string][] = [
      [alice, room.id, [room.envelope(alice, carol)], 400, 'ENVELOPE_INVALID'],
      [alice, room.id, [room.envelope(alice, bob), forged], 400, 'ENVELOPE_INVALID'],
      [alice, room.id, [room.envelope(alice, bob, 5)], 400, 'ENVELOPE_INVALID'],
      [alice, room.id, [other.envelope(alice, alice)], 400, 'ENVELOPE_INVALID'],
      [alice, room.id, [new Uint8Array(50)], 400, 'ENVELOPE_INVALID'],
      [alice, room.id, ['***'], 400, 'VALIDATION_FAILED'],
      [alice, room.id, [], 400, 'VALIDATION_FAILED'],
      [bob, room.id, [room.envelope(alice, bob)], 403, 'NOT_THE_ACTOR'],
      [carol, room.id, [room.envelope(carol, bob)], 403, 'NOT_A_MEMBER'],
      [alice, toHex(generateId()), [room.envelope(alice, bob)], 400, 'ENVELOPE_INVALID'],
    ];
    await expectUnchanged(app, async () => {
      for (const [person, roomId, envelopes, status, code] of cases) {
        const response = await post(person, `/api/rooms/${roomId}/keys`, {
          envelopes: envelopes.map((e) => (typeof e === 'string' ? e : toBase64Url(e))),
        });
        expectError(response, status, code);
      }
      expectError(await get(carol, `/api/rooms/${room.id}/keys`), 403, 'NOT_A_MEMBER');
      expectError(
        await get(alice, `/api/rooms/${room.id}/keys?epoch=-1`),
        400,
        'VALIDATION_FAILED',
      );
    });
  });
});

describe('room expiry', () => {
  it('refuses an expired room at once, before the sweeper deletes it', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const room = await createRoom(app, alice, 'group', { expiresInDays: 7 });
    await appendEntry(app, room, alice, 'add', bob);
    await distributeKey(app, room, alice, [alice, bob]);
    const url = await wsUrl();
    const socket = await TestSocket.authenticated(url, alice);
    expect((await sendOver(socket, room.id, room.message(alice, 'in time'))).type).toBe('ack');

    await app.db
      .updateTable('rooms')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', room.id)
      .execute();
    // The sweeper (every minute here) has not run: the row is still there.
    expect(
      await app.db.selectFrom('rooms').select('id').where('id', '=', room.id).execute(),
    ).toHaveLength(1);

    const get = (path: string) => app.inject({ method: 'GET', url: path, headers: alice.auth });
    expectError(await get(`/api/rooms/${room.id}`), 404, 'ROOM_NOT_FOUND');
    expectError(await get(`/api/rooms/${room.id}/messages`), 404, 'ROOM_NOT_FOUND');
    const rooms = (await get('/api/rooms')).json<{ rooms: Room[] }>().rooms;
    expect(rooms.map((r) => r.id)).not.toContain(room.id);
    const upload = await app.inject({
      method: 'POST',
      url: `/api/rooms/${room.id}/attachments`,
      headers: { ...alice.auth, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('late'),
    });
    expectError(upload, 404, 'ROOM_NOT_FOUND');
    expect(await sendOver(socket, room.id, room.message(alice, 'too late'))).toMatchObject({
      type: 'error',
      code: 'ROOM_NOT_FOUND',
    });
    socket.send({ type: 'subscribe', room: room.id });
    expect(await socket.next((f) => f.type === 'error' && f.ref === room.id)).toMatchObject({
      code: 'ROOM_NOT_FOUND',
    });
    const stored = await app.db
      .selectFrom('messages')
      .select('seq')
      .where('room_id', '=', room.id)
      .execute();
    expect(stored).toHaveLength(1);
    socket.close();
  });

  it('deletes an expired room with its messages, chain, envelopes and attachments', async () => {
    const sweeping = await createTestApp({ config: { roomSweepIntervalMs: 50 } });
    try {
      const alice = await createPerson(sweeping);
      const bob = await createPerson(sweeping);
      const room = await createRoom(sweeping, alice, 'group', { expiresInDays: 7 });
      await appendEntry(sweeping, room, alice, 'add', bob);
      await distributeKey(sweeping, room, alice, [alice, bob]);
      const keep = await createRoom(sweeping, alice, 'group');
      const upload = await sweeping.inject({
        method: 'POST',
        url: `/api/rooms/${room.id}/attachments`,
        headers: { ...alice.auth, 'content-type': 'application/octet-stream' },
        payload: Buffer.from('opaque bytes'),
      });
      expect(upload.statusCode, upload.body).toBe(201);
      await sweeping.realtime.messages.send(
        room.id,
        alice.id,
        room.message(alice, 'soon gone').envelope,
      );
      const socket = await TestSocket.authenticated(await listen(sweeping), bob);
      socket.send({ type: 'subscribe', room: room.id, after: 0 });
      await socket.next((f) => f.type === 'message');

      // Not yet expired: the sweeper leaves it.
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(
        (
          await sweeping.inject({
            method: 'GET',
            url: `/api/rooms/${room.id}`,
            headers: alice.auth,
          })
        ).statusCode,
      ).toBe(200);

      await sweeping.db
        .updateTable('rooms')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', room.id)
        .execute();
      const deadline = Date.now() + 5000;
      while (
        (await sweeping.db
          .selectFrom('rooms')
          .select('id')
          .where('id', '=', room.id)
          .executeTakeFirst()) !== undefined
      ) {
        if (Date.now() > deadline) throw new Error('the sweeper did not delete the room');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      for (const table of [
        'room_members',
        'chain_entries',
        'room_key_envelopes',
        'messages',
        'attachments',
      ] as const) {
        const left = await sweeping.db
          .selectFrom(table)
          .select('room_id')
          .where('room_id', '=', room.id)
          .execute();
        expect(left, table).toEqual([]);
      }
      expect(
        (await sweeping.db.selectFrom('rooms').select('id').where('id', '=', keep.id).execute())
          .length,
      ).toBe(1);
      // Its subscribers are told, and hear nothing more of it.
      expect(await socket.next((f) => f.type === 'removed')).toEqual({
        type: 'removed',
        room: room.id,
        reason: 'expired',
      });
      socket.close();
    } finally {
      await sweeping.close();
    }
  });
});

describe('room details and deletion by admins', () => {
  function patch(person: Person | undefined, roomId: string, payload: unknown) {
    return app.inject({
      method: 'PATCH',
      url: `/api/rooms/${roomId}`,
      headers: person?.auth ?? {},
      payload: payload as object,
    });
  }
  function remove(person: Person | undefined, roomId: string) {
    return app.inject({
      method: 'DELETE',
      url: `/api/rooms/${roomId}`,
      headers: person?.auth ?? {},
    });
  }

  it('lets an admin rename a channel and edit its topic, and tells its subscribers', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const room = await createRoom(app, alice, 'channel');
    await appendEntry(app, room, alice, 'add', bob);
    const socket = await TestSocket.authenticated(await wsUrl(), bob);
    socket.send({ type: 'subscribe', room: room.id });
    await socket.next((f) => f.type === 'subscribed');

    const renamed = await patch(alice, room.id, { name: 'Renamed' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json<Room>()).toMatchObject({ name: 'Renamed', topic: 'testing' });
    expect(await socket.next((f) => f.type === 'room-updated')).toEqual({
      type: 'room-updated',
      room: room.id,
      name: 'Renamed',
      topic: 'testing',
    });
    const both = await patch(alice, room.id, { name: 'Again', topic: 'a new topic' });
    expect(both.statusCode, both.body).toBe(200);
    expect((await get(bob, `/api/rooms/${room.id}`)).json<Room>()).toMatchObject({
      name: 'Again',
      topic: 'a new topic',
    });
    expect(await socket.next((f) => f.type === 'room-updated' && f.name === 'Again')).toEqual({
      type: 'room-updated',
      room: room.id,
      name: 'Again',
      topic: 'a new topic',
    });
    socket.close();
  });

  it('refuses members, strangers, direct conversations, unknown rooms and bad input, changing nothing', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const stranger = await createPerson(app);
    const group = await createRoom(app, alice, 'group');
    await appendEntry(app, group, alice, 'add', bob);
    const direct = await createRoom(app, alice, 'direct', {}, bob);
    const unknown = toHex(generateId());
    const cases: [Person | undefined, string, unknown, number, string][] = [
      [undefined, group.id, { name: 'x' }, 401, 'UNAUTHENTICATED'],
      [bob, group.id, { name: 'x' }, 403, 'NOT_AN_ADMIN'],
      [stranger, group.id, { name: 'x' }, 403, 'NOT_A_MEMBER'],
      [alice, direct.id, { name: 'x' }, 400, 'ROOM_DETAILS_INVALID'],
      [alice, unknown, { name: 'x' }, 404, 'ROOM_NOT_FOUND'],
      [alice, 'not-an-id', { name: 'x' }, 400, 'VALIDATION_FAILED'],
      [alice, group.id, {}, 400, 'VALIDATION_FAILED'],
      [alice, group.id, { name: '' }, 400, 'VALIDATION_FAILED'],
      [alice, group.id, { name: 'x'.repeat(81) }, 400, 'VALIDATION_FAILED'],
      [alice, group.id, { topic: 'y'.repeat(301) }, 400, 'VALIDATION_FAILED'],
      [alice, group.id, { name: 'a\u0000b' }, 400, 'VALIDATION_FAILED'],
      [alice, group.id, { name: 'x', owner: 'me' }, 400, 'VALIDATION_FAILED'],
      [alice, group.id, { name: 42 }, 400, 'VALIDATION_FAILED'],
    ];
    await expectUnchanged(app, async () => {
      for (const [person, roomId, payload, status, code] of cases) {
        expectError(await patch(person, roomId, payload), status, code);
      }
      expectError(await remove(undefined, group.id), 401, 'UNAUTHENTICATED');
      expectError(await remove(bob, group.id), 403, 'NOT_AN_ADMIN');
      expectError(await remove(stranger, group.id), 403, 'NOT_A_MEMBER');
      expectError(await remove(alice, direct.id), 400, 'ROOM_DETAILS_INVALID');
      expectError(await remove(alice, unknown), 404, 'ROOM_NOT_FOUND');
      expectError(await remove(alice, 'not-an-id'), 400, 'VALIDATION_FAILED');
    });
  });

  it('lets an admin delete a room with everything in it, and tells its subscribers', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const room = await groupWith(app, alice, [bob]);
    const keep = await groupWith(app, alice, [bob]);
    const upload = await app.inject({
      method: 'POST',
      url: `/api/rooms/${room.id}/attachments`,
      headers: { ...alice.auth, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('opaque bytes'),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    await app.realtime.messages.send(room.id, alice.id, room.message(alice, 'gone').envelope);
    const socket = await TestSocket.authenticated(await wsUrl(), bob);
    socket.send({ type: 'subscribe', room: room.id, after: 0 });
    await socket.next((f) => f.type === 'message');

    const response = await remove(alice, room.id);
    expect(response.statusCode, response.body).toBe(204);
    expect(await socket.next((f) => f.type === 'removed')).toEqual({
      type: 'removed',
      room: room.id,
      reason: 'deleted',
    });
    for (const table of [
      'rooms',
      'room_members',
      'chain_entries',
      'room_key_envelopes',
      'messages',
      'attachments',
    ] as const) {
      const column = table === 'rooms' ? 'id' : 'room_id';
      const left = await app.db
        .selectFrom(table)
        .select(column)
        .where(column, '=', room.id)
        .execute();
      expect(left, table).toEqual([]);
    }
    expectError(await get(bob, `/api/rooms/${room.id}`), 404, 'ROOM_NOT_FOUND');
    expectError(await remove(alice, room.id), 404, 'ROOM_NOT_FOUND');
    expect((await get(bob, `/api/rooms/${keep.id}`)).statusCode).toBe(200);
    socket.close();
  });
});
