// Files sent end to end (encrypted on the device, uploaded as an opaque blob, described inside the
// encrypted message, downloaded and checked by the receiver), and rooms the server deletes after 7
// days or never stores.
import type { Client } from '@parley/client';
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

  beforeAll(async () => {
    server = await startServer();
    clients.push(...(await connectedUsers(server, ['alice', 'bob', 'carol'])));
    [alice, bob, carol] = clients as [Client, Client, Client];
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
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
});
