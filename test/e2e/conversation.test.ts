// Three people sign up with backup passphrases, talk in a channel and in a group; the group
// removes a member, who cannot read anything after; one of them restores on a new device from the
// passphrase and reads the whole history.
import type { Client, ReceivedMessage } from '@parley/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, failures, newDevice, startServer, type LiveServer } from './harness';

const PASSWORD = {
  alice: 'alice-password-1234',
  bob: 'bob-password-5678',
  carol: 'carol-password-9012',
};
const PASSPHRASE = {
  alice: 'velvet orbit harbour quietly 42 lanterns',
  bob: 'copper meadow sideways thunder 17 kites',
  carol: 'glacier pencil humble violin 83 ferns',
};

function inbox(client: Client): ReceivedMessage[] {
  const messages: ReceivedMessage[] = [];
  client.on('message', (message) => messages.push(message));
  return messages;
}

function texts(messages: ReceivedMessage[], roomId: string): string[] {
  return messages.filter((m) => m.roomId === roomId).map((m) => m.text);
}

describe('a conversation between three people', () => {
  let server: LiveServer;
  let alice: Client;
  let bob: Client;
  let carol: Client;
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await startServer();
    [alice, bob, carol] = await Promise.all([
      newDevice(server),
      newDevice(server),
      newDevice(server),
    ]);
    clients.push(alice, bob, carol);
    // Sequential: each sign-up derives the backup key (Argon2id, 256 MiB) once.
    for (const [client, name] of [
      [alice, 'alice'],
      [bob, 'bob'],
      [carol, 'carol'],
    ] as const) {
      await client.signUp({
        username: name,
        password: PASSWORD[name],
        passphrase: PASSPHRASE[name],
      });
      client.connect();
      await client.connected();
    }
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await server.close();
  });

  let channelId: string;
  let groupId: string;

  it('creates a channel that others find by topic and join, admitted by an online member', async () => {
    const created = await alice.createChannel({
      name: 'rust',
      topic: 'systems programming',
      tags: ['lang'],
    });
    channelId = created.roomId;
    const { channels } = await bob.browseChannels({ q: 'systems' });
    expect(channels.map((c) => c.roomId)).toContain(channelId);
    const joined = await bob.join(channelId);
    expect(joined.members.has(bob.me!.userId)).toBe(true);
    expect(joined.canSend).toBe(true);
    expect(alice.room(channelId).members.get(bob.me!.userId)).toBe('member');
  });

  it('exchanges messages in the channel both ways, each decrypted and verified', async () => {
    const aliceInbox = inbox(alice);
    const bobInbox = inbox(bob);
    const first = await alice.send(channelId, 'hello **bob**');
    await alice.acked(first.messageId);
    await eventually(
      () => texts(bobInbox, channelId).includes('hello **bob**'),
      10_000,
      'bob reads',
    );
    await bob.send(channelId, 'hi alice');
    await eventually(
      () => texts(aliceInbox, channelId).includes('hi alice'),
      10_000,
      'alice reads',
    );
    const fromAlice = bobInbox.find((m) => m.text === 'hello **bob**')!;
    expect(fromAlice.senderName).toBe('alice');
    expect(fromAlice.status).toBe('new');
  });

  it('creates a group with both others; everyone reads everyone', async () => {
    const group = await alice.createGroup({ name: 'friends', members: ['bob', 'carol'] });
    groupId = group.roomId;
    expect([...group.members.values()].sort()).toEqual(['admin', 'member', 'member']);
    const carolInbox = inbox(carol);
    const bobInbox = inbox(bob);
    await alice.send(groupId, 'welcome to the group');
    await eventually(
      () => texts(carolInbox, groupId).includes('welcome to the group'),
      10_000,
      'carol reads',
    );
    await eventually(() => carol.room(groupId).canSend, 10_000, 'carol has the key');
    await carol.send(groupId, 'thanks!');
    await eventually(() => texts(bobInbox, groupId).includes('thanks!'), 10_000, 'bob reads carol');
  });

  it('removes carol: a new epoch whose key carol never gets; she reads nothing after', async () => {
    const carolInbox = inbox(carol);
    const carolFailures = failures(carol);
    const bobInbox = inbox(bob);
    const before = alice.room(groupId).epoch;
    const after = await alice.removeMember(groupId, carol.me!.userId);
    expect(after.epoch).toBe(before + 1);
    expect(after.members.has(carol.me!.userId)).toBe(false);
    await eventually(
      () => bob.room(groupId).epoch === after.epoch && bob.room(groupId).canSend,
      10_000,
      'bob has the new key',
    );
    await alice.send(groupId, 'carol cannot read this');
    await eventually(
      () => texts(bobInbox, groupId).includes('carol cannot read this'),
      10_000,
      'bob reads',
    );
    // Each waits for its ack, so the history's order below is the order of sending.
    await bob.acked((await bob.send(groupId, 'nor this')).messageId);
    await alice.acked((await alice.send(groupId, 'or this')).messageId);
    // Whatever carol's device still fetches, nothing of the new epoch opens.
    await carol.syncRooms().catch(() => undefined);
    expect(carol.room(groupId).members.has(carol.me!.userId)).toBe(false);
    expect(carol.room(groupId).canSend).toBe(false);
    expect(texts(carolInbox, groupId)).not.toContain('carol cannot read this');
    await expect(carol.history(groupId)).rejects.toMatchObject({ status: 403 });
    expect(
      carolFailures.filter((f) => f.roomId === groupId && f.code !== 'MESSAGE_UNKNOWN_EPOCH'),
    ).toEqual([]);
  });

  it('restores alice on a new device from her passphrase; she reads the whole history', async () => {
    const wrong = await newDevice(server);
    clients.push(wrong);
    await expect(
      wrong.restore({
        username: 'alice',
        password: PASSWORD.alice,
        passphrase: 'not her passphrase at all 99',
      }),
    ).rejects.toMatchObject({ code: 'BACKUP_DECRYPT_FAILED' });
    expect(wrong.me).toBeUndefined();
    expect(wrong.isLoggedIn).toBe(false);

    const laptop = await newDevice(server);
    clients.push(laptop);
    const read = inbox(laptop);
    const me = await laptop.restore({
      username: 'alice',
      password: PASSWORD.alice,
      passphrase: PASSPHRASE.alice,
    });
    expect(me.userId).toBe(alice.me!.userId);
    expect(me.fingerprint).toBe(alice.me!.fingerprint);
    expect(texts(read, channelId)).toEqual(['hello **bob**', 'hi alice']);
    expect(texts(read, groupId)).toEqual([
      'welcome to the group',
      'thanks!',
      'carol cannot read this',
      'nor this',
      'or this',
    ]);
    // Its own counter continues where the old device left off: others see no fork.
    const bobFailures = failures(bob);
    const bobInbox = inbox(bob);
    laptop.connect();
    await laptop.send(groupId, 'from my laptop');
    await eventually(
      () => texts(bobInbox, groupId).includes('from my laptop'),
      10_000,
      'bob reads the laptop',
    );
    expect(bobFailures).toEqual([]);
  });
});
