// The server never holds a secret. A whole conversation runs with real envelopes made by
// @parley/crypto (channels, a group with a removal and a new epoch, a direct conversation, replies,
// reactions, an edit, call signalling and an encrypted attachment), then every table of the
// database and every frame the server relayed are searched for the plaintexts, the room and
// message keys, the attachment key and the private keys, as raw bytes, hex, base64 and base64url.
import {
  decryptAttachment,
  deriveMessageKey,
  encryptAttachment,
  fromBase64Url,
  openMessage,
  toBase64Url,
  type AttachmentDescriptor,
  type MessagePayloadInput,
} from '@parley/crypto';
import type { AttachmentUploaded, HistoryPage } from '@parley/wire';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyApp } from '../src/app';
import { createTestApp } from './helpers';
import {
  appendEntry,
  createPerson,
  createRoom,
  distributeKey,
  listen,
  sendOver,
  TestSocket,
  type Person,
  type TestRoom,
} from './rooms-fixtures';

let app: ParleyApp;
let url: string;
const sockets: TestSocket[] = [];
/** Everything the clients received over REST during the conversation. */
const answers: string[] = [];

beforeAll(async () => {
  app = await createTestApp();
  url = await listen(app);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await app.close();
});

describe('what the server stores and relays', () => {
  it('holds no plaintext, room key, message key, attachment key or private key', async () => {
    const [alice, bob, carol] = [
      await createPerson(app),
      await createPerson(app),
      await createPerson(app),
    ];
    const people = [alice, bob, carol];
    const plaintexts: string[] = [];
    const say = (text: string) => {
      plaintexts.push(text);
      return text;
    };

    const connections = new Map<string, TestSocket>();
    for (const person of people) {
      const socket = await TestSocket.authenticated(url, person);
      sockets.push(socket);
      connections.set(person.id, socket);
    }
    const socketOf = (person: Person) => connections.get(person.id)!;
    const subscribeAll = async (room: TestRoom, members: Person[]) => {
      for (const member of members) {
        socketOf(member).send({ type: 'subscribe', room: room.id, after: 0 });
        await socketOf(member).next((f) => f.type === 'subscribed' && f.room === room.id);
      }
    };
    const send = async (room: TestRoom, sender: Person, payload: MessagePayloadInput | string) => {
      const message = room.message(sender, typeof payload === 'string' ? say(payload) : payload);
      const ack = await sendOver(socketOf(sender), room.id, message);
      expect(ack.type, JSON.stringify(ack)).toBe('ack');
      return message;
    };

    // A channel: Alice creates it, Bob asks to join and is admitted, keys go to both.
    const channel = await createRoom(app, alice, 'channel', {
      name: 'Public square',
      topic: 'Anything goes',
      tags: ['general'],
    });
    await distributeKey(app, channel, alice, [alice]);
    await rest('POST', `/api/rooms/${channel.id}/join-requests`, bob, {});
    await appendEntry(app, channel, alice, 'admit', bob);
    await distributeKey(app, channel, alice, [bob]);
    await subscribeAll(channel, [alice, bob]);
    const hello = await send(channel, alice, 'Hello channel, the password is swordfish-7731');
    await send(channel, bob, {
      kind: 'text',
      text: say('Replying: the meeting moved to the blue room'),
      replyTo: fromHex16(hello.messageId),
    });
    await send(channel, alice, {
      kind: 'reaction',
      text: say('🦜 parrot-reaction-9'),
      target: fromHex16(hello.messageId),
    });

    // A group with a removal: Carol is removed, a new epoch key goes to Alice and Bob only.
    const group = await createRoom(app, alice, 'group', { name: 'Secret plans' });
    await appendEntry(app, group, alice, 'add', bob);
    await appendEntry(app, group, alice, 'add', carol);
    await distributeKey(app, group, alice, [alice, bob, carol]);
    await subscribeAll(group, [alice, bob, carol]);
    const plan = await send(group, carol, 'Carol here: launch codes are 0000-1111');
    await send(group, alice, {
      kind: 'edit',
      text: say('Edited: launch at dawn, not dusk'),
      target: fromHex16(plan.messageId),
    });
    await appendEntry(app, group, alice, 'remove', carol);
    await distributeKey(app, group, alice, [alice, bob]);
    await send(group, bob, 'After Carol left: the treasure is under the old oak');

    // An attachment: encrypted client-side, uploaded as an opaque blob, described in a message.
    const fileText = say('Attachment plaintext: quarterly numbers are up 42 percent');
    const file = new TextEncoder().encode(fileText.repeat(20));
    const encrypted = encryptAttachment(file);
    const upload = await app.inject({
      method: 'POST',
      url: `/api/rooms/${group.id}/attachments`,
      headers: { ...alice.auth, 'content-type': 'application/octet-stream' },
      payload: Buffer.from(encrypted.blob),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const { blobId } = upload.json<AttachmentUploaded>();
    const descriptor: AttachmentDescriptor = {
      blobId,
      fileKey: encrypted.fileKey,
      hash: encrypted.hash,
      size: encrypted.size,
      mediaType: 'text/plain',
      name: say('numbers-secret-filename.txt'),
    };
    await send(group, alice, {
      kind: 'text',
      text: say('See the attached numbers'),
      attachments: [descriptor],
    });

    // A direct conversation with call signalling.
    const direct = await createRoom(app, alice, 'direct', {}, bob);
    await distributeKey(app, direct, alice, [alice, bob]);
    await subscribeAll(direct, [alice, bob]);
    await send(direct, alice, 'Just between us: I like pineapple pizza');
    const offer = say('{"sdp":"v=0 o=- 4611731400430051336 fingerprint:sha-256 AB:CD:EF"}');
    await send(direct, bob, { kind: 'call', text: '', extra: new TextEncoder().encode(offer) });

    // Every client read some history and its keys over REST.
    for (const room of [channel, group, direct]) {
      await rest('GET', `/api/rooms/${room.id}/messages`, alice);
      await rest('GET', `/api/rooms/${room.id}/keys`, alice);
    }

    // Let every socket receive what was relayed.
    for (const person of people) {
      const socket = socketOf(person);
      socket.send({ type: 'ping' });
      await socket.next((f) => f.type === 'pong');
    }

    // The conversation is real: what the server stored opens to these plaintexts with the keys.
    const stored = (await rest('GET', `/api/rooms/${group.id}/messages`, bob)) as HistoryPage;
    const opened = stored.messages.map((item) =>
      openMessage(fromBase64Url(item.envelope), {
        roomId: group.idBytes,
        identityKeyOf: (id) =>
          people.find((p) => Buffer.from(p.idBytes).equals(Buffer.from(id)))?.identity.publicKey,
        senderIsMember: true,
        roomKeyOf: (epoch) => group.keys.get(epoch),
      }),
    );
    expect(opened.map((m) => m.payload.text)).toContain(
      'After Carol left: the treasure is under the old oak',
    );
    const blob = await app.inject({
      method: 'GET',
      url: `/api/attachments/${blobId}`,
      headers: bob.auth,
    });
    expect(
      new TextDecoder().decode(
        decryptAttachment(
          new Uint8Array(blob.rawPayload),
          descriptor.fileKey,
          descriptor.hash,
          descriptor.size,
        ),
      ),
    ).toBe(fileText.repeat(20));

    // The secrets, in every spelling.
    const secrets: { name: string; bytes: Uint8Array }[] = [
      ...plaintexts.map((text) => ({
        name: `plaintext "${text}"`,
        bytes: new TextEncoder().encode(text),
      })),
      { name: 'attachment plaintext', bytes: file },
      { name: 'attachment file key', bytes: encrypted.fileKey },
    ];
    for (const room of [channel, group, direct]) {
      for (const [epoch, key] of room.keys) {
        secrets.push({ name: `room key ${room.kind}#${epoch}`, bytes: key });
        secrets.push({
          name: `message key ${room.kind}#${epoch}`,
          bytes: deriveMessageKey(key, room.idBytes, epoch),
        });
      }
    }
    for (const person of people) {
      secrets.push({ name: `${person.username} identity seed`, bytes: person.seeds.identitySeed });
      secrets.push({
        name: `${person.username} identity secret key`,
        bytes: person.identity.secretKey,
      });
      secrets.push({
        name: `${person.username} encryption seed`,
        bytes: person.seeds.encryptionSeed,
      });
      secrets.push({
        name: `${person.username} encryption secret key`,
        bytes: person.encryption.secretKey,
      });
    }

    const haystacks = [
      { where: 'the database', bytes: await databaseContents() },
      {
        where: 'the frames relayed',
        bytes: Buffer.concat(
          [...connections.values()].flatMap((socket) => socket.raw.map(textAndDecoded)),
        ),
      },
      { where: 'the REST answers', bytes: Buffer.concat(answers.map(textAndDecoded)) },
    ];

    // The search finds what is there: public keys and ids are stored, envelopes relayed.
    expect(
      haystacks[0]!.bytes.indexOf(Buffer.from(alice.identity.publicKey)),
    ).toBeGreaterThanOrEqual(0);
    expect(haystacks[0]!.bytes.indexOf(Buffer.from(group.id))).toBeGreaterThanOrEqual(0);
    expect(
      haystacks[1]!.bytes.indexOf(Buffer.from(toBase64Url(plan.envelope))),
    ).toBeGreaterThanOrEqual(0);
    expect(haystacks[1]!.bytes.indexOf(Buffer.from(plan.envelope))).toBeGreaterThanOrEqual(0);

    const found: string[] = [];
    for (const { name, bytes } of secrets) {
      for (const [form, needle] of spellings(bytes)) {
        for (const { where, bytes: haystack } of haystacks) {
          if (haystack.indexOf(needle) >= 0) found.push(`${name} as ${form} in ${where}`);
        }
      }
    }
    expect(found).toEqual([]);
    expect(secrets.length).toBeGreaterThan(25);
  });
});

async function rest(
  method: 'GET' | 'POST',
  path: string,
  person: Person,
  payload?: object,
): Promise<unknown> {
  const response = await app.inject({
    method,
    url: path,
    headers: person.auth,
    ...(payload === undefined ? {} : { payload }),
  });
  expect(response.statusCode, response.body).toBeLessThan(300);
  answers.push(response.body);
  return response.body === '' ? undefined : response.json();
}

function fromHex16(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Raw bytes, lowercase and uppercase hex, base64 (padded and not) and base64url of a secret. */
function spellings(bytes: Uint8Array): [string, Buffer][] {
  const buffer = Buffer.from(bytes);
  const base64 = buffer.toString('base64');
  return [
    ['raw bytes', buffer],
    ['hex', Buffer.from(buffer.toString('hex'))],
    ['HEX', Buffer.from(buffer.toString('hex').toUpperCase())],
    ['base64', Buffer.from(base64)],
    ['unpadded base64', Buffer.from(base64.replace(/=+$/, ''))],
    ['base64url', Buffer.from(buffer.toString('base64url'))],
  ];
}

/**
 * A frame or answer as text, followed by the bytes of every base64url token in it, so that a
 * secret inside an encoded blob would be found too.
 */
function textAndDecoded(text: string): Buffer {
  const tokens = text.match(/[A-Za-z0-9_-]{16,}/g) ?? [];
  return Buffer.concat([
    Buffer.from(text),
    ...tokens.map((token) => Buffer.from(token, 'base64url')),
  ]);
}

/** Every row of every table in the database: raw bytes, text, and bytes as hex and base64. */
async function databaseContents(): Promise<Buffer> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(app.db);
  expect(tables.rows.map((t) => t.table_name)).toEqual(
    expect.arrayContaining(['messages', 'rooms', 'room_key_envelopes', 'attachments', 'users']),
  );
  const parts: Buffer[] = [];
  for (const { table_name: table } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(
      app.db,
    );
    for (const row of rows.rows) {
      for (const value of Object.values(row)) {
        if (value instanceof Uint8Array) {
          const buffer = Buffer.from(value);
          parts.push(
            buffer,
            Buffer.from(buffer.toString('hex')),
            Buffer.from(buffer.toString('base64')),
          );
        } else {
          parts.push(Buffer.from(JSON.stringify(value) ?? ''));
        }
      }
    }
  }
  return Buffer.concat(parts);
}
