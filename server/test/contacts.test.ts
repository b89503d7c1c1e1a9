// Contacts, contact requests, blocks and direct-conversation privacy through the HTTP API and the
// relay: the stable error codes, the `contact` frames, and what a block withholds (direct rooms,
// their messages, presence and typing).
import type { BlockList, ContactList, PrivacySettings } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { expectError } from './accounts';
import { createTestApp } from './helpers';
import {
  createPerson,
  createRoom,
  distributeKey,
  groupWith,
  listen,
  sendOver,
  TestSocket,
  type Frame,
  type Person,
} from './rooms-fixtures';

let app: ParleyApp;
let url: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  app = await createTestApp();
  url = await listen(app);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await app.close();
});

async function connect(person: Person): Promise<TestSocket> {
  const socket = await TestSocket.authenticated(url, person);
  sockets.push(socket);
  return socket;
}

async function subscribe(socket: TestSocket, roomId: string): Promise<void> {
  const from = socket.frames.length;
  socket.send({ type: 'subscribe', room: roomId });
  await socket.next((f) => f.type === 'subscribed' && f.room === roomId, 5000, from);
}

function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  person?: Person,
  payload?: unknown,
) {
  return app.inject({
    method,
    url: path,
    headers: person?.auth ?? {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

async function list(person: Person): Promise<ContactList> {
  const response = await call('GET', '/api/contacts', person);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<ContactList>();
}

async function ask(from: Person, to: Person): Promise<ContactList> {
  const response = await call('POST', '/api/contacts/requests', from, { userId: to.id });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<ContactList>();
}

async function block(blocker: Person, blocked: Person): Promise<BlockList> {
  const response = await call('POST', `/api/blocks/${blocked.id}`, blocker);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<BlockList>();
}

async function people<N extends 1 | 2 | 3>(
  count: N,
): Promise<N extends 1 ? [Person] : N extends 2 ? [Person, Person] : [Person, Person, Person]> {
  const made: Person[] = [];
  for (let i = 0; i < count; i += 1) made.push(await createPerson(app));
  return made as never;
}

const NOBODY = '0'.repeat(32);

describe('contact requests', () => {
  it('a request shows on both sides, and accepting it makes both contacts, with frames', async () => {
    const [alice, bob] = await people(2);
    const [a, b] = [await connect(alice), await connect(bob)];
    const asked = await ask(alice, bob);
    expect(asked.outgoing).toEqual([
      {
        id: expect.any(String),
        userId: bob.id,
        username: bob.username,
        createdAt: expect.any(String),
      },
    ]);
    expect(await b.next((f) => f.type === 'contact')).toEqual({
      type: 'contact',
      user: alice.id,
      change: 'requested',
    });
    await a.next((f) => f.type === 'contact' && f.change === 'requested');
    const incoming = (await list(bob)).incoming;
    expect(incoming.map((r) => r.userId)).toEqual([alice.id]);

    const accepted = await call('POST', `/api/contacts/requests/${incoming[0]!.id}/accept`, bob);
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json<ContactList>()).toEqual({
      contacts: [{ userId: alice.id, username: alice.username, since: expect.any(String) }],
      incoming: [],
      outgoing: [],
    });
    expect((await list(alice)).contacts.map((c) => c.userId)).toEqual([bob.id]);
    await a.next((f) => f.type === 'contact' && f.change === 'accepted' && f.user === bob.id);
  });

  it('asking someone who asked first makes both contacts at once', async () => {
    const [alice, bob] = await people(2);
    await ask(alice, bob);
    const both = await ask(bob, alice);
    expect(both.contacts.map((c) => c.userId)).toEqual([alice.id]);
    expect(both.incoming).toEqual([]);
    expect((await list(alice)).outgoing).toEqual([]);
  });

  it('declines, cancels and removes, each with its own refusal when there is nothing to do', async () => {
    const [alice, bob, carol] = await people(3);
    const [request] = (await ask(alice, bob)).outgoing;
    // Only the asked may answer; only the asker may withdraw.
    expectError(
      await call('POST', `/api/contacts/requests/${request!.id}/accept`, alice),
      404,
      'CONTACT_REQUEST_NOT_FOUND',
    );
    expectError(
      await call('POST', `/api/contacts/requests/${request!.id}/decline`, carol),
      404,
      'CONTACT_REQUEST_NOT_FOUND',
    );
    expectError(
      await call('DELETE', `/api/contacts/requests/${request!.id}`, bob),
      404,
      'CONTACT_REQUEST_NOT_FOUND',
    );
    const declined = await call('POST', `/api/contacts/requests/${request!.id}/decline`, bob);
    expect(declined.statusCode, declined.body).toBe(200);
    expect((await list(alice)).outgoing).toEqual([]);
    expectError(
      await call('POST', `/api/contacts/requests/${request!.id}/accept`, bob),
      404,
      'CONTACT_REQUEST_NOT_FOUND',
    );

    const [again] = (await ask(alice, bob)).outgoing;
    const cancelled = await call('DELETE', `/api/contacts/requests/${again!.id}`, alice);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect((await list(bob)).incoming).toEqual([]);

    await ask(alice, carol);
    await ask(carol, alice);
    const removed = await call('DELETE', `/api/contacts/${carol.id}`, alice);
    expect(removed.statusCode, removed.body).toBe(200);
    expect((await list(carol)).contacts).toEqual([]);
    expectError(await call('DELETE', `/api/contacts/${carol.id}`, alice), 404, 'NOT_A_CONTACT');
  });

  it('refuses asking oneself, nobody, twice, or a contact', async () => {
    const [alice, bob] = await people(2);
    expectError(
      await call('POST', '/api/contacts/requests', alice, { userId: alice.id }),
      400,
      'CONTACT_SELF',
    );
    expectError(
      await call('POST', '/api/contacts/requests', alice, { userId: NOBODY }),
      404,
      'USER_NOT_FOUND',
    );
    await ask(alice, bob);
    expectError(
      await call('POST', '/api/contacts/requests', alice, { userId: bob.id }),
      409,
      'CONTACT_REQUEST_EXISTS',
    );
    await ask(bob, alice);
    expectError(
      await call('POST', '/api/contacts/requests', alice, { userId: bob.id }),
      409,
      'ALREADY_CONTACTS',
    );
  });

  it('refuses bad input with VALIDATION_FAILED and no session with UNAUTHENTICATED', async () => {
    const [alice] = await people(1);
    for (const body of [{}, { userId: 'bob' }, { userId: NOBODY, extra: 1 }, { userId: 42 }, []]) {
      expectError(
        await call('POST', '/api/contacts/requests', alice, body),
        400,
        'VALIDATION_FAILED',
      );
    }
    expectError(
      await call('POST', '/api/contacts/requests/not-an-id/accept', alice),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await call('DELETE', '/api/contacts/XYZ', alice), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/api/blocks/short', alice), 400, 'VALIDATION_FAILED');
    for (const body of [{ directFrom: 'nobody' }, { directFrom: 'contacts', more: true }, {}]) {
      expectError(await call('PUT', '/api/me/privacy', alice, body), 400, 'VALIDATION_FAILED');
    }
    for (const [method, path] of [
      ['GET', '/api/contacts'],
      ['GET', '/api/blocks'],
      ['GET', '/api/me/privacy'],
      ['POST', `/api/blocks/${NOBODY}`],
    ] as const) {
      expectError(await call(method, path), 401, 'UNAUTHENTICATED');
    }
  });
});

describe('the request budget', () => {
  it('refuses an account asking too many people in an hour with RATE_LIMITED', async () => {
    const budgeted = await createTestApp({
      config: { limits: { contactRequestsPerAccountPerHour: 3 } },
    });
    try {
      const [alice, ...others] = await Promise.all(
        Array.from({ length: 5 }, () => createPerson(budgeted)),
      );
      const askOn = (to: Person) =>
        budgeted.inject({
          method: 'POST',
          url: '/api/contacts/requests',
          headers: alice!.auth,
          payload: { userId: to.id },
        });
      for (const to of others.slice(0, 3)) expect((await askOn(to)).statusCode).toBe(200);
      expectError(await askOn(others[3]!), 429, 'RATE_LIMITED');
      // The budget is the asker's: another account may still ask alice.
      const back = await budgeted.inject({
        method: 'POST',
        url: '/api/contacts/requests',
        headers: others[3]!.auth,
        payload: { userId: alice!.id },
      });
      expect(back.statusCode, back.body).toBe(200);
    } finally {
      await budgeted.close();
    }
  });
});

describe('blocks', () => {
  it('blocking ends the contact, lists the block, and unblocking twice is NOT_BLOCKED', async () => {
    const [alice, bob] = await people(2);
    await ask(alice, bob);
    await ask(bob, alice);
    const a = await connect(alice);
    const blocked = await block(bob, alice);
    expect(blocked.blocked).toEqual([
      { userId: alice.id, username: alice.username, since: expect.any(String) },
    ]);
    expect((await list(alice)).contacts).toEqual([]);
    expect((await list(bob)).contacts).toEqual([]);
    // Alice sees her contact go, never the word "blocked".
    await a.next((f) => f.type === 'contact' && f.user === bob.id && f.change === 'removed');
    expect(a.frames.filter((f) => f.type === 'contact' && f.change === 'blocked')).toEqual([]);
    expect((await block(bob, alice)).blocked).toHaveLength(1);
    expectError(await call('POST', `/api/blocks/${bob.id}`, bob), 400, 'CONTACT_SELF');
    expectError(await call('POST', `/api/blocks/${NOBODY}`, bob), 404, 'USER_NOT_FOUND');
    expectError(
      await call('POST', '/api/contacts/requests', bob, { userId: alice.id }),
      409,
      'USER_BLOCKED',
    );

    const unblocked = await call('DELETE', `/api/blocks/${alice.id}`, bob);
    expect(unblocked.json<BlockList>()).toEqual({ blocked: [] });
    expectError(await call('DELETE', `/api/blocks/${alice.id}`, bob), 404, 'NOT_BLOCKED');
  });

  it('a request from a blocked person is taken without a word and kept hidden', async () => {
    const [alice, bob] = await people(2);
    await block(bob, alice);
    const b = await connect(bob);
    const asked = await ask(alice, bob);
    expect(asked.outgoing.map((r) => r.userId)).toEqual([bob.id]);
    expect((await list(bob)).incoming).toEqual([]);
    const hidden = asked.outgoing[0]!.id;
    expectError(
      await call('POST', `/api/contacts/requests/${hidden}/accept`, bob),
      404,
      'CONTACT_REQUEST_NOT_FOUND',
    );
    b.send({ type: 'ping' });
    await b.next((f) => f.type === 'pong');
    expect(b.frames.filter((f) => f.type === 'contact')).toEqual([]);
    // Unblocked, bob sees the request that waited.
    await call('DELETE', `/api/blocks/${alice.id}`, bob);
    expect((await list(bob)).incoming.map((r) => r.userId)).toEqual([alice.id]);
  });

  it('a blocked person cannot open a direct room or message in one; the blocker is told why', async () => {
    const [alice, bob, carol] = await people(3);
    const room = await createRoom(app, alice, 'direct', {}, bob);
    await distributeKey(app, room, alice, [alice, bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    await subscribe(a, room.id);
    await subscribe(b, room.id);
    expect((await sendOver(a, room.id, room.message(alice, 'before'))).type).toBe('ack');

    await block(bob, alice);
    expect(await sendOver(a, room.id, room.message(alice, 'after'))).toMatchObject({
      type: 'error',
      code: 'DIRECT_REFUSED',
    });
    expect(await sendOver(b, room.id, room.message(bob, 'to alice'))).toMatchObject({
      type: 'error',
      code: 'USER_BLOCKED',
    });
    expect(b.frames.filter((f) => f.type === 'message')).toHaveLength(1);

    // Opening another direct room with the blocker is refused too (the pair is free for carol).
    const genesisFor = async (creator: Person, peer: Person) => {
      const { createGenesis, toBase64Url } = await import('@parley/crypto');
      const genesis = createGenesis({
        roomId: crypto.getRandomValues(new Uint8Array(16)),
        kind: 'direct',
        peerId: peer.idBytes,
        actorId: creator.idBytes,
        actor: creator.identity,
      });
      return call('POST', '/api/rooms', creator, { genesis: toBase64Url(genesis) });
    };
    await block(carol, alice);
    expectError(await genesisFor(alice, carol), 403, 'DIRECT_REFUSED');
    expectError(await genesisFor(carol, alice), 409, 'USER_BLOCKED');

    await call('DELETE', `/api/blocks/${alice.id}`, bob);
    expect((await sendOver(a, room.id, room.message(alice, 'again'))).type).toBe('ack');
  });

  it('withholds presence and typing between the two, and no one else loses them', async () => {
    const [alice, bob, carol] = await people(3);
    const room = await groupWith(app, alice, [bob, carol]);
    await block(bob, alice);
    const [a, b, c] = [await connect(alice), await connect(bob), await connect(carol)];
    for (const socket of [a, b, c]) await subscribe(socket, room.id);
    const typingOf = (socket: TestSocket, user: Person) =>
      socket.frames.filter((f: Frame) => f.type === 'typing' && f.user === user.id);
    const presenceOf = (socket: TestSocket, user: Person) =>
      socket.frames.filter(
        (f: Frame) => f.type === 'presence' && f.user === user.id && f.status !== 'offline',
      );

    a.send({ type: 'presence', status: 'online' });
    a.send({ type: 'typing', room: room.id, active: true });
    b.send({ type: 'presence', status: 'away' });
    b.send({ type: 'typing', room: room.id, active: true });
    // Carol hears both; each relay is in order on the room's channel, so once carol's own typing
    // reaches alice and bob, anything of theirs sent before it has arrived too.
    await c.next((f) => f.type === 'typing' && f.user === alice.id);
    await c.next((f) => f.type === 'typing' && f.user === bob.id);
    await c.next((f) => f.type === 'presence' && f.user === bob.id);
    c.send({ type: 'typing', room: room.id, active: true });
    await a.next((f) => f.type === 'typing' && f.user === carol.id);
    await b.next((f) => f.type === 'typing' && f.user === carol.id);
    expect(typingOf(b, alice)).toEqual([]);
    expect(typingOf(a, bob)).toEqual([]);
    expect(presenceOf(b, alice)).toEqual([]);
    expect(presenceOf(a, bob)).toEqual([]);

    // A newcomer's presence query is not answered across the block either.
    const late = await connect(alice);
    await subscribe(late, room.id);
    c.send({ type: 'typing', room: room.id, active: false });
    await late.next((f) => f.type === 'typing' && f.user === carol.id);
    expect(presenceOf(late, bob)).toEqual([]);

    // Unblocked, typing flows again.
    await call('DELETE', `/api/blocks/${alice.id}`, bob);
    await b.next((f) => f.type === 'contact' && f.change === 'unblocked');
    a.send({ type: 'typing', room: room.id, active: false });
    await b.next((f) => f.type === 'typing' && f.user === alice.id);
  });
  it('a block whose bus event was lost is honoured once the hub resyncs', async () => {
    const [alice, bob] = await people(2);
    const room = await groupWith(app, alice, [bob]);
    const [a, b] = [await connect(alice), await connect(bob)];
    await subscribe(a, room.id);
    await subscribe(b, room.id);
    // Stored without telling anyone: what a Redis outage would leave.
    await app.db.insertInto('blocks').values({ blocker: bob.id, blocked: alice.id }).execute();
    await app.realtime.hub.resync();
    a.send({ type: 'typing', room: room.id, active: true });
    b.send({ type: 'typing', room: room.id, active: true });
    a.send({ type: 'ping' });
    b.send({ type: 'ping' });
    await a.next((f) => f.type === 'pong');
    await b.next((f) => f.type === 'pong');
    // The relay of each side's typing went out before its pong was answered; wait a moment more.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(b.frames.filter((f) => f.type === 'typing')).toEqual([]);
    expect(a.frames.filter((f) => f.type === 'typing')).toEqual([]);
  });
});

describe('direct-conversation privacy', () => {
  it('contacts-only refuses a stranger with DIRECT_REFUSED and lets a contact in', async () => {
    const [alice, bob, carol] = await people(3);
    const read = await call('GET', '/api/me/privacy', bob);
    expect(read.json<PrivacySettings>()).toEqual({ directFrom: 'everyone' });
    const set = await call('PUT', '/api/me/privacy', bob, { directFrom: 'contacts' });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json<PrivacySettings>()).toEqual({ directFrom: 'contacts' });

    const { createGenesis, toBase64Url } = await import('@parley/crypto');
    const open = (creator: Person, peer: Person) =>
      call('POST', '/api/rooms', creator, {
        genesis: toBase64Url(
          createGenesis({
            roomId: crypto.getRandomValues(new Uint8Array(16)),
            kind: 'direct',
            peerId: peer.idBytes,
            actorId: creator.idBytes,
            actor: creator.identity,
          }),
        ),
      });
    expectError(await open(alice, bob), 403, 'DIRECT_REFUSED');
    await ask(carol, bob);
    await ask(bob, carol);
    expect((await open(carol, bob)).statusCode).toBe(201);
    // Bob may still open one with a stranger: the setting is about who reaches him.
    expect((await open(bob, alice)).statusCode).toBe(201);
  });
});
