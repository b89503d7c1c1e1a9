import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { expectError, strongPassword, uniqueUsername } from './accounts';
import { createTestApp } from './helpers';

describe('rate limits', () => {
  let app: ParleyApp;
  beforeAll(async () => {
    app = await createTestApp({
      config: { limits: { authPerIpPerMinute: 6, loginPerAccountPer15Minutes: 3 } },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  const login = (username: string, ip: string) =>
    app.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: ip,
      payload: { username, password: 'wrong password 123' },
    });

  it('limit login attempts per account across addresses', async () => {
    const target = uniqueUsername('target');
    for (let i = 0; i < 3; i++)
      expectError(await login(target, `10.0.0.${i + 1}`), 401, 'INVALID_CREDENTIALS');
    expectError(await login(target, '10.0.0.99'), 429, 'RATE_LIMITED');
    // Case does not dodge the account limit.
    expectError(await login(target.toUpperCase(), '10.0.0.98'), 429, 'RATE_LIMITED');
    // Another account from a fresh address is unaffected.
    expectError(await login(uniqueUsername('other'), '10.0.1.1'), 401, 'INVALID_CREDENTIALS');
  });

  it('limit register, login and refresh together per address', async () => {
    const ip = '10.0.2.1';
    const register = () =>
      app.inject({
        method: 'POST',
        url: '/api/auth/register',
        remoteAddress: ip,
        payload: { username: uniqueUsername(), password: strongPassword() },
      });
    const refresh = () =>
      app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        remoteAddress: ip,
        payload: { refreshToken: Buffer.alloc(32).toString('base64url') },
      });
    expect((await register()).statusCode).toBe(201);
    expect((await register()).statusCode).toBe(201);
    expectError(await refresh(), 401, 'REFRESH_TOKEN_INVALID');
    expectError(await refresh(), 401, 'REFRESH_TOKEN_INVALID');
    expectError(await login(uniqueUsername(), ip), 401, 'INVALID_CREDENTIALS');
    expectError(await login(uniqueUsername(), ip), 401, 'INVALID_CREDENTIALS');
    const before = await app.db.selectFrom('users').select('id').execute();
    expectError(await register(), 429, 'RATE_LIMITED');
    expectError(await refresh(), 429, 'RATE_LIMITED');
    expect(await app.db.selectFrom('users').select('id').execute()).toHaveLength(before.length);
    // Another address still gets through.
    expectError(await login(uniqueUsername(), '10.0.2.2'), 401, 'INVALID_CREDENTIALS');
  });
});

describe('LoginThrottle', () => {
  it('blocks an account after maxFailures in the window, and forgets after it', async () => {
    const { LoginThrottle } = await import('../src/accounts/login-throttle');
    let now = 1_000_000;
    const throttle = new LoginThrottle(2, 60_000, 3, () => now);
    throttle.recordFailure('alice');
    throttle.assertAllowed('alice');
    throttle.recordFailure('alice');
    expect(() => throttle.assertAllowed('alice')).toThrow(
      expect.objectContaining({ code: 'RATE_LIMITED' }),
    );
    throttle.assertAllowed('bob');
    now += 60_000;
    throttle.assertAllowed('alice');
  });

  it('keeps at most maxAccounts counters, dropping the oldest', async () => {
    const { LoginThrottle } = await import('../src/accounts/login-throttle');
    const throttle = new LoginThrottle(1, 60_000, 2);
    throttle.recordFailure('a');
    throttle.recordFailure('b');
    throttle.recordFailure('c');
    throttle.assertAllowed('a');
    expect(() => throttle.assertAllowed('c')).toThrow();
  });
});
