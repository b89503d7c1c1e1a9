import { describe, expect, it } from 'vitest';
import type { ServerApi } from '../src/api';
import { MemoryKeyStore } from '../src/key-store/memory';
import { DEFAULT_TUNING, systemClock } from '../src/options';
import { Session } from '../src/session';

const noApi = (): ServerApi => {
  throw new Error('no request expected');
};

describe('Session', () => {
  it('keeps the tokens in the key store, so a reload stays signed in, until cleared', async () => {
    const store = new MemoryKeyStore();
    const session = new Session(store, systemClock, DEFAULT_TUNING, noApi);
    expect(session.isOpen).toBe(false);
    await session.save({
      user: { id: 'ab'.repeat(16), username: 'alice' },
      accessToken: 'a.b.c',
      refreshToken: 'r'.repeat(43),
    });
    const reloaded = new Session(store, systemClock, DEFAULT_TUNING, noApi);
    await reloaded.load();
    expect(reloaded.current()).toEqual({ accessToken: 'a.b.c', refreshToken: 'r'.repeat(43) });
    expect(reloaded.username).toBe('alice');
    await reloaded.clear();
    const after = new Session(store, systemClock, DEFAULT_TUNING, noApi);
    await after.load();
    expect(after.isOpen).toBe(false);
  });

  it('hands out an access token with life left in it without a refresh', async () => {
    const session = new Session(new MemoryKeyStore(), systemClock, DEFAULT_TUNING, noApi);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const payload = Buffer.from(JSON.stringify({ exp })).toString('base64url');
    await session.save({
      user: { id: 'ab'.repeat(16), username: 'alice' },
      accessToken: `h.${payload}.s`,
      refreshToken: 'r'.repeat(43),
    });
    await expect(session.freshAccessToken()).resolves.toBe(`h.${payload}.s`);
  });

  it('refuses to refresh without a session', async () => {
    const session = new Session(new MemoryKeyStore(), systemClock, DEFAULT_TUNING, noApi);
    await expect(session.refresh()).rejects.toMatchObject({ code: 'NOT_SIGNED_IN' });
  });
});
