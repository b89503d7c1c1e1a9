import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { expectError, registerUser, type TestUser } from './accounts';
import { createTestApp, TEST_JWT_SECRET } from './helpers';
import { makeJwt, readClaims } from './tokens';

describe('access tokens', () => {
  let app: ParleyApp;
  let alice: TestUser;
  beforeAll(async () => {
    app = await createTestApp();
    alice = await registerUser(app);
  });
  afterAll(async () => {
    await app.close();
  });

  const me = (headers: Record<string, string>) =>
    app.inject({ method: 'GET', url: '/api/me', headers });

  function claimsOf(user: TestUser, overrides: Record<string, unknown> = {}) {
    return { ...readClaims(user.accessToken), ...overrides };
  }

  it('are HS256 with issuer, audience, session and a 15-minute life', () => {
    const header = JSON.parse(
      Buffer.from(alice.accessToken.split('.')[0]!, 'base64url').toString(),
    );
    expect(header.alg).toBe('HS256');
    const claims = readClaims(alice.accessToken);
    expect(claims).toMatchObject({
      sub: alice.id,
      username: alice.username,
      iss: 'parley',
      aud: 'parley-access',
    });
    expect(claims.sid).toMatch(/^[0-9a-f]{32}$/);
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
  });

  it('let the owner in', async () => {
    const response = await me(alice.auth);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ userId: alice.id, username: alice.username });
  });

  it('are required', async () => {
    expectError(await me({}), 401, 'UNAUTHENTICATED');
  });

  it('must come as a Bearer token', async () => {
    expectError(await me({ authorization: `Basic ${alice.accessToken}` }), 401, 'TOKEN_INVALID');
    expectError(await me({ authorization: 'Bearer' }), 401, 'TOKEN_INVALID');
    expectError(await me({ authorization: 'Bearer not-a-jwt' }), 401, 'TOKEN_INVALID');
  });

  it('refuse a signature made with another secret', async () => {
    const forged = makeJwt(claimsOf(alice), {
      secret: 'another-secret-another-secret-another-secret',
    });
    expectError(await me({ authorization: `Bearer ${forged}` }), 401, 'TOKEN_INVALID');
  });

  it('refuse alg none', async () => {
    const unsigned = makeJwt(claimsOf(alice), { secret: '', alg: 'none' });
    expectError(await me({ authorization: `Bearer ${unsigned}` }), 401, 'TOKEN_INVALID');
  });

  it('refuse an algorithm outside the allow-list even with the right secret', async () => {
    const hs512 = makeJwt(claimsOf(alice), { secret: TEST_JWT_SECRET, alg: 'HS512' });
    expectError(await me({ authorization: `Bearer ${hs512}` }), 401, 'TOKEN_INVALID');
  });

  it('refuse an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = makeJwt(claimsOf(alice, { iat: now - 1000, exp: now - 100 }), {
      secret: TEST_JWT_SECRET,
    });
    expectError(await me({ authorization: `Bearer ${expired}` }), 401, 'TOKEN_EXPIRED');
  });

  it('refuse a token for another audience or issuer', async () => {
    const audience = makeJwt(claimsOf(alice, { aud: 'someone-else' }), { secret: TEST_JWT_SECRET });
    expectError(await me({ authorization: `Bearer ${audience}` }), 401, 'TOKEN_INVALID');
    const issuer = makeJwt(claimsOf(alice, { iss: 'someone-else' }), { secret: TEST_JWT_SECRET });
    expectError(await me({ authorization: `Bearer ${issuer}` }), 401, 'TOKEN_INVALID');
  });

  it('refuse a token without a session claim', async () => {
    const { sid: _sid, ...claims } = claimsOf(alice);
    const token = makeJwt(claims, { secret: TEST_JWT_SECRET });
    expectError(await me({ authorization: `Bearer ${token}` }), 401, 'TOKEN_INVALID');
  });

  it('refuse a validly signed token naming a session that is not the user’s', async () => {
    const bob = await registerUser(app);
    const token = makeJwt(claimsOf(alice, { sid: readClaims(bob.accessToken).sid }), {
      secret: TEST_JWT_SECRET,
    });
    expectError(await me({ authorization: `Bearer ${token}` }), 401, 'SESSION_REVOKED');
  });

  it('verifyAccessToken checks a token outside HTTP (WebSocket handshake)', async () => {
    await expect(app.verifyAccessToken(alice.accessToken)).resolves.toMatchObject({
      id: alice.id,
      username: alice.username,
    });
    await expect(app.verifyAccessToken('garbage')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });
});
