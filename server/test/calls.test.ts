// Calls on the server: nothing but where STUN and TURN are (ICE_SERVERS), checked at start and
// served to signed-in accounts only. The signalling itself is ordinary encrypted messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { ConfigError, loadConfig } from '../src/config';
import { expectError, registerUser, type TestUser } from './accounts';
import { createTestApp } from './helpers';

const ICE_SERVERS = JSON.stringify([
  { urls: 'stun:stun.example.org:3478' },
  {
    urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'],
    username: 'parley',
    credential: 'turn-secret',
  },
]);

let app: ParleyApp;
let user: TestUser;

beforeAll(async () => {
  app = await createTestApp({ env: { ICE_SERVERS } });
  user = await registerUser(app);
});
afterAll(async () => {
  await app.close();
});

describe('GET /api/calls/ice-servers', () => {
  it('serves the configured servers to a signed-in account, urls always a list', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/calls/ice-servers',
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      iceServers: [
        { urls: ['stun:stun.example.org:3478'] },
        {
          urls: ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349'],
          username: 'parley',
          credential: 'turn-secret',
        },
      ],
    });
  });

  it('keeps TURN credentials from anyone not signed in', async () => {
    expectError(
      await app.inject({ method: 'GET', url: '/api/calls/ice-servers' }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await app.inject({
        method: 'GET',
        url: '/api/calls/ice-servers',
        headers: { authorization: 'Bearer not-a-token' },
      }),
      401,
      'TOKEN_INVALID',
    );
  });

  it('serves none when none are configured (two parties on one network need none)', async () => {
    const plain = await createTestApp();
    try {
      const { accessToken } = await registerUser(plain);
      const response = await plain.inject({
        method: 'GET',
        url: '/api/calls/ice-servers',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(response.json()).toEqual({ iceServers: [] });
    } finally {
      await plain.close();
    }
  });
});

describe('ICE_SERVERS', () => {
  const problems = (value: string): string[] => {
    try {
      loadConfig({ ICE_SERVERS: value, JWT_SECRET: 'x7Gq2LmP9vR4tY8wK3nB6cD1fH5jZ0sA' });
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it('fails the start on anything that is not a list of stun:/turn: servers, naming no secret', () => {
    const bad = [
      'stun:stun.example.org',
      '{"urls":"stun:x"}',
      '[1]',
      '[{"urls":[]}]',
      '[{"urls":"http://example.org"}]',
      '[{"urls":"turn:turn.example.org"}]',
      '[{"urls":"stun:x","password":"hunter2"}]',
      '[{"urls":"turn:x","username":"u","credential":42}]',
      JSON.stringify(Array(17).fill({ urls: 'stun:x' })),
    ];
    for (const value of bad) {
      const found = problems(value);
      expect(found, value).toHaveLength(1);
      expect(found[0]).toMatch(/^ICE_SERVERS: /);
      expect(found[0]).not.toContain('hunter2');
    }
    expect(problems(ICE_SERVERS)).toEqual([]);
  });
});
