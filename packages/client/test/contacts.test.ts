// Contacts against the real server: requests and their answers, the contact list joined with this
// device's trust store (pinned, verified), blocks and direct-conversation privacy; and a server
// whose contact answers break their schema, or that relays a blocked person's presence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../src/client';
import { expectClientCode } from './helpers';
import {
  device,
  eventually,
  person,
  shutDown,
  startServer,
  type Device,
  type LiveServer,
} from './live';

let server: LiveServer;
const clients: Client[] = [];
const devices: Device[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  for (const d of devices) await shutDown(d);
  await server.close();
});

let counter = 0;
async function someone(name: string): Promise<Client> {
  counter += 1;
  const client = await person(server, `${name}-${counter}`);
  clients.push(client);
  return client;
}

describe('Contacts', () => {
  it('asks, is accepted, and lists the contact with the key state of this device', async () => {
    const [alice, bob] = [await someone('alice'), await someone('bob')];
    const heard = bob.next('contact');
    const asked = await alice.requestContact(bob.me!.username);
    expect(asked.outgoing.map((r) => r.username)).toEqual([bob.me!.username]);
    // Asking pinned bob's keys on alice's device.
    expect(alice.contact(bob.me!.userId)).toBeDefined();
    expect(await heard).toEqual({ userId: alice.me!.userId, change: 'requested' });
    expect((await bob.contactList()).incoming.map((r) => r.userId)).toEqual([alice.me!.userId]);

    const accepted = alice.next('contact', (event) => event.change === 'accepted');
    const atBob = await bob.acceptContact(alice.me!.userId);
    expect(atBob.contacts).toEqual([
      {
        userId: alice.me!.userId,
        username: alice.me!.username,
        since: expect.any(String),
        pinned: true,
        verified: false,
        keyChanged: false,
      },
    ]);
    await accepted;
    expect((await alice.contactList()).contacts).toMatchObject([
      { userId: bob.me!.userId, pinned: true, verified: false },
    ]);
    await alice.verifyContact(bob.me!.userId);
    expect((await alice.contactList()).contacts).toMatchObject([{ verified: true }]);
    // Verification is this device's own: bob's view of alice is unchanged.
    expect((await bob.contactList()).contacts).toMatchObject([{ verified: false }]);
  });

  it('declines, cancels and removes, and says when there is no such request', async () => {
    const [alice, bob] = [await someone('alice'), await someone('bob')];
    await expectClientCode(bob.acceptContact(alice.me!.userId), 'CONTACT_REQUEST_NOT_FOUND');
    await alice.requestContact(bob.me!.username);
    expect((await bob.declineContact(alice.me!.userId)).incoming).toEqual([]);
    expect((await alice.contactList()).outgoing).toEqual([]);
    await alice.requestContact(bob.me!.username);
    expect((await alice.cancelContactRequest(bob.me!.userId)).outgoing).toEqual([]);
    await expectClientCode(alice.cancelContactRequest(bob.me!.userId), 'CONTACT_REQUEST_NOT_FOUND');
    await alice.requestContact(bob.me!.username);
    await bob.requestContact(alice.me!.username);
    expect((await alice.removeContact(bob.me!.userId)).contacts).toEqual([]);
    await expectClientCode(alice.removeContact(bob.me!.userId), 'NOT_A_CONTACT');
    await expectClientCode(alice.requestContact(alice.me!.username), 'CONTACT_SELF');
  });

  it('blocks: no direct conversation, the blocker is told, and unblocking restores it', async () => {
    const [alice, bob] = [await someone('alice'), await someone('bob')];
    const blocked = await bob.block(alice.me!.userId);
    expect(blocked.map((b) => b.userId)).toEqual([alice.me!.userId]);
    expect((await bob.blockedUsers()).map((b) => b.username)).toEqual([alice.me!.username]);
    await expectClientCode(alice.createDirect(bob.me!.username), 'DIRECT_REFUSED');
    await expectClientCode(bob.createDirect(alice.me!.username), 'USER_BLOCKED');
    await expectClientCode(bob.unblock(bob.me!.userId), 'NOT_BLOCKED');
    expect(await bob.unblock(alice.me!.userId)).toEqual([]);
    expect((await alice.createDirect(bob.me!.username)).kind).toBe('direct');
  });

  it('contacts-only privacy refuses a stranger and lets a contact open a conversation', async () => {
    const [alice, bob, carol] = [
      await someone('alice'),
      await someone('bob'),
      await someone('carol'),
    ];
    expect(await bob.directPrivacy()).toBe('everyone');
    expect(await bob.setDirectPrivacy('contacts')).toBe('contacts');
    await expectClientCode(alice.createDirect(bob.me!.username), 'DIRECT_REFUSED');
    await carol.requestContact(bob.me!.username);
    await bob.acceptContact(carol.me!.userId);
    expect((await carol.createDirect(bob.me!.username)).kind).toBe('direct');
  });
});

describe('Contacts against a hostile server', () => {
  it('refuses a contact list that breaks its schema, using nothing of it', async () => {
    const alice = await device(server, `alice-${++counter}`);
    devices.push(alice);
    alice.transport.rewrite = (method, path, body) =>
      method === 'GET' && path === '/api/contacts'
        ? { ...(body as object), contacts: [{ userId: 'x', username: 1, since: 'now' }] }
        : body;
    await expectClientCode(alice.parts.contacts.list(), 'BAD_RESPONSE');
  });

  it('does not show presence or typing of someone this account blocked, whatever is relayed', async () => {
    const bob = await device(server, `bob-${++counter}`, { connect: true });
    devices.push(bob);
    const alice = await someone('alice');
    const seen: string[] = [];
    bob.parts.ctx.events.on('presence', (event) =>
      seen.push(`presence:${event.userId}:${event.status}`),
    );
    await bob.parts.contacts.block(alice.me!.userId);
    // Blocking shows them offline at once (the server says so too); nothing later otherwise.
    expect(seen).toEqual([`presence:${alice.me!.userId}:offline`]);
    // The server withholds it; this stands in for one that does not.
    bob.parts.dispatch.onFrame({ type: 'presence', user: alice.me!.userId, status: 'online' });
    const carol = await someone('carol');
    bob.parts.dispatch.onFrame({ type: 'presence', user: carol.me!.userId, status: 'online' });
    await eventually(() => seen.some((s) => s.startsWith(`presence:${carol.me!.userId}`)), 'carol');
    expect(seen.filter((s) => !s.endsWith(':offline'))).toEqual([
      `presence:${carol.me!.userId}:online`,
    ]);
  });
});
