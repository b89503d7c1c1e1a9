import type { Me, PublicProfile } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { sniffImageType } from '../src/profiles/avatar';
import { expectError, registerUser, type TestUser } from './accounts';
import { createTestApp } from './helpers';
import { IMAGES, pngHeader } from './images';

let app: ParleyApp;
beforeAll(async () => {
  app = await createTestApp();
});
afterAll(async () => {
  await app.close();
});

const patch = (user: TestUser, payload: unknown) =>
  app.inject({
    method: 'PATCH',
    url: '/api/me/profile',
    headers: user.auth,
    payload: payload as object,
  });

const me = async (user: TestUser) =>
  (await app.inject({ method: 'GET', url: '/api/me', headers: user.auth })).json<Me>();

const putAvatar = (user: TestUser, body: Buffer, type: string) =>
  app.inject({
    method: 'PUT',
    url: '/api/me/avatar',
    headers: { ...user.auth, 'content-type': type },
    payload: body,
  });

describe('GET /api/me', () => {
  it('returns the caller’s account and profile', async () => {
    const alice = await registerUser(app);
    const response = await app.inject({ method: 'GET', url: '/api/me', headers: alice.auth });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      userId: alice.id,
      username: alice.username,
      createdAt: expect.any(String),
      displayName: null,
      statusMessage: null,
      hasAvatar: false,
    });
  });
});

describe('PATCH /api/me/profile', () => {
  it('sets, keeps and clears fields', async () => {
    const alice = await registerUser(app);
    const set = await patch(alice, {
      displayName: 'Alice Liddell',
      statusMessage: 'down the rabbit hole 🐇',
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({
      displayName: 'Alice Liddell',
      statusMessage: 'down the rabbit hole 🐇',
    });
    expect((await patch(alice, { statusMessage: null })).json()).toMatchObject({
      displayName: 'Alice Liddell',
      statusMessage: null,
    });
  });

  it.each([
    ['an empty body', {}],
    ['an empty display name', { displayName: '' }],
    ['a display name over 64 characters', { displayName: 'x'.repeat(65) }],
    ['a status over 140 characters', { statusMessage: 'x'.repeat(141) }],
    ['a control character', { displayName: 'Alice\u0007' }],
    ['a newline', { statusMessage: 'line\nbreak' }],
    ['a wrong type', { displayName: 42 }],
    ['an unknown field', { displayName: 'A', avatarUrl: 'http://x' }],
    ['a field of the account', { username: 'someone-else' }],
  ])('refuses %s and changes nothing', async (_case, payload) => {
    const alice = await registerUser(app);
    // Each user's own, since no two users may have look-alike names.
    const original = `Original ${alice.id.slice(0, 8)}`;
    await patch(alice, { displayName: original });
    expectError(await patch(alice, payload), 400, 'VALIDATION_FAILED');
    expect(await me(alice)).toMatchObject({ displayName: original, username: alice.username });
  });

  it('needs authentication', async () => {
    expectError(
      await app.inject({ method: 'PATCH', url: '/api/me/profile', payload: { displayName: 'x' } }),
      401,
      'UNAUTHENTICATED',
    );
  });
});

describe('avatars', () => {
  it.each(Object.entries(IMAGES))('stores and serves a %s image', async (type, bytes) => {
    expect(sniffImageType(bytes)).toBe(type);
    const alice = await registerUser(app);
    const response = await putAvatar(alice, bytes, type);
    expect(response.statusCode, response.body).toBe(204);
    expect((await me(alice)).hasAvatar).toBe(true);
    // Served without authentication, so an <img> can show it; never sniffed as anything else.
    const served = await app.inject({ method: 'GET', url: `/api/users/by-id/${alice.id}/avatar` });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe(type);
    expect(served.headers['x-content-type-options']).toBe('nosniff');
    expect(served.headers['content-security-policy']).toBe("default-src 'none'");
    expect(served.rawPayload.equals(bytes)).toBe(true);
  });

  it('refuses bytes that are not the declared image, and keeps the old avatar', async () => {
    const alice = await registerUser(app);
    await putAvatar(alice, IMAGES['image/png'], 'image/png');
    expectError(await putAvatar(alice, IMAGES['image/gif'], 'image/png'), 400, 'AVATAR_INVALID');
    expectError(
      await putAvatar(alice, Buffer.from('<svg onload="alert(1)"/>'), 'image/png'),
      400,
      'AVATAR_INVALID',
    );
    expectError(await putAvatar(alice, Buffer.alloc(0), 'image/jpeg'), 400, 'AVATAR_INVALID');
    const served = await app.inject({ method: 'GET', url: `/api/users/by-id/${alice.id}/avatar` });
    expect(served.rawPayload.equals(IMAGES['image/png'])).toBe(true);
  });

  it('refuses an image over 256 KiB with AVATAR_TOO_LARGE', async () => {
    const alice = await registerUser(app);
    const big = Buffer.concat([IMAGES['image/png'], Buffer.alloc(256 * 1024)]);
    expectError(await putAvatar(alice, big, 'image/png'), 413, 'AVATAR_TOO_LARGE');
    expect((await me(alice)).hasAvatar).toBe(false);
  });

  it('refuses an image larger than 1024 pixels a side, however few its bytes', async () => {
    const alice = await registerUser(app);
    for (const [width, height] of [
      [1025, 1],
      [1, 1025],
      [40_000, 40_000],
    ] as const) {
      const response = await putAvatar(alice, pngHeader(width, height), 'image/png');
      expectError(response, 413, 'AVATAR_TOO_LARGE');
      expect(response.json().error.message).toContain(`${width}×${height}`);
    }
    expect((await me(alice)).hasAvatar).toBe(false);
    expect((await putAvatar(alice, pngHeader(1024, 1024), 'image/png')).statusCode).toBe(204);
  });

  it('refuses other content types', async () => {
    const alice = await registerUser(app);
    expectError(
      await putAvatar(alice, Buffer.from('<svg/>'), 'image/svg+xml'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const json = await app.inject({
      method: 'PUT',
      url: '/api/me/avatar',
      headers: alice.auth,
      payload: { image: 'data:image/png;base64,AAAA' },
    });
    expectError(json, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect((await me(alice)).hasAvatar).toBe(false);
  });

  it('needs authentication to upload', async () => {
    const response = await app.inject({
      method: 'PUT',
      url: '/api/me/avatar',
      headers: { 'content-type': 'image/png' },
      payload: IMAGES['image/png'],
    });
    expectError(response, 401, 'UNAUTHENTICATED');
  });

  it('can be removed', async () => {
    const alice = await registerUser(app);
    await putAvatar(alice, IMAGES['image/png'], 'image/png');
    const response = await app.inject({
      method: 'DELETE',
      url: '/api/me/avatar',
      headers: alice.auth,
    });
    expect(response.statusCode).toBe(204);
    expectError(
      await app.inject({ method: 'GET', url: `/api/users/by-id/${alice.id}/avatar` }),
      404,
      'AVATAR_NOT_FOUND',
    );
  });

  it('answers 404 for a user without an avatar and 400 for a malformed id', async () => {
    const alice = await registerUser(app);
    expectError(
      await app.inject({ method: 'GET', url: `/api/users/by-id/${alice.id}/avatar` }),
      404,
      'AVATAR_NOT_FOUND',
    );
    expectError(
      await app.inject({ method: 'GET', url: '/api/users/by-id/zz/avatar' }),
      400,
      'VALIDATION_FAILED',
    );
  });
});

describe('public profiles', () => {
  it('are found by id and by username (any case)', async () => {
    const alice = await registerUser(app);
    const bob = await registerUser(app);
    await patch(alice, { displayName: 'Alice', statusMessage: 'hi' });
    for (const url of [
      `/api/users/by-id/${alice.id}`,
      `/api/users/${alice.username.toUpperCase()}`,
    ]) {
      const response = await app.inject({ method: 'GET', url, headers: bob.auth });
      expect(response.statusCode).toBe(200);
      expect(response.json<PublicProfile>()).toEqual({
        userId: alice.id,
        username: alice.username,
        displayName: 'Alice',
        statusMessage: 'hi',
        hasAvatar: false,
      });
    }
  });

  it('answer USER_NOT_FOUND for nobody and need authentication', async () => {
    const alice = await registerUser(app);
    expectError(
      await app.inject({
        method: 'GET',
        url: `/api/users/by-id/${'f'.repeat(32)}`,
        headers: alice.auth,
      }),
      404,
      'USER_NOT_FOUND',
    );
    expectError(
      await app.inject({
        method: 'GET',
        url: '/api/users/nobody-here-at-all',
        headers: alice.auth,
      }),
      404,
      'USER_NOT_FOUND',
    );
    expectError(
      await app.inject({ method: 'GET', url: `/api/users/by-id/${alice.id}` }),
      401,
      'UNAUTHENTICATED',
    );
  });
});

describe('names that look alike', () => {
  it('cleans display names of bidi overrides, invisible and control characters', async () => {
    const alice = await registerUser(app);
    const dirty =
      '\u202eEve\u202c \u200bthe\u200d\ufeff   \u2066great\u2069\u0085\u00ad\u2028 \u0041\u030a';
    const response = await patch(alice, { displayName: dirty });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json<Me>().displayName).toBe('Eve the great \u00c5');
    expectError(
      await patch(alice, { displayName: '\u200b\u202e\u2060' }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('refuses a display name that looks like another user’s username or display name', async () => {
    const alice = await registerUser(app);
    const bob = await registerUser(app);
    const carol = await registerUser(app);
    // Cyrillic а and о, a digit one for an l: the same skeleton as alice's username.
    const lookalike = alice.username.replace(/a/g, '\u0430').replace(/l/g, '1');
    expectError(await patch(bob, { displayName: lookalike }), 409, 'NAME_CONFUSABLE');
    expectError(
      await patch(bob, { displayName: alice.username.toUpperCase() }),
      409,
      'NAME_CONFUSABLE',
    );
    // One's own username, in any guise, is fine.
    expect((await patch(alice, { displayName: alice.username.toUpperCase() })).statusCode).toBe(
      200,
    );

    const name = `Mallory ${carol.id.slice(0, 6)}`;
    expect((await patch(carol, { displayName: name })).statusCode).toBe(200);
    expectError(
      await patch(bob, { displayName: name.replace('M', 'rn').replace('o', '\u03bf') }),
      409,
      'NAME_CONFUSABLE',
    );
    // Once carol lets the name go, it is free.
    expect((await patch(carol, { displayName: null })).statusCode).toBe(200);
    expect((await patch(bob, { displayName: name })).statusCode).toBe(200);
  });

  it('refuses a username that looks like a taken one', async () => {
    const suffix = Date.now()
      .toString(36)
      .replace(/[^a-z]/g, 'x');
    await registerUser(app, `molly-${suffix}`);
    const register = (username: string) =>
      app.inject({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username, password: 'correct horse battery staple 7' },
      });
    for (const lookalike of [`rnolly-${suffix}`, `m0lly-${suffix}`, `mo1ly-${suffix}`]) {
      expectError(await register(lookalike), 409, 'NAME_CONFUSABLE');
    }
    // A display name can block a username too.
    const bob = await registerUser(app);
    const shown = `zed${bob.id.slice(0, 8)}`;
    expect((await patch(bob, { displayName: shown })).statusCode).toBe(200);
    expectError(await register(shown), 409, 'NAME_CONFUSABLE');
  });
});
