import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/accounts/login-throttle';
import type { ParleyApp } from '../src/app';
import { createMemoryCounters } from '../src/limits/counters';
import { expectError, registerUser, strongPassword, uniqueUsername } from './accounts';
import { createTestApp } from './helpers';

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

const loginFrom = (app: ParleyApp, username: string, ip: string, password = 'wrong password 123') =>
  app.inject({
    method: 'POST',
    url: '/api/auth/login',
    remoteAddress: ip,
    payload: { username, password },
  });

describe('login throttle', () => {
  let app: ParleyApp;
  beforeAll(async () => {
    app = await createTestApp({
      config: {
        limits: { authPerIpPerMinute: 1000, loginFreeFailures: 3, loginPerAccountPer15Minutes: 8 },
      },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('slows the guessing address, not the account: its owner still logs in', async () => {
    const victim = await registerUser(app);
    for (let i = 0; i < 3; i++) {
      expectError(await loginFrom(app, victim.username, '10.1.0.1'), 401, 'INVALID_CREDENTIALS');
    }
    expectError(await loginFrom(app, victim.username, '10.1.0.1'), 429, 'RATE_LIMITED');
    // The right password from the guessing address waits too: the wait is not an oracle.
    expectError(
      await loginFrom(app, victim.username, '10.1.0.1', victim.password),
      429,
      'RATE_LIMITED',
    );
    // Case does not dodge it.
    expectError(
      await loginFrom(app, victim.username.toUpperCase(), '10.1.0.1'),
      429,
      'RATE_LIMITED',
    );
    const owner = await loginFrom(app, victim.username, '10.1.0.200', victim.password);
    expect(owner.statusCode, owner.body).toBe(200);
  });

  it('stops guesses spread over many addresses, except from addresses that logged in before', async () => {
    const victim = await registerUser(app);
    const home = '10.2.0.250';
    expect((await loginFrom(app, victim.username, home, victim.password)).statusCode).toBe(200);
    for (let i = 0; i < 8; i++) {
      expectError(await loginFrom(app, victim.username, `10.2.0.${i}`), 401, 'INVALID_CREDENTIALS');
    }
    expectError(
      await loginFrom(app, victim.username, '10.2.0.100', victim.password),
      429,
      'RATE_LIMITED',
    );
    expect((await loginFrom(app, victim.username, home, victim.password)).statusCode).toBe(200);
    // Another account is untouched.
    expectError(await loginFrom(app, uniqueUsername(), '10.2.0.101'), 401, 'INVALID_CREDENTIALS');
  });

  it('checks the password of DELETE /me under the same throttle', async () => {
    const user = await registerUser(app);
    const remove = (password: string) =>
      app.inject({
        method: 'DELETE',
        url: '/api/me',
        remoteAddress: '10.3.0.1',
        headers: user.auth,
        payload: { password },
      });
    for (let i = 0; i < 3; i++)
      expectError(await remove('wrong password 123'), 401, 'INVALID_CREDENTIALS');
    expectError(await remove(user.password), 429, 'RATE_LIMITED');
    const still = await app.db.selectFrom('users').select('id').where('id', '=', user.id).execute();
    expect(still).toHaveLength(1);
  });
});

describe('LoginThrottle', () => {
  it('doubles the wait per failure past the free ones, up to the maximum, and forgets on success', async () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle({
      counters: createMemoryCounters(100, () => now),
      freeFailures: 2,
      maxBackoffMs: 4000,
      maxAccountFailures: 1000,
      windowMs: 60_000,
      clock: () => now,
    });
    const refused = (address = 'ip') =>
      expect(throttle.assertAllowed('alice', address)).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
    await throttle.recordFailure('alice', 'ip');
    await throttle.recordFailure('alice', 'ip');
    await refused();
    now += 1000;
    await throttle.assertAllowed('alice', 'ip');
    await throttle.recordFailure('alice', 'ip');
    now += 1999;
    await refused();
    now += 1;
    await throttle.assertAllowed('alice', 'ip');
    await throttle.recordFailure('alice', 'ip');
    await throttle.recordFailure('alice', 'ip');
    now += 4000; // 2 ** 3 s capped at 4 s
    await throttle.assertAllowed('alice', 'ip');
    await throttle.assertAllowed('alice', 'other ip');
    await throttle.recordSuccess('alice', 'ip');
    await throttle.recordFailure('alice', 'ip');
    await throttle.assertAllowed('alice', 'ip');
    // The window ends and every count with it.
    await throttle.recordFailure('alice', 'ip');
    await refused();
    now += 60_000;
    await throttle.assertAllowed('alice', 'ip');
  });

  it('keeps at most maxKeys counters in memory, dropping the oldest', async () => {
    const counters = createMemoryCounters(2);
    await counters.add('a', Date.now(), 60_000);
    await counters.add('b', Date.now(), 60_000);
    await counters.add('c', Date.now(), 60_000);
    expect(await counters.get('a')).toBeUndefined();
    expect(await counters.get('c')).toMatchObject({ count: 1 });
  });
});

describe('per-address limit', () => {
  let app: ParleyApp;
  beforeAll(async () => {
    app = await createTestApp({ config: { limits: { authPerIpPerMinute: 6 } } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('counts register, login and refresh together per address', async () => {
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
    expectError(await loginFrom(app, uniqueUsername(), ip), 401, 'INVALID_CREDENTIALS');
    expectError(await loginFrom(app, uniqueUsername(), ip), 401, 'INVALID_CREDENTIALS');
    const before = await app.db.selectFrom('users').select('id').execute();
    expectError(await register(), 429, 'RATE_LIMITED');
    expectError(await refresh(), 429, 'RATE_LIMITED');
    expect(await app.db.selectFrom('users').select('id').execute()).toHaveLength(before.length);
    // Another address still gets through.
    expectError(await loginFrom(app, uniqueUsername(), '10.0.2.2'), 401, 'INVALID_CREDENTIALS');
  });
});

describe('behind trusted proxies', () => {
  let app: ParleyApp;
  beforeAll(async () => {
    app = await createTestApp({
      config: { trustProxy: ['127.0.0.1', '10.8.0.0/16'], limits: { authPerIpPerMinute: 2 } },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  it('keys on the nearest untrusted address, so a forged X-Forwarded-For entry changes nothing', async () => {
    const login = (forged: string) =>
      app.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: '127.0.0.1',
        // The client wrote the first entry; its proxy at 10.8.0.1 appended what it saw.
        headers: { 'x-forwarded-for': `${forged}, 203.0.113.7, 10.8.0.1` },
        payload: { username: uniqueUsername(), password: 'wrong password 123' },
      });
    expectError(await login('1.1.1.1'), 401, 'INVALID_CREDENTIALS');
    expectError(await login('2.2.2.2'), 401, 'INVALID_CREDENTIALS');
    expectError(await login('3.3.3.3'), 429, 'RATE_LIMITED');
  });

  it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    const login = (forged: string) =>
      app.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: '198.51.100.9',
        headers: { 'x-forwarded-for': forged },
        payload: { username: uniqueUsername(), password: 'wrong password 123' },
      });
    expectError(await login('4.4.4.4'), 401, 'INVALID_CREDENTIALS');
    expectError(await login('5.5.5.5'), 401, 'INVALID_CREDENTIALS');
    expectError(await login('6.6.6.6'), 429, 'RATE_LIMITED');
  });

  it('sends HSTS only over TLS as told by a trusted proxy', async () => {
    const rules = (remoteAddress: string, proto: string) =>
      app.inject({
        method: 'GET',
        url: '/api/auth/rules',
        remoteAddress,
        headers: { 'x-forwarded-proto': proto },
      });
    expect((await rules('127.0.0.1', 'https')).headers['strict-transport-security']).toBe(
      'max-age=63072000; includeSubDomains',
    );
    expect((await rules('127.0.0.1', 'http')).headers['strict-transport-security']).toBeUndefined();
    expect(
      (await rules('198.51.100.9', 'https')).headers['strict-transport-security'],
    ).toBeUndefined();
  });
});

describe('limits shared through Redis', () => {
  const prefix = `parley-test-${randomBytes(6).toString('hex')}:`;
  let first: ParleyApp;
  let second: ParleyApp;
  const redisConfig = {
    redisUrl: REDIS_URL,
    redisChannelPrefix: prefix,
    limits: { authPerIpPerMinute: 4, loginFreeFailures: 2, loginPerAccountPer15Minutes: 1000 },
  };
  beforeAll(async () => {
    first = await createTestApp({ config: redisConfig });
    second = await createTestApp({ config: redisConfig });
  });
  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
    // Only this run's keys: the shared Redis is never flushed.
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('counts one address across processes', async () => {
    const ip = '10.4.0.1';
    expectError(await loginFrom(first, uniqueUsername(), ip), 401, 'INVALID_CREDENTIALS');
    expectError(await loginFrom(second, uniqueUsername(), ip), 401, 'INVALID_CREDENTIALS');
    expectError(await loginFrom(first, uniqueUsername(), ip), 401, 'INVALID_CREDENTIALS');
    expectError(await loginFrom(second, uniqueUsername(), ip), 401, 'INVALID_CREDENTIALS');
    expectError(await loginFrom(first, uniqueUsername(), ip), 429, 'RATE_LIMITED');
    expectError(await loginFrom(second, uniqueUsername(), ip), 429, 'RATE_LIMITED');
  });

  it('counts failed logins of one account across processes', async () => {
    const username = uniqueUsername();
    expectError(await loginFrom(first, username, '10.5.0.1'), 401, 'INVALID_CREDENTIALS');
    expectError(await loginFrom(second, username, '10.5.0.1'), 401, 'INVALID_CREDENTIALS');
    expectError(await loginFrom(first, username, '10.5.0.1'), 429, 'RATE_LIMITED');
    expectError(await loginFrom(second, username, '10.5.0.1'), 429, 'RATE_LIMITED');
  });
});
