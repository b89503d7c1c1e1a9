// Identity reset through the HTTP API: a new identity key appended as the next version, its
// encryption key, and a new backup, for a user who lost every device and the passphrase; and every
// way to get it wrong (no password, a wrong one, the same or an earlier key, a bad binding, a
// version not above the current one), each leaving the directory as it was.
import {
  encryptionKeyPair,
  generateIdentity,
  identityKeyPair,
  signEncryptionKey,
  toBase64Url,
  type IdentityKeyPair,
} from '@parley/crypto';
import type { UserKeys } from '@parley/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { expectError } from './accounts';
import { createTestApp } from './helpers';
import { createPerson, groupWith, listen, TestSocket, type Person } from './rooms-fixtures';

let app: ParleyApp;
let url: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  app = await createTestApp();
  url = await listen(app);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await app.close();
});

async function subscribed(person: Person, roomId: string): Promise<TestSocket> {
  const socket = await TestSocket.authenticated(url, person);
  sockets.push(socket);
  socket.send({ type: 'subscribe', room: roomId });
  await socket.next((f) => f.type === 'subscribed' && f.room === roomId);
  return socket;
}

const BACKUP = Buffer.from('a new sealed backup').toString('base64url');

/** A reset body: fresh keys (or the given identity), bound at `version`. */
function resetBody(
  person: Person,
  options: { version?: number; identity?: IdentityKeyPair; signer?: IdentityKeyPair } = {},
) {
  const seeds = generateIdentity();
  const identity = options.identity ?? identityKeyPair(seeds.identitySeed);
  const encryption = encryptionKeyPair(seeds.encryptionSeed);
  const version = options.version ?? 2;
  const signature = signEncryptionKey(options.signer ?? identity, {
    userId: person.idBytes,
    encryptionPublicKey: encryption.publicKey,
    version,
  });
  return {
    body: {
      password: person.password,
      identityKey: toBase64Url(identity.publicKey),
      encryptionKey: toBase64Url(encryption.publicKey),
      version,
      signature: toBase64Url(signature),
      backup: BACKUP,
    },
    identity,
  };
}

async function reset(person: Person, body: object) {
  return app.inject({
    method: 'POST',
    url: '/api/me/identity/reset',
    headers: person.auth,
    payload: body,
  });
}

async function keysOf(person: Person, asker: Person): Promise<UserKeys> {
  const response = await app.inject({
    method: 'GET',
    url: `/api/users/by-id/${person.id}/keys`,
    headers: asker.auth,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<UserKeys>();
}

describe('identity reset', () => {
  it('appends the new identity key as version 2, with its encryption key and the new backup', async () => {
    const bob = await createPerson(app);
    const alice = await createPerson(app);
    expect(await keysOf(bob, alice)).toMatchObject({
      identityKey: toBase64Url(bob.identity.publicKey),
      identityVersion: 1,
      version: 1,
    });

    const { body, identity: fresh } = resetBody(bob);
    const answer = await reset(bob, body);
    expect(answer.statusCode, answer.body).toBe(200);
    const expected = {
      userId: bob.id,
      identityKey: body.identityKey,
      identityVersion: 2,
      encryptionKey: body.encryptionKey,
      version: 2,
      signature: body.signature,
    };
    expect(answer.json()).toMatchObject(expected);
    // Every contact's next look-up serves the new key: that is how they learn of the change.
    expect(await keysOf(bob, alice)).toMatchObject(expected);
    const backup = await app.inject({ method: 'GET', url: '/api/me/backup', headers: bob.auth });
    expect(backup.json()).toMatchObject({ blob: BACKUP });

    // The old key stays on record (append-only) and cannot come back, nor the new one twice.
    const rows = await app.db
      .selectFrom('identity_keys')
      .select(['version', 'public_key'])
      .where('user_id', '=', bob.id)
      .orderBy('version')
      .execute();
    expect(rows.map((row) => [row.version, toBase64Url(row.public_key)])).toEqual([
      [1, toBase64Url(bob.identity.publicKey)],
      [2, body.identityKey],
    ]);
    for (const identity of [bob.identity, fresh]) {
      expectError(
        await reset(bob, resetBody(bob, { version: 3, identity }).body),
        409,
        'IDENTITY_KEY_NOT_NEW',
      );
    }
    // A plain publication under the old identity key is refused now.
    const old = await app.inject({
      method: 'PUT',
      url: '/api/me/keys',
      headers: bob.auth,
      payload: {
        identityKey: toBase64Url(bob.identity.publicKey),
        encryptionKey: toBase64Url(bob.encryption.publicKey),
        version: 3,
        signature: toBase64Url(
          signEncryptionKey(bob.identity, {
            userId: bob.idBytes,
            encryptionPublicKey: bob.encryption.publicKey,
            version: 3,
          }),
        ),
      },
    });
    expectError(old, 409, 'IDENTITY_KEY_IMMUTABLE');
  });

  it('tells the people who share a room with the user, so their clients look the keys up again', async () => {
    const erin = await createPerson(app);
    const frank = await createPerson(app);
    const room = await groupWith(app, frank, [erin]);
    const frankSocket = await subscribed(frank, room.id);
    const erinSocket = await subscribed(erin, room.id);
    const answer = await reset(erin, resetBody(erin).body);
    expect(answer.statusCode, answer.body).toBe(200);
    const frame = await frankSocket.next((f) => f.type === 'keys');
    expect(frame).toEqual({ type: 'keys', room: room.id, user: erin.id });
    // Not to the user's own sockets: only the fact travels, and it is their own.
    erinSocket.send({ type: 'ping' });
    await erinSocket.next((f) => f.type === 'pong');
    expect(erinSocket.frames.filter((f) => f.type === 'keys')).toEqual([]);
  });

  it('refuses bad input and leaves the keys and backup as they were', async () => {
    const carol = await createPerson(app);
    const dave = await createPerson(app);
    const before = await keysOf(carol, dave);
    const { body } = resetBody(carol);

    expectError(
      await app.inject({ method: 'POST', url: '/api/me/identity/reset', payload: body }),
      401,
      'UNAUTHENTICATED',
    );
    expectError(
      await reset(carol, { ...body, password: 'not the password' }),
      401,
      'INVALID_CREDENTIALS',
    );
    const { password: _password, ...withoutPassword } = body;
    expectError(await reset(carol, withoutPassword), 400, 'VALIDATION_FAILED');
    expectError(await reset(carol, { ...body, backup: '' }), 400, 'VALIDATION_FAILED');
    expectError(await reset(carol, { ...body, extra: 1 }), 400, 'VALIDATION_FAILED');
    expectError(await reset(carol, { ...body, version: 0 }), 400, 'VALIDATION_FAILED');
    // Signed by another key than the one it names.
    const forged = resetBody(carol, { signer: dave.identity });
    expectError(await reset(carol, forged.body), 400, 'KEY_BINDING_INVALID');
    // The binding names the user: dave's valid body is no good for carol.
    const daves = resetBody(dave);
    expectError(
      await reset(carol, { ...daves.body, password: carol.password }),
      400,
      'KEY_BINDING_INVALID',
    );
    // The same identity key is no reset.
    const same = resetBody(carol, { identity: carol.identity });
    expectError(await reset(carol, same.body), 409, 'IDENTITY_KEY_NOT_NEW');
    // The version must be above the current encryption key's (1).
    const low = resetBody(carol, { version: 1 });
    expectError(await reset(carol, low.body), 409, 'KEY_VERSION_NOT_HIGHER');

    expect(await keysOf(carol, dave)).toEqual(before);
    const backup = await app.inject({ method: 'GET', url: '/api/me/backup', headers: carol.auth });
    expectError(backup, 404, 'BACKUP_NOT_FOUND');
  });
});
