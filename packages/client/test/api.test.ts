import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerApi } from '../src/api';
import type { ProtocolViolation } from '../src/boundary';
import { MemoryKeyStore } from '../src/key-store/memory';
import { DEFAULT_TUNING, silentLogger, systemClock } from '../src/options';
import { Session } from '../src/session';
import { expectClientCode } from './helpers';
import { passwordOf, startServer, tamperingTransport, type LiveServer } from './live';

let server: LiveServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server.close();
});

function api() {
  const transport = tamperingTransport(server.baseUrl);
  const violations: ProtocolViolation[] = [];
  const session: Session = new Session(
    new MemoryKeyStore(),
    systemClock,
    DEFAULT_TUNING,
    () => routes,
  );
  const routes = new ServerApi(transport, session, systemClock, silentLogger, 5000, (v) =>
    violations.push(v),
  );
  return { routes, session, transport, violations };
}

describe('ServerApi', () => {
  it('calls a route with its parameters in the path, and reads its checked answer', async () => {
    const { routes, session } = api();
    const answer = await routes.register({ username: 'alice', password: passwordOf('alice') });
    await session.save(answer);
    const profile = await routes.profile(answer.user.id);
    expect(profile).toMatchObject({ userId: answer.user.id, username: 'alice' });
    // A name that is not a path segment is sent encoded, as one segment the server then judges.
    await expectClientCode(routes.keysByName('../me'), 'VALIDATION_FAILED');
  });

  it("turns the server's error into a ClientError with its code and status", async () => {
    const { routes } = api();
    const error = await expectClientCode(
      routes.logIn({ username: 'nobody', password: passwordOf('nobody') }),
      'INVALID_CREDENTIALS',
    );
    expect(error.status).toBe(401);
    await expectClientCode(routes.rooms(), 'NOT_SIGNED_IN');
  });

  it('refuses an answer that fails its schema (BAD_RESPONSE) and reports where', async () => {
    const { routes, transport, violations } = api();
    transport.rewrite = (_method, path, body) =>
      path === '/api/auth/rules' ? { ...(body as object), username: { toString: 0 } } : body;
    await expectClientCode(routes.accountRules(), 'BAD_RESPONSE');
    expect(violations).toMatchObject([
      {
        source: 'answer',
        type: 'GET /api/auth/rules',
        path: expect.stringMatching(/^\/username\//),
      },
    ]);
  });
});
