// Ending a session reaches its live sockets at once: log out, log out everywhere, a reused refresh
// token and account deletion close them with CloseCode.SESSION_ENDED, and nothing more reaches
// them, while the user's other sessions keep their sockets. (Across processes:
// fanout-redis.test.ts.)
import { toBase64Url } from '@parley/crypto';
import { CloseCode, type AuthResponse } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { createTestApp, spentMinutesAgo } from './helpers';
import { createPerson, groupWith, listen, TestSocket, type Person } from './rooms-fixtures';

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

/** Another session (device) of the same person. */
async function logIn(person: Person): Promise<Person> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username: person.username, password: person.password },
  });
  expect(response.statusCode, response.body).toBe(200);
  const body = response.json<AuthResponse>();
  return {
    ...person,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    auth: { authorization: `Bearer ${body.accessToken}` },
  };
}

async function connect(person: Person): Promise<TestSocket> {
  const socket = await TestSocket.authenticated(url, person);
  sockets.push(socket);
  return socket;
}

async function post(path: string, payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: path, payload: payload as object, headers });
}

/** The close arrives well before any access-token expiry (15 minutes by default). */
async function closedWith(socket: TestSocket, reason: string): Promise<void> {
  const closed = await Promise.race([
    socket.closed,
    new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), 3000)),
  ]);
  expect(closed).toEqual({ code: CloseCode.SESSION_ENDED, reason });
}

function stillOpen(socket: TestSocket): Promise<void> {
  const before = socket.frames.length;
  socket.send({ type: 'ping' });
  return socket.next((f) => f.type === 'pong', 3000, before).then(() => undefined);
}

describe('ending a session closes its sockets', () => {
  it('log out closes the sockets of that session only, and they receive nothing more', async () => {
    const alice = await createPerson(app);
    const bob = await createPerson(app);
    const room = await groupWith(app, alice, [bob]);
    const phone = await logIn(alice);
    const laptopSocket = await connect(alice);
    const phoneSocket = await connect(phone);
    const bobSocket = await connect(bob);
    for (const socket of [laptopSocket, phoneSocket, bobSocket]) {
      socket.send({ type: 'subscribe', room: room.id, after: 0 });
      await socket.next((f) => f.type === 'subscribed');
    }

    expect((await post('/api/auth/logout', { refreshToken: alice.refreshToken })).statusCode).toBe(
      204,
    );
    await closedWith(laptopSocket, 'SESSION_REVOKED');

    bobSocket.send({
      type: 'send',
      room: room.id,
      envelope: toBase64Url(room.message(bob, 'after logout').envelope),
    });
    await bobSocket.next((f) => f.type === 'ack');
    await phoneSocket.next((f) => f.type === 'message');
    expect(laptopSocket.frames.filter((f) => f.type === 'message')).toEqual([]);
    await stillOpen(phoneSocket);
  });

  it('log out everywhere closes every socket of the account', async () => {
    const alice = await createPerson(app);
    const phone = await logIn(alice);
    const bob = await createPerson(app);
    const first = await connect(alice);
    const second = await connect(phone);
    const other = await connect(bob);
    expect((await post('/api/auth/logout-all', undefined, alice.auth)).statusCode).toBe(200);
    await closedWith(first, 'SESSION_REVOKED');
    await closedWith(second, 'SESSION_REVOKED');
    await stillOpen(other);
  });

  it('a reused refresh token closes the sockets of its session', async () => {
    const alice = await createPerson(app);
    const socket = await connect(alice);
    expect((await post('/api/auth/refresh', { refreshToken: alice.refreshToken })).statusCode).toBe(
      200,
    );
    // A token that rotated has a live socket of its session still open.
    await stillOpen(socket);
    // Past the grace window for concurrent refreshes: a replay, not a second tab.
    await spentMinutesAgo(app, alice.refreshToken);
    const reuse = await post('/api/auth/refresh', { refreshToken: alice.refreshToken });
    expect(reuse.json()).toMatchObject({ error: { code: 'REFRESH_TOKEN_REUSED' } });
    await closedWith(socket, 'SESSION_REVOKED');
  });

  it('deleting the account closes its sockets with ACCOUNT_DELETED', async () => {
    const alice = await createPerson(app);
    const socket = await connect(alice);
    const response = await app.inject({
      method: 'DELETE',
      url: '/api/me',
      headers: alice.auth,
      payload: { password: alice.password },
    });
    expect(response.statusCode, response.body).toBe(204);
    await closedWith(socket, 'ACCOUNT_DELETED');
  });

  it('a socket authenticating with an ended session is closed, not left open', async () => {
    const alice = await createPerson(app);
    await post('/api/auth/logout', { refreshToken: alice.refreshToken });
    const socket = await TestSocket.open(url);
    sockets.push(socket);
    socket.send({ type: 'auth', token: alice.accessToken });
    expect(await socket.closed).toEqual({
      code: CloseCode.UNAUTHENTICATED,
      reason: 'SESSION_REVOKED',
    });
  });
});
