// The list of signed-in sessions and ending one, against the real server: the device name a
// client gives, the current session marked, another device signed out at once (socket closed,
// 'signed-out' emitted), this device's own session ended as a log-out; and a hostile server's
// answers that do not match their schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../src/client';
import { MemoryKeyStore } from '../src/key-store/memory';
import { nodeTransport } from '../src/node';
import { expectClientCode } from './helpers';
import { device, passwordOf, shutDown, startServer, type LiveServer } from './live';

let server: LiveServer;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await server.close();
});

async function newClient(deviceName?: string): Promise<Client> {
  const client = await createClient({
    transport: nodeTransport(server.baseUrl),
    keyStore: new MemoryKeyStore(),
    tuning: { reconnectMs: 50, maxReconnectMs: 500 },
    ...(deviceName === undefined ? {} : { deviceName }),
  });
  clients.push(client);
  return client;
}

describe('signed-in sessions', () => {
  it('lists each device by its name, and revoking one signs that device out at once', async () => {
    const laptop = await newClient(' Laptop ');
    await laptop.signUp({ username: 'dana', password: passwordOf('dana') });
    const phone = await newClient('Phone');
    await phone.logIn({ username: 'dana', password: passwordOf('dana') });
    const tablet = await newClient();
    await tablet.logIn({ username: 'dana', password: passwordOf('dana') });

    const seen = await laptop.listSessions();
    expect(seen.map((s) => [s.deviceName, s.current]).sort()).toEqual(
      [
        ['Laptop', true],
        ['Phone', false],
        // Node's fetch sends a User-Agent bowser does not know as a browser.
        ['Unknown device', false],
      ].sort(),
    );
    const phoneSession = seen.find((s) => s.deviceName === 'Phone')!;
    expect(new Date(phoneSession.lastSeenAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

    await laptop.revokeSession(phoneSession.id);
    await expectClientCode(phone.listSessions(), 'SESSION_REVOKED');
    await expectClientCode(laptop.revokeSession(phoneSession.id), 'SESSION_NOT_FOUND');
    expect((await laptop.listSessions()).map((s) => s.id).sort()).toEqual(
      seen
        .filter((s) => s.id !== phoneSession.id)
        .map((s) => s.id)
        .sort(),
    );
    expect(laptop.isLoggedIn).toBe(true);
  });

  it('closes the revoked device’s socket, which then reports it was signed out', async () => {
    const own = await device(server, 'frank', { connect: true });
    const ownSession = (await own.parts.sessions.list())[0]!;
    expect(ownSession).toMatchObject({ current: true });
    const phone = await newClient('Frank phone');
    await phone.logIn({ username: 'frank', password: passwordOf('frank') });
    const signedOut = own.parts.ctx.events.next('signed-out');
    await phone.revokeSession(ownSession.id);
    expect(await signedOut).toEqual({ reason: 'SESSION_REVOKED' });
    expect(own.parts.session.isOpen).toBe(false);
    await shutDown(own);
  });

  it('revoking this device’s own session is a log-out', async () => {
    const client = await newClient('Only device');
    await client.signUp({ username: 'gina', password: passwordOf('gina') });
    const [own] = await client.listSessions();
    await client.revokeSession(own!.id);
    expect(client.isLoggedIn).toBe(false);
    await expectClientCode(client.listSessions(), 'NOT_SIGNED_IN');
  });

  it('refuses a bad device name and a bad session id before asking the server', async () => {
    for (const deviceName of ['', '   ', 'x'.repeat(65), 'line\nbreak', '\u001b[2J']) {
      await expectClientCode(
        createClient({ baseUrl: server.baseUrl, keyStore: new MemoryKeyStore(), deviceName }),
        'INVALID_ARGUMENT',
      );
    }
    const client = await newClient();
    await client.signUp({ username: 'hank', password: passwordOf('hank') });
    await expectClientCode(client.revokeSession('not-an-id'), 'INVALID_ARGUMENT');
    await expectClientCode(client.revokeSession('0'.repeat(32)), 'SESSION_NOT_FOUND');
  });

  it('checks every answer against its schema', async () => {
    const ivan = await device(server, 'ivan');
    ivan.transport.rewrite = (_method, path, body) =>
      path === '/api/me/sessions'
        ? { sessions: [{ id: 'x', deviceName: 3, current: 'yes' }] }
        : body;
    await expectClientCode(ivan.parts.sessions.list(), 'BAD_RESPONSE');
    await shutDown(ivan);
  });
});
