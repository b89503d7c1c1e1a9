import {
  generateIdentity,
  identityKeyPair,
  ready,
  signEncryptionKey,
  encryptionKeyPair,
  verifyEncryptionKeyBinding,
} from '@parley/crypto';
import type { KeyHistory, SearchPeopleResponse, UserKeys } from '@parley/wire';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { expectError, registerUser, uniqueUsername, type TestUser } from './accounts';
import { createTestApp } from './helpers';

let app: ParleyApp;
beforeAll(async () => {
  await ready();
  app = await createTestApp();
});
afterAll(async () => {
  await app.close();
});

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** A device's key material and the publication body it would send. */
function keysFor(user: TestUser, version = 1, identitySeed?: Uint8Array) {
  const seeds = generateIdentity();
  const identity = identityKeyPair(identitySeed ?? seeds.identitySeed);
  const encryption = encryptionKeyPair(seeds.encryptionSeed);
  const signature = signEncryptionKey(identity, {
    userId: Buffer.from(user.id, 'hex'),
    encryptionPublicKey: encryption.publicKey,
    version,
  });
  return {
    identitySeed: identitySeed ?? seeds.identitySeed,
    body: {
      identityKey: b64(identity.publicKey),
      encryptionKey: b64(encryption.publicKey),
      version,
      signature: b64(signature),
    },
  };
}

const publish = (user: TestUser, payload: unknown) =>
  app.inject({
    method: 'PUT',
    url: '/api/me/keys',
    headers: user.auth,
    payload: payload as object,
  });

async function storedKeys(userId: string) {
  const identity = await app.db
    .selectFrom('identity_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .execute();
  const encryption = await app.db
    .selectFrom('encryption_keys')
    .select(['version', sql<string>`encode(public_key, 'hex')`.as('key')])
    .where('user_id', '=', userId)
    .orderBy('version')
    .execute();
  return { identity: identity.length, encryption };
}

describe('PUT /api/me/keys', () => {
  it('publishes the keys, which anyone signed in can look up and verify', async () => {
    const alice = await registerUser(app);
    const bob = await registerUser(app);
    const { body } = keysFor(alice);
    const response = await publish(alice, body);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ userId: alice.id, username: alice.username, ...body });

    for (const url of [`/api/users/${alice.username}/keys`, `/api/users/by-id/${alice.id}/keys`]) {
      const lookup = await app.inject({ method: 'GET', url, headers: bob.auth });
      expect(lookup.statusCode).toBe(200);
      const keys = lookup.json<UserKeys>();
      expect(keys).toEqual({
        userId: alice.id,
        username: alice.username,
        ...body,
        identityVersion: 1,
        publishedAt: expect.any(String),
      });
      // What the directory serves verifies on the client.
      verifyEncryptionKeyBinding({
        userId: Buffer.from(keys.userId, 'hex'),
        identityPublicKey: Buffer.from(keys.identityKey, 'base64url'),
        encryptionPublicKey: Buffer.from(keys.encryptionKey, 'base64url'),
        version: keys.version,
        signature: Buffer.from(keys.signature, 'base64url'),
      });
    }
  });

  it('accepts a new encryption key signed by the same identity key with a higher version, keeping history', async () => {
    const alice = await registerUser(app);
    const first = keysFor(alice, 1);
    await publish(alice, first.body);
    const second = keysFor(alice, 2, first.identitySeed);
    expect((await publish(alice, second.body)).statusCode).toBe(200);
    const fifth = keysFor(alice, 5, first.identitySeed);
    expect((await publish(alice, fifth.body)).statusCode).toBe(200);

    const current = await app.inject({
      method: 'GET',
      url: `/api/users/${alice.username}/keys`,
      headers: alice.auth,
    });
    expect(current.json<UserKeys>()).toMatchObject({
      version: 5,
      encryptionKey: fifth.body.encryptionKey,
    });
    for (const url of [
      `/api/users/${alice.username}/keys/history`,
      `/api/users/by-id/${alice.id}/keys/history`,
    ]) {
      const history = await app.inject({ method: 'GET', url, headers: alice.auth });
      expect(history.statusCode).toBe(200);
      const body = history.json<KeyHistory>();
      expect(body.identityKey).toBe(first.body.identityKey);
      expect(body.keys.map((k) => [k.version, k.encryptionKey])).toEqual([
        [1, first.body.encryptionKey],
        [2, second.body.encryptionKey],
        [5, fifth.body.encryptionKey],
      ]);
    }
  });

  it('refuses a version that is not above the current one', async () => {
    const alice = await registerUser(app);
    const first = keysFor(alice, 3);
    await publish(alice, first.body);
    const before = await storedKeys(alice.id);
    expectError(
      await publish(alice, keysFor(alice, 3, first.identitySeed).body),
      409,
      'KEY_VERSION_NOT_HIGHER',
    );
    expectError(
      await publish(alice, keysFor(alice, 2, first.identitySeed).body),
      409,
      'KEY_VERSION_NOT_HIGHER',
    );
    expect(await storedKeys(alice.id)).toEqual(before);
  });

  it('refuses another identity key once one is set', async () => {
    const alice = await registerUser(app);
    await publish(alice, keysFor(alice, 1).body);
    const before = await storedKeys(alice.id);
    // A correctly self-signed binding, but by a different identity key.
    expectError(await publish(alice, keysFor(alice, 2).body), 409, 'IDENTITY_KEY_IMMUTABLE');
    expect(await storedKeys(alice.id)).toEqual(before);
  });

  it('refuses a binding whose signature does not verify', async () => {
    const alice = await registerUser(app);
    const mallory = await registerUser(app);
    const before = await storedKeys(alice.id);
    const { body } = keysFor(alice);
    // Tampered version, tampered key, and a binding made for someone else replayed by Mallory.
    expectError(await publish(alice, { ...body, version: 2 }), 400, 'KEY_BINDING_INVALID');
    expectError(
      await publish(alice, { ...body, encryptionKey: keysFor(alice).body.encryptionKey }),
      400,
      'KEY_BINDING_INVALID',
    );
    expectError(await publish(mallory, body), 400, 'KEY_BINDING_INVALID');
    const flipped = Buffer.from(body.signature, 'base64url');
    flipped[0]! ^= 1;
    expectError(
      await publish(alice, { ...body, signature: b64(flipped) }),
      400,
      'KEY_BINDING_INVALID',
    );
    expect(await storedKeys(alice.id)).toEqual(before);
    expect(await storedKeys(mallory.id)).toEqual({ identity: 0, encryption: [] });
  });

  it.each([
    ['a key of the wrong length', { identityKey: b64(new Uint8Array(31)) }],
    ['padded base64', { signature: `${b64(new Uint8Array(64))}==` }],
    ['a non-canonical last character', { identityKey: `${b64(new Uint8Array(32)).slice(0, 42)}B` }],
    ['hex instead of base64url', { encryptionKey: 'ab'.repeat(32) }],
    ['version 0', { version: 0 }],
    ['a fractional version', { version: 1.5 }],
    ['a version as a string', { version: '1' }],
    ['an unknown field', { comment: 'hi' }],
  ])('refuses %s', async (_case, change) => {
    const alice = await registerUser(app);
    const response = await publish(alice, { ...keysFor(alice).body, ...change });
    expectError(response, 400, 'VALIDATION_FAILED');
    expect(await storedKeys(alice.id)).toEqual({ identity: 0, encryption: [] });
  });

  it('needs authentication', async () => {
    const alice = await registerUser(app);
    const response = await app.inject({
      method: 'PUT',
      url: '/api/me/keys',
      payload: keysFor(alice).body,
    });
    expectError(response, 401, 'UNAUTHENTICATED');
  });
});

describe('key look-up', () => {
  it('tells an unknown user from one without keys, and refuses a malformed id', async () => {
    const alice = await registerUser(app);
    const get = (url: string) => app.inject({ method: 'GET', url, headers: alice.auth });
    expectError(await get(`/api/users/${alice.username}/keys`), 404, 'KEYS_NOT_PUBLISHED');
    expectError(await get(`/api/users/by-id/${alice.id}/keys/history`), 404, 'KEYS_NOT_PUBLISHED');
    expectError(await get(`/api/users/nobody-${Date.now()}/keys`), 404, 'USER_NOT_FOUND');
    expectError(await get(`/api/users/by-id/${'0'.repeat(32)}/keys`), 404, 'USER_NOT_FOUND');
    expectError(await get('/api/users/by-id/XYZ/keys'), 400, 'VALIDATION_FAILED');
    expectError(await get(`/api/users/by-id/${'A'.repeat(32)}/keys`), 400, 'VALIDATION_FAILED');
    expectError(await get('/api/users/a%20b/keys'), 400, 'VALIDATION_FAILED');
  });

  it('needs authentication', async () => {
    const alice = await registerUser(app);
    expectError(
      await app.inject({ method: 'GET', url: `/api/users/${alice.username}/keys` }),
      401,
      'UNAUTHENTICATED',
    );
  });
});

describe('GET /api/users (search)', () => {
  let searcher: TestUser;
  const tag = `s${Date.now().toString(36)}`;
  beforeAll(async () => {
    searcher = await registerUser(app);
    for (let i = 0; i < 5; i++) await registerUser(app, `${tag}-member-${i}`);
    const named = await registerUser(app, uniqueUsername('zz'));
    await app.inject({
      method: 'PATCH',
      url: '/api/me/profile',
      headers: named.auth,
      payload: { displayName: `${tag.toUpperCase()} Display Person` },
    });
  });

  const search = (query: string) =>
    app.inject({ method: 'GET', url: `/api/users?${query}`, headers: searcher.auth });

  it('finds people by username prefix or display-name prefix, ignoring case', async () => {
    const response = await search(`q=${tag.toUpperCase()}`);
    expect(response.statusCode).toBe(200);
    const body = response.json<SearchPeopleResponse>();
    expect(body.users).toHaveLength(6);
    expect(body.users.map((u) => u.displayName).filter(Boolean)).toEqual([
      `${tag.toUpperCase()} Display Person`,
    ]);
    expect(body.cursor).toBeUndefined();
  });

  it('pages with a cursor until the last page', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const response = await search(`q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.statusCode).toBe(200);
      const body = response.json<SearchPeopleResponse>();
      seen.push(...body.users.map((u) => u.username));
      cursor = body.cursor;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(6);
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(6);
  });

  it('treats LIKE wildcards as text', async () => {
    const body = (await search('q=%25')).json<SearchPeopleResponse>();
    expect(body.users).toEqual([]);
    const underscore = (await search('q=_')).json<SearchPeopleResponse>();
    expect(underscore.users).toEqual([]);
  });

  it('refuses a missing or oversize query, a bad limit and unknown parameters', async () => {
    expectError(await search(''), 400, 'VALIDATION_FAILED');
    expectError(await search(`q=${'a'.repeat(65)}`), 400, 'VALIDATION_FAILED');
    expectError(await search('q=a&limit=0'), 400, 'VALIDATION_FAILED');
    expectError(await search('q=a&limit=101'), 400, 'VALIDATION_FAILED');
    expectError(await search('q=a&limit=ten'), 400, 'VALIDATION_FAILED');
    expectError(await search('q=a&cursor=not*valid'), 400, 'VALIDATION_FAILED');
    expectError(await search('q=a&sort=name'), 400, 'VALIDATION_FAILED');
    expectError(await app.inject({ method: 'GET', url: '/api/users?q=a' }), 401, 'UNAUTHENTICATED');
  });
});
