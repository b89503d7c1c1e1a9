// The list of signed-in sessions and ending one of them, through the HTTP API and real sockets:
// device names (given or read from the User-Agent), "last seen", the current one marked, and that
// no user can see or end another's.
import { CloseCode, type AuthResponse, type SessionList } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import {
  expectError,
  registerUser,
  strongPassword,
  uniqueUsername,
  type TestUser,
} from './accounts';
import { createTestApp } from './helpers';
import { listen, TestSocket } from './rooms-fixtures';

const CHROME_ON_LINUX =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

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

function asUser(body: AuthResponse, password: string): TestUser {
  return {
    id: body.user.id,
    username: body.user.username,
    password,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    auth: { authorization: `Bearer ${body.accessToken}` },
  };
}

/** Another device of the same account: a log-in with its own name or User-Agent. */
async function logInAgain(
  user: TestUser,
  device: { deviceName?: string; userAgent?: string } = {},
): Promise<TestUser> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: {
      username: user.username,
      password: user.password,
      ...(device.deviceName === undefined ? {} : { deviceName: device.deviceName }),
    },
    headers: device.userAgent === undefined ? {} : { 'user-agent': device.userAgent },
  });
  expect(response.statusCode, response.body).toBe(200);
  return asUser(response.json<AuthResponse>(), user.password);
}

async function sessionsOf(user: TestUser): Promise<SessionList['sessions']> {
  const response = await app.inject({ method: 'GET', url: '/api/me/sessions', headers: user.auth });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<SessionList>().sessions;
}

async function revoke(user: TestUser, sessionId: string) {
  return app.inject({
    method: 'DELETE',
    url: `/api/me/sessions/${sessionId}`,
    headers: user.auth,
  });
}

async function sessionIdOf(user: TestUser): Promise<string> {
  return (await sessionsOf(user)).find((s) => s.current)!.id;
}

async function lastSeen(sessionId: string): Promise<Date> {
  const row = await app.db
    .selectFrom('sessions')
    .select('last_seen_at')
    .where('id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return row.last_seen_at;
}

async function setLastSeen(sessionId: string, at: Date): Promise<void> {
  await app.db
    .updateTable('sessions')
    .set({ last_seen_at: at })
    .where('id', '=', sessionId)
    .execute();
}

describe('listing sessions', () => {
  it('names each device, marks the current one and lists only live sessions', async () => {
    const password = strongPassword();
    const registered = await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username: uniqueUsername('sess'), password, deviceName: '  Work laptop ' },
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const laptop = asUser(registered.json<AuthResponse>(), password);
    const phone = await logInAgain(laptop, { userAgent: CHROME_ON_LINUX });
    const script = await logInAgain(laptop);

    const seen = await sessionsOf(phone);
    expect(seen.map((s) => s.deviceName).sort()).toEqual(
      ['Chrome on Linux', 'Unknown device', 'Work laptop'].sort(),
    );
    expect(seen.filter((s) => s.current).map((s) => s.deviceName)).toEqual(['Chrome on Linux']);
    for (const session of seen) {
      expect(session.id).toMatch(/^[0-9a-f]{32}$/);
      expect(Date.parse(session.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(session.createdAt));
    }

    const logout = await app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      payload: { refreshToken: script.refreshToken },
    });
    expect(logout.statusCode).toBe(204);
    expect((await sessionsOf(laptop)).map((s) => s.deviceName).sort()).toEqual([
      'Chrome on Linux',
      'Work laptop',
    ]);
  });

  it('a refresh marks the session seen and may rename it', async () => {
    const user = await registerUser(app);
    const sessionId = await sessionIdOf(user);
    const earlier = new Date(Date.now() - 3600_000);
    await setLastSeen(sessionId, earlier);

    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: user.refreshToken, deviceName: 'Renamed device' },
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const next = asUser(refreshed.json<AuthResponse>(), user.password);
    const [session] = await sessionsOf(next);
    expect(session).toMatchObject({ id: sessionId, deviceName: 'Renamed device', current: true });
    expect(Date.parse(session!.lastSeenAt)).toBeGreaterThan(earlier.getTime() + 3000_000);
  });

  it('a socket sign-in marks the session seen, at most once a minute', async () => {
    const user = await registerUser(app);
    const sessionId = await sessionIdOf(user);

    const recently = new Date(Date.now() - 10_000);
    await setLastSeen(sessionId, recently);
    const first = await TestSocket.authenticated(url, user);
    sockets.push(first);
    // The update is not awaited by the sign-in: give it the time a round trip takes.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await lastSeen(sessionId)).getTime()).toBe(recently.getTime());

    const longAgo = new Date(Date.now() - 5 * 60_000);
    await setLastSeen(sessionId, longAgo);
    const second = await TestSocket.authenticated(url, user);
    sockets.push(second);
    await expect
      .poll(async () => (await lastSeen(sessionId)).getTime())
      .toBeGreaterThan(Date.now() - 30_000);
  });
});

describe('bad input', () => {
  it('refuses a device name that is empty, too long or holds control characters', async () => {
    for (const deviceName of ['', 'x'.repeat(65), 'evil\nname', 'bell\u0007', 'esc\u001b[31m']) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username: uniqueUsername('bad'), password: strongPassword(), deviceName },
      });
      expectError(response, 400, 'VALIDATION_FAILED');
    }
    const user = await registerUser(app);
    expectError(
      await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: user.username, password: user.password, deviceName: 'tab\there' },
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refreshToken: user.refreshToken, deviceName: 42 },
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('refuses a malformed session id and requests without a session', async () => {
    const user = await registerUser(app);
    for (const id of ['nope', 'A'.repeat(32), '0'.repeat(31)]) {
      expectError(await revoke(user, id), 400, 'VALIDATION_FAILED');
    }
    expectError(
      await app.inject({ method: 'GET', url: '/api/me/sessions' }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await app.inject({ method: 'DELETE', url: `/api/me/sessions/${'0'.repeat(32)}` }),
      401,
      'UNAUTHENTICATED',
    );
  });

  it('answers SESSION_NOT_FOUND for an unknown id and for another user’s session, which lives on', async () => {
    const alice = await registerUser(app);
    const bob = await registerUser(app);
    const bobsSession = await sessionIdOf(bob);
    expectError(await revoke(alice, '0'.repeat(32)), 404, 'SESSION_NOT_FOUND');
    expectError(await revoke(alice, bobsSession), 404, 'SESSION_NOT_FOUND');
    expect((await sessionsOf(alice)).map((s) => s.id)).not.toContain(bobsSession);
    expect((await sessionsOf(bob)).map((s) => s.id)).toEqual([bobsSession]);
  });
});

describe('revoking a session', () => {
  it('ends that session, closes its sockets and leaves the others signed in', async () => {
    const laptop = await registerUser(app);
    const phone = await logInAgain(laptop, { deviceName: 'Phone' });
    const phoneSession = await sessionIdOf(phone);
    const laptopSocket = await TestSocket.authenticated(url, laptop);
    const phoneSocket = await TestSocket.authenticated(url, phone);
    sockets.push(laptopSocket, phoneSocket);

    const answer = await revoke(laptop, phoneSession);
    expect({ status: answer.statusCode, body: answer.body }).toEqual({ status: 204, body: '' });

    expect(await phoneSocket.closed).toEqual({
      code: CloseCode.SESSION_ENDED,
      reason: 'SESSION_REVOKED',
    });
    expectError(
      await app.inject({ method: 'GET', url: '/api/me/sessions', headers: phone.auth }),
      401,
      'SESSION_REVOKED',
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        payload: { refreshToken: phone.refreshToken },
      }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
    // Ended already: the same answer as for an id that never was.
    expectError(await revoke(laptop, phoneSession), 404, 'SESSION_NOT_FOUND');

    // The laptop's socket is still open and answers.
    laptopSocket.send({ type: 'ping' });
    await laptopSocket.next((f) => f.type === 'pong');
    expect((await sessionsOf(laptop)).map((s) => s.current)).toEqual([true]);
  });

  it('revoking the current session signs this device out', async () => {
    const user = await registerUser(app);
    const answer = await revoke(user, await sessionIdOf(user));
    expect(answer.statusCode).toBe(204);
    expectError(
      await app.inject({ method: 'GET', url: '/api/me/sessions', headers: user.auth }),
      401,
      'SESSION_REVOKED',
    );
  });
});
