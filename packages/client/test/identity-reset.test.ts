// An identity reset against the real server: bob lost his only device and his backup passphrase,
// signs in on a new one and starts a new identity. Alice's device sees the key change (KEY_CHANGED,
// a pending change, a new safety number once accepted); bob's old rooms stay behind, unread and
// unreported; the new backup restores the new keys; and the ways a reset is refused leave the
// device and the directory as they were.
import type { VerificationFailure } from '../src/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../src/client';
import { MemoryKeyStore } from '../src/key-store/memory';
import { nodeTransport } from '../src/node';
import { expectClientCode } from './helpers';
import { eventually, passwordOf, startServer, type LiveServer } from './live';

const OLD_PASSPHRASE = 'lantern orbit velvet cactus ripple';
const NEW_PASSPHRASE = 'harbor quill meadow zephyr tundra';

let server: LiveServer;
/** Bob's identity key after the reset (the first test makes it). */
let newIdentityKey: Uint8Array | undefined;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await server.close();
});

async function newClient(): Promise<Client> {
  const client = await createClient({
    transport: nodeTransport(server.baseUrl),
    keyStore: new MemoryKeyStore(),
    tuning: { reconnectMs: 50, maxReconnectMs: 500 },
  });
  clients.push(client);
  return client;
}

async function connected(client: Client): Promise<Client> {
  client.connect();
  await client.connected();
  return client;
}

describe('identity reset', () => {
  it('gives bob new keys that alice sees as a key change, and leaves his old rooms behind', async () => {
    const alice = await newClient();
    await alice.signUp({ username: 'alice', password: passwordOf('alice') });
    const lostPhone = await newClient();
    const oldBob = await lostPhone.signUp({
      username: 'bob',
      password: passwordOf('bob'),
      passphrase: OLD_PASSPHRASE,
    });
    await connected(alice);
    await connected(lostPhone);
    const { roomId: oldRoom } = await alice.createGroup({ name: 'before', members: ['bob'] });
    await alice.send(oldRoom, 'said before the reset');
    // A group whose chain bob signed with the key he is about to lose; alice is an admin of it.
    const { roomId: bobsRoom } = await lostPhone.createGroup({ name: 'bobs', members: ['alice'] });
    await lostPhone.promote(bobsRoom, alice.me!.userId);
    await eventually(
      () =>
        alice
          .listRooms()
          .find((room) => room.roomId === bobsRoom)
          ?.members.get(alice.me!.userId) === 'admin',
      'alice is an admin of bob’s group',
    );
    const numberBefore = alice.safetyNumber(oldBob.userId).digits;
    await lostPhone.close();

    // A new device, and neither the old one nor the passphrase.
    const phone = await newClient();
    await phone.logIn({ username: 'bob', password: passwordOf('bob') });
    expect(phone.me).toBeUndefined();
    const failures: VerificationFailure[] = [];
    phone.on('verification-failed', (failure) => failures.push(failure));
    // Alice's client hears of the reset from the server (a `keys` frame in their shared rooms)
    // and looks bob's keys up again by itself.
    const seen = alice.next('verification-failed', (failure) => failure.code === 'KEY_CHANGED');
    const bob = await phone.resetIdentity({
      password: passwordOf('bob'),
      passphrase: NEW_PASSPHRASE,
    });
    expect(bob.userId).toBe(oldBob.userId);
    expect(bob.identityKey).not.toEqual(oldBob.identityKey);
    expect(bob.fingerprint).not.toBe(oldBob.fingerprint);
    newIdentityKey = bob.identityKey;
    await connected(phone);
    await phone.syncRooms();
    // The old room's keys were sealed to the old keys: it is not read, and no alarm is raised.
    expect(phone.listRooms().map((room) => room.roomId)).not.toContain(oldRoom);
    expect(failures).toEqual([]);

    expect(await seen).toMatchObject({ code: 'KEY_CHANGED', userId: bob.userId });
    // A change to accept, nothing sealed to the new keys until then.
    const contact = await alice.lookUp('bob');
    expect(contact.identityKey).toEqual(oldBob.identityKey);
    expect(contact.pendingChange?.identityKey).toEqual(bob.identityKey);
    await expectClientCode(
      alice.createGroup({ name: 'refused', members: ['bob'] }),
      'KEY_CHANGE_PENDING',
    );
    const accepted = await alice.acceptKeyChange(bob.userId);
    expect(accepted).toMatchObject({ identityKey: bob.identityKey, verified: false });
    const numberAfter = alice.safetyNumber(bob.userId).digits;
    expect(numberAfter).not.toBe(numberBefore);
    expect(phone.safetyNumber((await phone.lookUp('alice')).userId).digits).toBe(numberAfter);

    // The history bob signed with his former key still verifies on alice's device: it was
    // verified before the change, and its hash is what binds it now (PROTOCOL.md §5.3).
    const failuresOfAlice: VerificationFailure[] = [];
    alice.on('verification-failed', (failure) => failuresOfAlice.push(failure));
    await alice.setMessageTimer(bobsRoom, 3600);
    await alice.syncRooms();
    expect(alice.room(bobsRoom).members.get(bob.userId)).toBe('admin');
    expect(failuresOfAlice).toEqual([]);

    // The new identity talks in new rooms.
    const { roomId } = await phone.createGroup({ name: 'after', members: ['alice'] });
    const heard = alice.next('message', (message) => message.roomId === roomId);
    await eventually(() => alice.listRooms().some((room) => room.roomId === roomId), 'alice joins');
    await phone.send(roomId, 'hello again, new keys');
    expect((await heard).text).toBe('hello again, new keys');
  });

  it('stores a new backup: the new passphrase restores the new keys, the old one opens nothing', async () => {
    const laptop = await newClient();
    await expectClientCode(
      laptop.restore({ username: 'bob', password: passwordOf('bob'), passphrase: OLD_PASSPHRASE }),
      'BACKUP_DECRYPT_FAILED',
    );
    const restored = await laptop.restore({
      username: 'bob',
      password: passwordOf('bob'),
      passphrase: NEW_PASSPHRASE,
    });
    expect(restored.identityKey).toEqual(newIdentityKey);
    const failures: VerificationFailure[] = [];
    laptop.on('verification-failed', (failure) => failures.push(failure));
    await laptop.syncRooms();
    // The room from before the reset stays behind here too; the one after it is read.
    expect(laptop.listRooms().map((room) => room.info.name)).toEqual(['after']);
    expect(failures).toEqual([]);
  });

  it('refuses a wrong password, a weak passphrase and a device that is not signed in', async () => {
    const carol = await newClient();
    const me = await carol.signUp({ username: 'carol', password: passwordOf('carol') });
    const device = await newClient();
    await expectClientCode(
      device.resetIdentity({ password: passwordOf('carol'), passphrase: NEW_PASSPHRASE }),
      'NOT_SIGNED_IN',
    );
    await device.logIn({ username: 'carol', password: passwordOf('carol') });
    await expectClientCode(
      device.resetIdentity({ password: 'not carols password', passphrase: NEW_PASSPHRASE }),
      'INVALID_CREDENTIALS',
    );
    await expectClientCode(
      device.resetIdentity({ password: passwordOf('carol'), passphrase: 'weak' }),
      'PASSPHRASE_TOO_WEAK',
    );
    await expectClientCode(
      device.resetIdentity({ password: passwordOf('carol'), passphrase: passwordOf('carol') }),
      'PASSPHRASE_IS_PASSWORD',
    );
    expect(device.me).toBeUndefined();
    // The directory still serves carol's first keys.
    const other = await newClient();
    await other.signUp({ username: 'dora', password: passwordOf('dora') });
    expect((await other.lookUp('carol')).identityKey).toEqual(me.identityKey);
  });
});
