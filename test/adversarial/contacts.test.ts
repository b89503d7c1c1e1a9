// The contact graph is the server's word, and the client takes no more from it than that: a forged
// `contact` frame makes no contact, a contact the server names is never shown as verified unless
// this device compared safety numbers, and a person this account blocked stays out of sight even
// when the server relays their presence and typing. Through a hostile network in front of bob.
import type { Client } from '@parley/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canSendIn, eventually, newDevice, startServer, type LiveServer } from '../e2e/harness';
import { HostileTransport, settle, watchProcess } from './hostile';

describe('contacts against a hostile server', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let network: HostileTransport;
  let roomId: string;
  let watch: ReturnType<typeof watchProcess>;

  beforeAll(async () => {
    server = await startServer();
    network = new HostileTransport(server.baseUrl);
    alice = await newDevice(server);
    bob = await newDevice(server, { transport: network });
    carol = await newDevice(server);
    await alice.signUp({ username: 'alice', password: 'alice-password-1234' });
    await bob.signUp({ username: 'bob', password: 'bob-password-5678' });
    await carol.signUp({ username: 'carol', password: 'carol-password-9012' });
    for (const client of [alice, bob, carol]) {
      client.connect();
      await client.connected();
    }
    roomId = (await alice.createGroup({ name: 'trio', members: ['bob', 'carol'] })).roomId;
    await eventually(
      () => canSendIn(bob, roomId) || bob.syncRooms().then(() => false),
      10_000,
      'bob in the group',
    );
  });

  beforeEach(() => {
    network.answer = (_m, _p, body) => body;
    network.frames = (text) => [text];
    watch?.stop();
    watch = watchProcess();
  });

  afterAll(async () => {
    watch?.stop();
    await Promise.all([alice.close(), bob.close(), carol.close()]);
    await server.close();
  });

  it('a forged contact frame for someone who never asked makes no contact', async () => {
    const events: unknown[] = [];
    const off = bob.on('contact', (event) => events.push(event));
    network.inject({ type: 'contact', user: carol.me!.userId, change: 'accepted' });
    await settle();
    off();
    // The frame is only a hint to read the list again; the list says nobody.
    expect(events).toEqual([{ userId: carol.me!.userId, change: 'accepted' }]);
    expect((await bob.contactList()).contacts).toEqual([]);
    expect(watch.faults).toEqual([]);
  });

  it('a malformed contact frame is a protocol error and tells the app nothing', async () => {
    const events: unknown[] = [];
    const off = bob.on('contact', (event) => events.push(event));
    const errors = bob.protocolErrorCount;
    network.inject({ type: 'contact', user: carol.me!.userId, change: 'friends-forever' });
    network.inject({ type: 'contact', user: 'carol', change: 'accepted' });
    await settle();
    off();
    expect(events).toEqual([]);
    expect(bob.protocolErrorCount).toBe(errors + 2);
    expect(watch.faults).toEqual([]);
  });

  it('a contact the server names is not verified unless this device compared safety numbers', async () => {
    // The server claims carol is bob's contact: shown, as the server's word, but unverified.
    network.answer = (method, path, body) =>
      method === 'GET' && path === '/api/contacts'
        ? {
            ...(body as object),
            contacts: [
              { userId: carol.me!.userId, username: 'carol', since: '2026-01-01T00:00:00Z' },
            ],
          }
        : body;
    expect((await bob.contactList()).contacts).toMatchObject([
      { userId: carol.me!.userId, verified: false },
    ]);
    // Nor can it say "verified" for the device: an answer with such a field is refused whole.
    network.answer = (method, path, body) =>
      method === 'GET' && path === '/api/contacts'
        ? {
            ...(body as object),
            contacts: [
              {
                userId: carol.me!.userId,
                username: 'carol',
                since: '2026-01-01T00:00:00Z',
                verified: true,
              },
            ],
          }
        : body;
    await expect(bob.contactList()).rejects.toMatchObject({ code: 'BAD_RESPONSE' });
    expect(watch.faults).toEqual([]);
  });

  it('presence and typing of someone bob blocked are not shown, even when the server relays them', async () => {
    await bob.block(alice.me!.userId);
    await settle();
    const seen: string[] = [];
    const offPresence = bob.on('presence', (e) => seen.push(`presence ${e.userId} ${e.status}`));
    const offTyping = bob.on('typing', (e) => seen.push(`typing ${e.userId}`));
    network.inject({ type: 'presence', user: alice.me!.userId, status: 'online' });
    network.inject({ type: 'typing', room: roomId, user: alice.me!.userId, active: true });
    network.inject({ type: 'typing', room: roomId, user: carol.me!.userId, active: true });
    await settle();
    offPresence();
    offTyping();
    expect(seen).toEqual([`typing ${carol.me!.userId}`]);
    await bob.unblock(alice.me!.userId);
    expect(watch.faults).toEqual([]);
  });
});
