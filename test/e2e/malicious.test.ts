// The server turns against its users: it rewrites a sender, replays a message, drops one, hands out
// a changed key and plants another account's backup. Each attack is caught by the client, with its
// event and code. The real server runs underneath; the attacks are a tampering transport (frames
// and answers changed on their way to one client) and direct changes in the server's database.
import {
  deriveBackupKey,
  encryptionKeyPair,
  fromBase64Url,
  fromHex,
  generateIdentity,
  generateRoomKey,
  identityKeyPair,
  sealRoomKey,
  signEncryptionKey,
  toBase64Url,
} from '@parley/crypto';
import {
  MemoryKeyStore,
  type Client,
  type ReceivedMessage,
  type VerificationFailure,
} from '@parley/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  canSendIn,
  eventually,
  failures,
  type LiveServer,
  newDevice,
  type ServerFrame,
  startServer,
  TamperingTransport,
} from './harness';

describe('a malicious server', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  let bobNetwork: TamperingTransport;
  let roomId: string;
  let atBob: ReceivedMessage[];
  let bobFailures: VerificationFailure[];

  beforeAll(async () => {
    server = await startServer();
    bobNetwork = new TamperingTransport(server.baseUrl);
    alice = await newDevice(server);
    bob = await newDevice(server, { transport: bobNetwork });
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
    atBob = [];
    bob.on('message', (m) => m.roomId === roomId && atBob.push(m));
    bobFailures = failures(bob);
  });

  beforeEach(() => {
    bobNetwork.frames = (frame) => [frame];
    bobFailures.length = 0;
  });

  afterAll(async () => {
    await Promise.all([alice.close(), bob.close(), carol.close()]);
    await server.close();
  });

  async function aliceSays(text: string): Promise<void> {
    await alice.acked((await alice.send(roomId, text)).messageId);
  }

  it('rewrites a sender: MESSAGE_BAD_SIGNATURE, and the message is not shown', async () => {
    const aliceId = fromHex(alice.me!.userId);
    const carolId = fromHex(carol.me!.userId);
    bobNetwork.frames = (frame) => {
      if (frame.type !== 'message' || frame.room !== roomId) return [frame];
      const envelope = fromBase64Url(String(frame.envelope));
      const at = indexOf(envelope, aliceId);
      if (at < 0) return [frame];
      envelope.set(carolId, at);
      return [{ ...frame, envelope: toBase64Url(envelope) }];
    };
    await aliceSays('signed by alice');
    const failure = await eventually(
      () => bobFailures.find((f) => f.code === 'MESSAGE_BAD_SIGNATURE'),
      10_000,
      'the failure',
    );
    expect(failure).toMatchObject({ roomId, userId: carol.me!.userId });
    expect(atBob.map((m) => m.text)).not.toContain('signed by alice');
  });

  it('replays a message (renumbered into the stream): MESSAGE_DUPLICATE', async () => {
    let offset = 0;
    let first: ServerFrame | undefined;
    bobNetwork.frames = (frame) => {
      if (frame.type !== 'message' || frame.room !== roomId) return [frame];
      const shifted = { ...frame, seq: Number(frame.seq) + offset };
      if (first === undefined) {
        first = shifted;
        return [shifted];
      }
      // Deliver the first one again with the next number, and shift the real ones after it.
      offset += 1;
      return [
        { ...first, seq: shifted.seq },
        { ...shifted, seq: shifted.seq + 1 },
      ];
    };
    await aliceSays('once');
    await aliceSays('twice?');
    const failure = await eventually(
      () => bobFailures.find((f) => f.code === 'MESSAGE_DUPLICATE'),
      10_000,
      'the failure',
    );
    expect(failure).toMatchObject({ roomId, userId: alice.me!.userId });
    expect(atBob.filter((m) => m.text === 'once')).toHaveLength(1);
    expect(atBob.map((m) => m.text)).toContain('twice?');
  });

  it('drops a message: the next one from that sender reports MESSAGE_GAP naming the missing counter', async () => {
    let dropped: number | undefined;
    bobNetwork.frames = (frame) => {
      if (frame.type !== 'message' || frame.room !== roomId) return [frame];
      if (dropped === undefined) {
        dropped = Number(frame.seq);
        return [];
      }
      return [frame];
    };
    await aliceSays('this one vanishes');
    await aliceSays('this one arrives');
    const failure = await eventually(
      () => bobFailures.find((f) => f.code === 'MESSAGE_GAP'),
      10_000,
      'the failure',
    );
    expect(failure.userId).toBe(alice.me!.userId);
    expect(failure.missing!.to - failure.missing!.from).toBe(0);
    expect(atBob.map((m) => m.text)).toContain('this one arrives');
    expect(atBob.map((m) => m.text)).not.toContain('this one vanishes');
  });

  it('hands out a changed key: KEY_CHANGED (critical for a verified contact), and nothing is sealed to it', async () => {
    const dave = await newDevice(server);
    await dave.signUp({ username: 'dave', password: 'dave-password-3456' });
    const aliceFailures = failures(alice);
    const pinned = await alice.lookUp('dave');
    await alice.verifyContact(pinned.userId);

    // The operator swaps dave's keys in the directory for keys of its own, properly self-signed.
    const seeds = generateIdentity();
    const impostor = identityKeyPair(seeds.identitySeed);
    const impostorEncryption = encryptionKeyPair(seeds.encryptionSeed).publicKey;
    const db = server.app.db;
    await db
      .updateTable('identity_keys')
      .set({ public_key: impostor.publicKey })
      .where('user_id', '=', pinned.userId)
      .execute();
    await db
      .updateTable('encryption_keys')
      .set({
        public_key: impostorEncryption,
        signature: signEncryptionKey(impostor, {
          userId: fromHex(pinned.userId),
          encryptionPublicKey: impostorEncryption,
          version: 1,
        }),
      })
      .where('user_id', '=', pinned.userId)
      .execute();

    const seen = await alice.lookUp('dave');
    expect(seen.pendingChange).toBeDefined();
    expect(aliceFailures).toContainEqual(
      expect.objectContaining({ code: 'KEY_CHANGED', severity: 'critical', userId: pinned.userId }),
    );
    // Nothing is sealed to the changed key: adding dave is refused until the change is accepted.
    await expect(alice.addMember(roomId, pinned.userId)).rejects.toMatchObject({
      code: 'KEY_CHANGE_PENDING',
    });
    expect(alice.room(roomId).members.has(pinned.userId)).toBe(false);
    // The pinned (real) key still verifies what dave signs; the impostor's would not.
    expect(alice.contact(pinned.userId)!.identityKey).toEqual(dave.me!.identityKey);
    await dave.close();
  });
});

describe('a malicious server handing out keys', () => {
  let server: LiveServer;
  afterAll(async () => server.close());

  it('hands a member a room key of its own making: ENVELOPE_UNAUTHORISED_DISTRIBUTOR', async () => {
    server = await startServer();
    const bobNetwork = new TamperingTransport(server.baseUrl);
    const alice = await newDevice(server);
    const bob = await newDevice(server, { transport: bobNetwork });
    const malloryStore = new MemoryKeyStore();
    const mallory = await newDevice(server, { keyStore: malloryStore });
    await alice.signUp({ username: 'alice', password: 'alice-password-1234' });
    await bob.signUp({ username: 'bob', password: 'bob-password-5678' });
    await mallory.signUp({ username: 'mallory', password: 'mallory-password-1' });
    bob.connect();
    await bob.connected();
    const { roomId } = await alice.createGroup({ name: 'pair', members: ['bob'] });
    await eventually(() => canSendIn(bob, roomId), 10_000, 'bob in');
    const bobFailures = failures(bob);

    // A well-formed envelope, properly signed by a real user who is not in the room.
    const account = (await malloryStore.get('account')) as { identitySeed: string };
    const forged = sealRoomKey({
      roomKey: generateRoomKey(),
      roomId: fromHex(roomId),
      epoch: bob.room(roomId).epoch,
      recipientId: fromHex(bob.me!.userId),
      recipientEncryptionKey: bob.me!.encryptionKey,
      distributorId: fromHex(mallory.me!.userId),
      distributor: identityKeyPair(fromBase64Url(account.identitySeed)),
    });
    const before = bob.room(roomId);
    bobNetwork.inject({
      type: 'key',
      room: roomId,
      epoch: before.epoch,
      distributor: mallory.me!.userId,
      envelope: toBase64Url(forged),
    });
    const failure = await eventually(
      () => bobFailures.find((f) => f.code === 'ENVELOPE_UNAUTHORISED_DISTRIBUTOR'),
      10_000,
      'the failure',
    );
    expect(failure).toMatchObject({ roomId, severity: 'critical' });
    // Bob still reads and writes with the key alice gave him.
    const atAlice: string[] = [];
    alice.connect();
    await alice.connected();
    alice.on('message', (m) => m.roomId === roomId && atAlice.push(m.text));
    await bob.send(roomId, 'still the real key');
    await eventually(() => atAlice.includes('still the real key'), 10_000, 'alice reads');
    await Promise.all([alice.close(), bob.close(), mallory.close()]);
  });
});

describe('a malicious server handing out a backup', () => {
  let server: LiveServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("plants another account's backup: BACKUP_WRONG_USER before any key derivation", async () => {
    const passphrase = 'velvet orbit harbour quietly 42 lanterns';
    const dave = await newDevice(server);
    const erin = await newDevice(server);
    await dave.signUp({ username: 'dave', password: 'dave-password-3456', passphrase });
    await erin.signUp({ username: 'erin', password: 'erin-password-7890', passphrase });
    const blobOf = async (userId: string) =>
      (
        await server.app.db
          .selectFrom('key_backups')
          .select('blob')
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow()
      ).blob;
    const plant = (userId: string, blob: Uint8Array) =>
      server.app.db
        .updateTable('key_backups')
        .set({ blob })
        .where('user_id', '=', userId)
        .execute();
    const erinsBlob = await blobOf(erin.me!.userId);
    await plant(erin.me!.userId, await blobOf(dave.me!.userId));

    // The derivation (a Web Worker in browsers) is passed in; the planted blob never reaches it.
    let derivations = 0;
    const counting = {
      deriveBackupKey: async (...args: Parameters<typeof deriveBackupKey>) => {
        derivations += 1;
        return deriveBackupKey(...args);
      },
    };
    const laptop = await newDevice(server, counting);
    await expect(
      laptop.restore({ username: 'erin', password: 'erin-password-7890', passphrase }),
    ).rejects.toMatchObject({ code: 'BACKUP_WRONG_USER' });
    expect(derivations).toBe(0);
    expect(laptop.me).toBeUndefined();

    await plant(erin.me!.userId, erinsBlob);
    const restored = await newDevice(server, counting);
    const me = await restored.restore({
      username: 'erin',
      password: 'erin-password-7890',
      passphrase,
    });
    expect(me.userId).toBe(erin.me!.userId);
    expect(derivations).toBe(1);
    await Promise.all([dave.close(), erin.close(), laptop.close(), restored.close()]);
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
