import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGES } from '../../../server/test/images';
import type { Client } from '../src/client';
import type { VerificationFailure } from '../src/events';
import { expectClientCode, makeUser } from './helpers';
import { device, person, shutDown, startServer, type Device, type LiveServer } from './live';

const PNG = Uint8Array.from(IMAGES['image/png']);

let server: LiveServer;
let alice: Client;
let carol: Client;
let bob: Device;
const failures: VerificationFailure[] = [];

beforeAll(async () => {
  server = await startServer();
  alice = await person(server, 'alice');
  carol = await person(server, 'carol');
  bob = await device(server, 'bob');
  bob.parts.ctx.events.on('verification-failed', (failure) => failures.push(failure));
});

afterAll(async () => {
  await shutDown(bob);
  await Promise.all([alice.close(), carol.close()]);
  await server.close();
});

describe('People: profiles and avatars', () => {
  it('changes the own profile, which others then read', async () => {
    const { people } = bob.parts.ctx;
    const changed = await people.updateProfile({ displayName: 'Bob B.', statusMessage: 'here' });
    expect(changed).toMatchObject({ displayName: 'Bob B.', statusMessage: 'here' });
    expect(await people.myProfile()).toMatchObject({ displayName: 'Bob B.' });
    expect(await alice.getProfile(bob.userId)).toMatchObject({ displayName: 'Bob B.' });
    await people.updateProfile({ statusMessage: null });
    expect((await alice.getProfile(bob.userId)).statusMessage ?? null).toBeNull();
  });

  it('sets, serves and removes an avatar; no avatar is undefined, not an error', async () => {
    const { people } = bob.parts.ctx;
    expect(await people.avatar(bob.userId)).toBeUndefined();
    await people.setAvatar(PNG, 'image/png');
    expect(await people.avatar(bob.userId)).toEqual({ data: PNG, mediaType: 'image/png' });
    const served = await fetch(people.avatarUrl(bob.userId));
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(PNG);
    await people.removeAvatar();
    expect(await people.avatar(bob.userId)).toBeUndefined();
  });
});

describe('People: the directory and trust on first use', () => {
  it('pins a person on first look-up, by name or id, with the keys they published', async () => {
    const { people, trust } = bob.parts.ctx;
    const contact = await people.lookUp('alice');
    expect(contact.userId).toBe(alice.me!.userId);
    expect(trust.get(alice.me!.userId)?.identityKey).toEqual(alice.me!.identityKey);
    expect((await people.lookUpById(alice.me!.userId)).username).toBe('alice');
    expect(failures).toEqual([]);
  });

  it('pins only people it has not seen, never this account itself', async () => {
    const { people, trust } = bob.parts.ctx;
    await people.ensurePinned([bob.userId, carol.me!.userId]);
    expect(trust.get(carol.me!.userId)?.username).toBe('carol');
    expect(trust.get(bob.userId)).toBeUndefined();
    expect(people.identityKeyOf(Buffer.from(bob.userId, 'hex'))).toEqual(
      bob.parts.account.me!.identityKey,
    );
  });

  it('refuses an answer about someone else than the one asked for', async () => {
    const carolKeys = await fetch(`${server.baseUrl}/api/users/carol/keys`, {
      headers: { authorization: `Bearer ${bob.parts.session.current()!.accessToken}` },
    }).then((response) => response.json() as Promise<unknown>);
    bob.transport.rewrite = (_method, path, body) =>
      path === '/api/users/alice/keys' ? carolKeys : body;
    try {
      await expectClientCode(bob.parts.ctx.people.lookUp('alice'), 'BAD_RESPONSE');
    } finally {
      bob.transport.rewrite = (_method, _path, body) => body;
    }
  });

  it('reports a name that now points at another account than the pinned one (KEY_CHANGED)', async () => {
    const other = await device(server, 'dave');
    const impostor = makeUser('alice');
    await other.parts.ctx.trust.observe(impostor.published);
    const seen: VerificationFailure[] = [];
    other.parts.ctx.events.on('verification-failed', (failure) => seen.push(failure));
    await other.parts.ctx.people.lookUp('alice');
    expect(seen).toMatchObject([
      { code: 'KEY_CHANGED', severity: 'warning', userId: alice.me!.userId },
    ]);
    await shutDown(other);
  });

  it('searches by prefix, and raises failures about a verified contact to critical', async () => {
    const { people } = bob.parts.ctx;
    expect((await people.searchPeople('car')).map((p) => p.username)).toContain('carol');
    expect(people.severityOf(alice.me!.userId)).toBe('warning');
    await people.verifyContact(alice.me!.userId);
    expect(people.severityOf(alice.me!.userId)).toBe('critical');
    await alice.lookUp('bob');
    expect(people.safetyNumber(alice.me!.userId)).toEqual(alice.safetyNumber(bob.userId));
  });
});
