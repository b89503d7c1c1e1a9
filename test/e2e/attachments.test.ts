// Files sent end to end (encrypted on the device, uploaded as an opaque blob, described inside the
// encrypted message, downloaded and checked by the receiver), and rooms the server deletes after 7
// days or never stores.
import { MemoryKeyStore, type Client } from '@parley/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canSendIn,
  connectedUsers,
  eventually,
  inbox,
  type LiveServer,
  startServer,
} from './harness';

describe('attachments and room lifetimes', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  const clients: Client[] = [];
  const bobsStore = new MemoryKeyStore();

  beforeAll(async () => {
    // The sweeper looks for expired rooms often, so a test can expire one and watch it go.
    server = await startServer({ roomSweepIntervalMs: 50 });
    clients.push(
      ...(await connectedUsers(server, ['alice', 'bob', 'carol'], async (name) =>
        name === 'bob' ? { keyStore: bobsStore } : {},
      )),
    );
    [alice, bob, carol] = clients as [Client, Client, Client];
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  });

  it('tells the largest file it can send, and sendFiles reports its progress', async () => {
    // The server's default limit is 10 MiB of ciphertext; the file may be that less the overhead.
    expect(await alice.attachmentLimit()).toBe(10 * 1024 * 1024 - 24 - 17 * 160);
    const group = await alice.createGroup({ name: 'progress', members: [] });
    const stages: string[] = [];
    await alice.sendFiles(
      group.roomId,
      [
        { data: new Uint8Array(10), name: 'a.txt', mediaType: 'text/plain' },
        { data: new Uint8Array(30), name: 'b.txt', mediaType: 'text/plain' },
      ],
      '',
      {
        onProgress: (p) =>
          stages.push(`${p.file}/${p.files} ${p.stage} ${p.doneBytes}/${p.totalBytes}`),
      },
    );
    expect(stages).toEqual([
      '0/2 encrypting 0/40',
      '0/2 uploading 0/40',
      '1/2 encrypting 10/40',
      '1/2 uploading 10/40',
      '2/2 sent 40/40',
    ]);
  });

  it('sends a file that only members can fetch and only the described blob decrypts', async () => {
    const group = await alice.createGroup({ name: 'files', members: ['bob'] });
    const roomId = group.roomId;
    await eventually(() => canSendIn(bob, roomId));
    const atBob = inbox(bob, roomId);

    // Three 64 KiB chunks and a bit: the stream's chunking is exercised.
    const photo = new Uint8Array(3 * 65536 + 1234);
    for (let offset = 0; offset < photo.length; offset += 65536) {
      crypto.getRandomValues(photo.subarray(offset, Math.min(photo.length, offset + 65536)));
    }
    const sent = await alice.sendFiles(
      roomId,
      [{ data: photo, name: 'beach <1>.jpg', mediaType: 'image/jpeg' }],
      'from the trip',
    );
    await alice.acked(sent.messageId);
    const received = await eventually(() => atBob[0], 10_000, 'bob receives the message');
    expect(received.text).toBe('from the trip');
    const [descriptor] = received.payload.attachments;
    expect(descriptor).toMatchObject({
      blobId: sent.attachments[0]!.blobId,
      name: 'beach <1>.jpg',
      mediaType: 'image/jpeg',
      size: photo.length,
    });
    expect(await bob.downloadAttachment(descriptor!)).toEqual(photo);

    // The server holds ciphertext only: a stranger may not fetch it at all.
    await expect(carol.downloadAttachment(descriptor!)).rejects.toMatchObject({
      code: 'NOT_A_MEMBER',
      status: 403,
    });

    // A server handing out another blob of the room under that id is caught by the hash.
    const other = await alice.sendFiles(roomId, [
      { data: new Uint8Array([1, 2, 3]), name: 'x.bin', mediaType: 'application/octet-stream' },
    ]);
    await expect(
      bob.downloadAttachment({ ...descriptor!, blobId: other.attachments[0]!.blobId }),
    ).rejects.toMatchObject({ code: 'ATTACHMENT_HASH_MISMATCH' });
    await expect(
      bob.downloadAttachment({ ...descriptor!, blobId: '0'.repeat(32) }),
    ).rejects.toMatchObject({ code: 'ATTACHMENT_NOT_FOUND', status: 404 });
  });

  it('creates rooms the server deletes after 7 days, and rooms whose messages it never keeps', async () => {
    const expiring = await alice.createGroup({
      name: 'a week',
      members: ['bob'],
      expiresInDays: 7,
    });
    expect(expiring.ephemeral).toBe(false);
    const lifetime = Date.parse(expiring.expiresAt!) - Date.now();
    expect(Math.abs(lifetime - 7 * 24 * 3600 * 1000)).toBeLessThan(60_000);
    const channel = await alice.createChannel({
      name: 'passing by',
      topic: 'nothing stays',
      ephemeral: true,
      expiresInDays: 7,
    });
    expect(channel.ephemeral).toBe(true);
    expect(channel.expiresAt).not.toBeNull();
    const plain = await alice.createGroup({ name: 'forever' });
    expect(plain.ephemeral).toBe(false);
    expect(plain.expiresAt).toBeNull();

    const ephemeral = await alice.createGroup({
      name: 'off the record',
      members: ['bob'],
      ephemeral: true,
    });
    const roomId = ephemeral.roomId;
    expect(ephemeral.ephemeral).toBe(true);
    await eventually(() => canSendIn(bob, roomId));
    // Bob learns of the room on his own; his view says what the server does with it.
    expect(bob.room(roomId).ephemeral).toBe(true);

    // Nothing is replayed in an ephemeral room: what is said before bob's socket has subscribed
    // is gone for him, so alice speaks until he hears her.
    const atBob = inbox(bob, roomId);
    let said = 0;
    await eventually(
      async () => {
        said += 1;
        await alice.acked((await alice.send(roomId, `said once ${said}`)).messageId);
        await new Promise((resolve) => setTimeout(resolve, 100));
        return atBob.length > 0;
      },
      10_000,
      'bob hears alice live',
    );
    expect(atBob[0]!.text).toMatch(/^said once \d+$/);
    expect(await bob.history(roomId)).toEqual([]);
    expect(await alice.history(roomId)).toEqual([]);
  });

  it('forgets a room the server deleted at its expiry, keys included, online and offline', async () => {
    const expire = async (roomId: string) => {
      await server.app.db
        .updateTable('rooms')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', roomId)
        .execute();
    };
    // Online: the server says so on bob's socket when it deletes the room.
    const live = await alice.createGroup({ name: 'a week', members: ['bob'], expiresInDays: 7 });
    await eventually(() => canSendIn(bob, live.roomId));
    expect(await bobsStore.get(`room:${live.roomId}`)).toBeDefined();
    const gone = bob.next('expired', (event) => event.roomId === live.roomId);
    await expire(live.roomId);
    await gone;
    expect(bob.listRooms().some((room) => room.roomId === live.roomId)).toBe(false);
    expect(await bobsStore.get(`room:${live.roomId}`)).toBeUndefined();
    await eventually(() => !alice.listRooms().some((room) => room.roomId === live.roomId));

    // Offline: bob's device finds out when it next syncs; a room he was only removed from stays.
    const later = await alice.createGroup({ name: 'later', members: ['bob'], expiresInDays: 7 });
    const kept = await alice.createGroup({ name: 'kept', members: ['bob'] });
    await eventually(() => canSendIn(bob, later.roomId) && canSendIn(bob, kept.roomId));
    bob.disconnect();
    await alice.removeMember(kept.roomId, bob.me!.userId);
    await expire(later.roomId);
    await eventually(
      async () =>
        (await server.app.db
          .selectFrom('rooms')
          .select('id')
          .where('id', '=', later.roomId)
          .executeTakeFirst()) === undefined,
    );
    await bob.syncRooms();
    expect(bob.listRooms().map((room) => room.roomId)).not.toContain(later.roomId);
    expect(bob.listRooms().map((room) => room.roomId)).toContain(kept.roomId);
    expect(await bobsStore.get(`room:${later.roomId}`)).toBeUndefined();
    bob.connect();
    await bob.connected();
  });
});
