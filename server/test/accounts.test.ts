import type { AuthResponse } from '@parley/wire';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import {
  expectError,
  registerUser,
  strongPassword,
  uniqueUsername,
  type TestUser,
} from './accounts';
import { createTestApp, spentMinutesAgo } from './helpers';

let app: ParleyApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app.close();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers });

const putBackup = (user: TestUser, blob: string) =>
  app.inject({ method: 'PUT', url: '/api/me/backup', headers: user.auth, payload: { blob } });
const getBackup = (user: TestUser) =>
  app.inject({ method: 'GET', url: '/api/me/backup', headers: user.auth });

async function countRows(table: 'users' | 'sessions' | 'refresh_tokens' | 'key_backups') {
  const row = await app.db
    .selectFrom(table)
    .select(sql<number>`count(*)::int`.as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
}

describe('GET /api/auth/rules', () => {
  it('serves the username and password rules', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/auth/rules' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      username: { minLength: 3, maxLength: 32, pattern: '^[a-z0-9._-]+$' },
      password: { minLength: 10, rejectsCommonPasswords: true },
    });
  });
});

describe('POST /api/auth/register', () => {
  it('creates the account and opens a session', async () => {
    const username = uniqueUsername('Reg');
    const response = await post('/api/auth/register', { username, password: strongPassword() });
    expect(response.statusCode).toBe(201);
    const body = response.json<AuthResponse>();
    expect(body.user).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      username: username.toLowerCase(),
    });
    expect(body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(body.accessTokenExpiresAt)).toBeGreaterThan(Date.now());
    const stored = await app.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', body.user.id)
      .executeTakeFirstOrThrow();
    expect(stored.password_hash).toMatch(/^\$argon2id\$/);
    // Refresh tokens are stored hashed only.
    const tokens = await app.db.selectFrom('refresh_tokens').select('token_hash').execute();
    expect(tokens.map((t) => t.token_hash)).not.toContain(body.refreshToken);
  });

  it('treats usernames without regard to case', async () => {
    const user = await registerUser(app);
    const before = await countRows('users');
    expectError(
      await post('/api/auth/register', {
        username: user.username.toUpperCase(),
        password: strongPassword(),
      }),
      409,
      'USERNAME_TAKEN',
    );
    expect(await countRows('users')).toBe(before);
  });

  it.each([
    ['too short', 'ab', 'VALIDATION_FAILED'],
    ['too long', 'a'.repeat(33), 'VALIDATION_FAILED'],
    ['a space', 'al ice', 'VALIDATION_FAILED'],
    ['a non-ASCII letter', 'alicé', 'VALIDATION_FAILED'],
    ['a reserved name', 'by-id', 'USERNAME_INVALID'],
  ])('refuses a username with %s', async (_case, username, code) => {
    const before = await countRows('users');
    expectError(
      await post('/api/auth/register', { username, password: strongPassword() }),
      400,
      code,
    );
    expect(await countRows('users')).toBe(before);
  });

  it.each([
    ['shorter than 10 characters', 'short1!', 'PASSWORD_TOO_SHORT'],
    ['a common password', 'password123', 'PASSWORD_TOO_COMMON'],
    ['a common password in another case', 'QwertyUiop', 'PASSWORD_TOO_COMMON'],
    ['longer than 256 characters', 'x'.repeat(257), 'PASSWORD_TOO_LONG'],
  ])('refuses a password %s', async (_case, password, code) => {
    const before = await countRows('users');
    expectError(
      await post('/api/auth/register', { username: uniqueUsername(), password }),
      400,
      code,
    );
    expect(await countRows('users')).toBe(before);
  });

  it('refuses the username (plus digits) as the password', async () => {
    const username = uniqueUsername('self');
    expectError(
      await post('/api/auth/register', { username, password: `${username}123` }),
      400,
      'PASSWORD_TOO_COMMON',
    );
  });

  it.each([
    ['a missing field', { username: 'someone-x' }],
    ['a wrong type', { username: 12345, password: strongPassword() }],
    ['an unknown field', { username: 'someone-y', password: strongPassword(), admin: true }],
    ['an array body', [1, 2]],
  ])('refuses a body with %s', async (_case, payload) => {
    const before = await countRows('users');
    expectError(await post('/api/auth/register', payload), 400, 'VALIDATION_FAILED');
    expect(await countRows('users')).toBe(before);
  });

  it('refuses malformed JSON, a non-JSON body and an oversize body', async () => {
    const before = await countRows('users');
    const registerRaw = (contentType: string, payload: string) =>
      app.inject({
        method: 'POST',
        url: '/api/auth/register',
        headers: { 'content-type': contentType },
        payload,
      });
    expectError(await registerRaw('application/json', '{"username": "x",'), 400, 'MALFORMED_JSON');
    expectError(await registerRaw('text/plain', 'username=x'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const huge = await post('/api/auth/register', {
      username: 'huge-one',
      password: 'x'.repeat(100_000),
    });
    expectError(huge, 413, 'BODY_TOO_LARGE');
    expect(await countRows('users')).toBe(before);
  });
});

describe('POST /api/auth/login', () => {
  let alice: TestUser;
  beforeAll(async () => {
    alice = await registerUser(app);
  });

  it('opens a new session for the right password, with any case of the username', async () => {
    const response = await post('/api/auth/login', {
      username: alice.username.toUpperCase(),
      password: alice.password,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<AuthResponse>();
    expect(body.user).toEqual({ id: alice.id, username: alice.username });
    const me = await app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    expect(me.statusCode).toBe(200);
  });

  it('compares passwords in NFKC: composed or decomposed accents, full-width digits', async () => {
    const username = uniqueUsername();
    // "é" as one code point and "１２" in full width at sign-up ...
    const typed = 'caf\u00e9 au lait \uff11\uff12 ' + strongPassword();
    expect((await post('/api/auth/register', { username, password: typed })).statusCode).toBe(201);
    // ... and as e + combining acute and ASCII digits at login.
    const decomposed = typed.normalize('NFD').replace('\uff11\uff12', '12');
    expect(decomposed).not.toBe(typed);
    const response = await post('/api/auth/login', { username, password: decomposed });
    expect(response.statusCode, response.body).toBe(200);
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const wrong = await post('/api/auth/login', {
      username: alice.username,
      password: 'not the password at all',
    });
    const unknown = await post('/api/auth/login', {
      username: uniqueUsername('ghost'),
      password: 'not the password at all',
    });
    expectError(wrong, 401, 'INVALID_CREDENTIALS');
    expectError(unknown, 401, 'INVALID_CREDENTIALS');
    expect(unknown.body).toBe(wrong.body);
  });

  it('refuses wrong types and unknown fields', async () => {
    expectError(
      await post('/api/auth/login', { username: alice.username, password: 42 }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await post('/api/auth/login', {
        username: alice.username,
        password: alice.password,
        remember: true,
      }),
      400,
      'VALIDATION_FAILED',
    );
  });
});

describe('refresh tokens', () => {
  it('rotate: each refresh spends the token and hands out the next', async () => {
    const user = await registerUser(app);
    const first = await post('/api/auth/refresh', { refreshToken: user.refreshToken });
    expect(first.statusCode).toBe(200);
    const next = first.json<AuthResponse>();
    expect(next.refreshToken).not.toBe(user.refreshToken);
    expect(next.user).toEqual({ id: user.id, username: user.username });
    const second = await post('/api/auth/refresh', { refreshToken: next.refreshToken });
    expect(second.statusCode).toBe(200);
  });

  it('reusing a spent token ends the whole session, new tokens included', async () => {
    const user = await registerUser(app);
    const rotated = (
      await post('/api/auth/refresh', { refreshToken: user.refreshToken })
    ).json<AuthResponse>();
    await spentMinutesAgo(app, user.refreshToken);
    // Someone replays the old token: the theft is detected and the session ends.
    expectError(
      await post('/api/auth/refresh', { refreshToken: user.refreshToken }),
      401,
      'REFRESH_TOKEN_REUSED',
    );
    expectError(
      await post('/api/auth/refresh', { refreshToken: rotated.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
    const me = await app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { authorization: `Bearer ${rotated.accessToken}` },
    });
    expectError(me, 401, 'SESSION_REVOKED');
  });

  it('a reuse in one session leaves the user’s other sessions alone', async () => {
    const user = await registerUser(app);
    const other = (
      await post('/api/auth/login', { username: user.username, password: user.password })
    ).json<AuthResponse>();
    await post('/api/auth/refresh', { refreshToken: user.refreshToken });
    await spentMinutesAgo(app, user.refreshToken);
    expectError(
      await post('/api/auth/refresh', { refreshToken: user.refreshToken }),
      401,
      'REFRESH_TOKEN_REUSED',
    );
    expect((await post('/api/auth/refresh', { refreshToken: other.refreshToken })).statusCode).toBe(
      200,
    );
  });

  it('two concurrent refreshes with one token (two tabs) both get a token; the session lives', async () => {
    const user = await registerUser(app);
    const answers = await Promise.all([
      post('/api/auth/refresh', { refreshToken: user.refreshToken }),
      post('/api/auth/refresh', { refreshToken: user.refreshToken }),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200]);
    const [one, two] = answers.map((a) => a.json<AuthResponse>());
    expect(one!.refreshToken).not.toBe(two!.refreshToken);
    for (const next of [one!, two!]) {
      expect(
        (await post('/api/auth/refresh', { refreshToken: next.refreshToken })).statusCode,
      ).toBe(200);
    }
  });

  it('a spent token presented again within the grace window rotates; after it, ends the session', async () => {
    const user = await registerUser(app);
    await post('/api/auth/refresh', { refreshToken: user.refreshToken });
    const retried = await post('/api/auth/refresh', { refreshToken: user.refreshToken });
    expect(retried.statusCode, retried.body).toBe(200);
    await spentMinutesAgo(app, user.refreshToken);
    expectError(
      await post('/api/auth/refresh', { refreshToken: user.refreshToken }),
      401,
      'REFRESH_TOKEN_REUSED',
    );
    expectError(
      await post('/api/auth/refresh', { refreshToken: retried.json<AuthResponse>().refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
  });

  it('refuses an unknown, an expired, or a malformed token', async () => {
    const unknown = Buffer.alloc(32, 7).toString('base64url');
    expectError(
      await post('/api/auth/refresh', { refreshToken: unknown }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
    expectError(
      await post('/api/auth/refresh', { refreshToken: 'short' }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await post('/api/auth/refresh', { refreshToken: 'a'.repeat(42) + '!' }),
      400,
      'VALIDATION_FAILED',
    );

    const user = await registerUser(app);
    await app.db
      .updateTable('refresh_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('session_id', '=', (await sessionsOf(user.id))[0]!.id)
      .execute();
    expectError(
      await post('/api/auth/refresh', { refreshToken: user.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
  });
});

async function sessionsOf(userId: string) {
  return app.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).execute();
}

describe('log out', () => {
  it('ends the session of the refresh token: its access and refresh tokens stop working', async () => {
    const user = await registerUser(app);
    const response = await post('/api/auth/logout', { refreshToken: user.refreshToken });
    expect(response.statusCode).toBe(204);
    expectError(
      await app.inject({ method: 'GET', url: '/api/me', headers: user.auth }),
      401,
      'SESSION_REVOKED',
    );
    expectError(
      await post('/api/auth/refresh', { refreshToken: user.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
  });

  it('logging out with an unknown token changes nothing and says nothing', async () => {
    const before = await countRows('sessions');
    const response = await post('/api/auth/logout', {
      refreshToken: Buffer.alloc(32, 9).toString('base64url'),
    });
    expect(response.statusCode).toBe(204);
    expect(await countRows('sessions')).toBe(before);
  });

  it('log out everywhere ends every session of the caller and no one else’s', async () => {
    const user = await registerUser(app);
    const other = (
      await post('/api/auth/login', { username: user.username, password: user.password })
    ).json<AuthResponse>();
    const bystander = await registerUser(app);
    expectError(await post('/api/auth/logout-all', {}), 401, 'UNAUTHENTICATED');
    const response = await app.inject({
      method: 'POST',
      url: '/api/auth/logout-all',
      headers: user.auth,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ sessionsEnded: 2 });
    expectError(
      await post('/api/auth/refresh', { refreshToken: other.refreshToken }),
      401,
      'REFRESH_TOKEN_INVALID',
    );
    expectError(
      await app.inject({ method: 'GET', url: '/api/me', headers: user.auth }),
      401,
      'SESSION_REVOKED',
    );
    expect(
      (await app.inject({ method: 'GET', url: '/api/me', headers: bystander.auth })).statusCode,
    ).toBe(200);
  });
});

describe('DELETE /api/me', () => {
  it('needs the password, and a wrong one changes nothing', async () => {
    const user = await registerUser(app);
    const wrong = await app.inject({
      method: 'DELETE',
      url: '/api/me',
      headers: user.auth,
      payload: { password: 'wrong password here' },
    });
    expectError(wrong, 401, 'INVALID_CREDENTIALS');
    expect(
      (await app.inject({ method: 'GET', url: '/api/me', headers: user.auth })).statusCode,
    ).toBe(200);
    expectError(
      await app.inject({ method: 'DELETE', url: '/api/me', payload: { password: user.password } }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await app.inject({ method: 'DELETE', url: '/api/me', headers: user.auth, payload: {} }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('deletes the account with its sessions, tokens and backup', async () => {
    const user = await registerUser(app);
    await putBackup(user, 'AAECAw');
    const response = await app.inject({
      method: 'DELETE',
      url: '/api/me',
      headers: user.auth,
      payload: { password: user.password },
    });
    expect(response.statusCode).toBe(204);
    expect(await sessionsOf(user.id)).toEqual([]);
    expect(
      await app.db.selectFrom('key_backups').selectAll().where('user_id', '=', user.id).execute(),
    ).toEqual([]);
    expectError(
      await app.inject({ method: 'GET', url: '/api/me', headers: user.auth }),
      401,
      'SESSION_REVOKED',
    );
    expectError(
      await post('/api/auth/login', { username: user.username, password: user.password }),
      401,
      'INVALID_CREDENTIALS',
    );
    // The name is free again.
    expect(
      (await post('/api/auth/register', { username: user.username, password: strongPassword() }))
        .statusCode,
    ).toBe(201);
  });
});

describe('key backup', () => {
  it('stores, replaces and returns the blob', async () => {
    const user = await registerUser(app);
    expectError(await getBackup(user), 404, 'BACKUP_NOT_FOUND');
    const blob = Buffer.from('first backup').toString('base64url');
    expect((await putBackup(user, blob)).statusCode).toBe(200);
    const replacement = Buffer.alloc(64 * 1024, 1).toString('base64url');
    expect((await putBackup(user, replacement)).statusCode).toBe(200);
    const get = await getBackup(user);
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual({ blob: replacement, updatedAt: expect.any(String) });
  });

  it('refuses bad base64url, an oversize blob, unknown fields and anonymous callers', async () => {
    const user = await registerUser(app);
    const put = (payload: unknown, headers = user.auth) =>
      app.inject({ method: 'PUT', url: '/api/me/backup', headers, payload: payload as object });
    expectError(await put({ blob: 'not base64!' }), 400, 'VALIDATION_FAILED');
    expectError(await put({ blob: 'AAECAw==' }), 400, 'VALIDATION_FAILED');
    // Five characters cannot be canonical base64url: the last one carries bits that are dropped.
    expectError(await put({ blob: 'AAECB' }), 400, 'VALIDATION_FAILED');
    expectError(
      await put({ blob: Buffer.alloc(64 * 1024 + 1).toString('base64url') }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await put({ blob: 'AAEC', version: 2 }), 400, 'VALIDATION_FAILED');
    expectError(await put({ blob: 'AAEC' }, {} as never), 401, 'UNAUTHENTICATED');
    expectError(await getBackup(user), 404, 'BACKUP_NOT_FOUND');
  });

  it('is the caller’s own: another user cannot read it', async () => {
    const owner = await registerUser(app);
    const other = await registerUser(app);
    await putBackup(owner, 'c2VjcmV0');
    expectError(await getBackup(other), 404, 'BACKUP_NOT_FOUND');
  });
});

describe('session events', () => {
  it('tell live connections which sessions ended', async () => {
    const events: unknown[] = [];
    const listener = (event: unknown) => events.push(event);
    app.sessionEvents.on('revoked', listener);
    try {
      const user = await registerUser(app);
      const sessionId = (await sessionsOf(user.id))[0]!.id;
      await post('/api/auth/logout', { refreshToken: user.refreshToken });
      // A second log out with the same token ends nothing new and says nothing.
      await post('/api/auth/logout', { refreshToken: user.refreshToken });
      expect(events).toEqual([{ userId: user.id, sessionId }]);

      const second = (
        await post('/api/auth/login', { username: user.username, password: user.password })
      ).json<AuthResponse>();
      await post('/api/auth/refresh', { refreshToken: second.refreshToken });
      await spentMinutesAgo(app, second.refreshToken);
      await post('/api/auth/refresh', { refreshToken: second.refreshToken });
      expect(events).toHaveLength(2);
      expect(events[1]).toMatchObject({ userId: user.id, sessionId: expect.any(String) });

      const third = (
        await post('/api/auth/login', { username: user.username, password: user.password })
      ).json<AuthResponse>();
      const headers = { authorization: `Bearer ${third.accessToken}` };
      await app.inject({ method: 'POST', url: '/api/auth/logout-all', headers });
      expect(events[2]).toEqual({ userId: user.id });

      const fourth = (
        await post('/api/auth/login', { username: user.username, password: user.password })
      ).json<AuthResponse>();
      await app.inject({
        method: 'DELETE',
        url: '/api/me',
        headers: { authorization: `Bearer ${fourth.accessToken}` },
        payload: { password: user.password },
      });
      expect(events[3]).toEqual({ userId: user.id, accountDeleted: true });
    } finally {
      app.sessionEvents.off('revoked', listener);
    }
  });
});

describe('session pruning', () => {
  it('drops expired tokens and dead sessions, and keeps live ones', async () => {
    const { pruneSessions } = await import('../src/accounts/account.repository');
    const live = await registerUser(app);
    const revoked = await registerUser(app);
    const idle = await registerUser(app);
    await post('/api/auth/logout', { refreshToken: revoked.refreshToken });
    const hourAgo = new Date(Date.now() - 3601_000);
    await app.db
      .updateTable('sessions')
      .set({ revoked_at: hourAgo })
      .where('user_id', '=', revoked.id)
      .execute();
    const longAgo = new Date(Date.now() - 31 * 24 * 3600_000);
    await app.db
      .updateTable('sessions')
      .set({ refreshed_at: longAgo })
      .where('user_id', '=', idle.id)
      .execute();
    await app.db
      .updateTable('refresh_tokens')
      .set({ expires_at: longAgo })
      .where(
        'session_id',
        'in',
        (await sessionsOf(idle.id)).map((s) => s.id),
      )
      .execute();

    expect(await pruneSessions(app.db, 30 * 24 * 3600)).toBeGreaterThanOrEqual(2);
    expect(await sessionsOf(revoked.id)).toEqual([]);
    expect(await sessionsOf(idle.id)).toEqual([]);
    expect(await sessionsOf(live.id)).toHaveLength(1);
    expect((await post('/api/auth/refresh', { refreshToken: live.refreshToken })).statusCode).toBe(
      200,
    );
  });
});
