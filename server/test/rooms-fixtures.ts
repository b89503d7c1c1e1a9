// Test fixtures for rooms, messages and the relay: people with real keys published, rooms built
// from real signed entries, envelopes made with @parley/crypto, and a WebSocket client that
// records every frame it receives.
import type { AddressInfo } from 'node:net';
import {
  createGenesis,
  createMembershipEntry,
  encryptMessage,
  encryptionKeyPair,
  fromHex,
  generateIdentity,
  generateRoomKey,
  identityKeyPair,
  membershipEntryHash,
  messageHash,
  ready,
  sealRoomKey,
  signEncryptionKey,
  toBase64Url,
  toHex,
  type EncryptionKeyPair,
  type Identity,
  type IdentityKeyPair,
  type MembershipOp,
  type MessagePayloadInput,
  type RoomKind,
} from '@parley/crypto';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { ParleyApp } from '../src/app';
import { registerUser, type TestUser } from './accounts';

export interface Person extends TestUser {
  idBytes: Uint8Array;
  seeds: Identity;
  identity: IdentityKeyPair;
  encryption: EncryptionKeyPair;
}

/** Registers a user and publishes real keys for them. */
export async function createPerson(app: ParleyApp, username?: string): Promise<Person> {
  await ready();
  const user = await registerUser(app, username);
  const seeds = generateIdentity();
  const identity = identityKeyPair(seeds.identitySeed);
  const encryption = encryptionKeyPair(seeds.encryptionSeed);
  const idBytes = fromHex(user.id);
  const signature = signEncryptionKey(identity, {
    userId: idBytes,
    encryptionPublicKey: encryption.publicKey,
    version: 1,
  });
  const response = await app.inject({
    method: 'PUT',
    url: '/api/me/keys',
    headers: user.auth,
    payload: {
      identityKey: toBase64Url(identity.publicKey),
      encryptionKey: toBase64Url(encryption.publicKey),
      version: 1,
      signature: toBase64Url(signature),
    },
  });
  expect(response.statusCode, response.body).toBe(200);
  return { ...user, idBytes, seeds, identity, encryption };
}

/** A room as its members' clients know it: the chain they built, and the epoch keys. */
export class TestRoom {
  readonly entries: Uint8Array[] = [];
  readonly keys = new Map<number, Uint8Array>();
  epoch = 0;
  /** Per-sender counters and previous hashes, for real message chains. */
  private readonly senders = new Map<string, { counter: number; prevHash: Uint8Array }>();

  constructor(
    readonly idBytes: Uint8Array,
    readonly kind: RoomKind,
  ) {}

  get id(): string {
    return toHex(this.idBytes);
  }

  get head(): { position: number; hash: Uint8Array } {
    const last = this.entries.at(-1)!;
    return { position: this.entries.length - 1, hash: membershipEntryHash(last) };
  }

  /** A signed entry following the current head (not yet posted). */
  entry(
    actor: Person,
    op: Exclude<MembershipOp, 'genesis'>,
    subject: Person | string,
    timer?: number,
  ): Uint8Array {
    return createMembershipEntry({
      roomId: this.idBytes,
      previous: this.head,
      actorId: actor.idBytes,
      actor: actor.identity,
      op,
      subjectId: typeof subject === 'string' ? fromHex(subject) : subject.idBytes,
      ...(timer === undefined ? {} : { timer }),
    });
  }

  /** A room-key envelope of `epoch` from `distributor` to `recipient`. */
  envelope(distributor: Person, recipient: Person, epoch = this.epoch): Uint8Array {
    let key = this.keys.get(epoch);
    if (key === undefined) {
      key = generateRoomKey();
      this.keys.set(epoch, key);
    }
    return sealRoomKey({
      roomKey: key,
      roomId: this.idBytes,
      epoch,
      recipientId: recipient.idBytes,
      recipientEncryptionKey: recipient.encryption.publicKey,
      distributorId: distributor.idBytes,
      distributor: distributor.identity,
    });
  }

  /** A real encrypted, signed message from `sender` in the current epoch. */
  message(
    sender: Person,
    payload: MessagePayloadInput | string,
    options: { messageId?: Uint8Array } = {},
  ): { envelope: Uint8Array; messageId: string } {
    const key = this.keys.get(this.epoch) ?? generateRoomKey();
    this.keys.set(this.epoch, key);
    const state = this.senders.get(sender.id) ?? { counter: 0, prevHash: new Uint8Array() };
    const sealed = encryptMessage({
      roomId: this.idBytes,
      epoch: this.epoch,
      roomKey: key,
      senderId: sender.idBytes,
      sender: sender.identity,
      counter: state.counter + 1,
      prevHash: state.prevHash,
      clientTime: Date.now(),
      ...(options.messageId === undefined ? {} : { messageId: options.messageId }),
      payload: typeof payload === 'string' ? { kind: 'text', text: payload } : payload,
    });
    this.senders.set(sender.id, {
      counter: state.counter + 1,
      prevHash: messageHash(sealed.envelope),
    });
    return { envelope: sealed.envelope, messageId: toHex(sealed.header.messageId) };
  }
}

/** Creates a room through the API from a real genesis entry. */
export async function createRoom(
  app: ParleyApp,
  creator: Person,
  kind: RoomKind,
  details: Record<string, unknown> = {},
  peer?: Person,
): Promise<TestRoom> {
  const idBytes = crypto.getRandomValues(new Uint8Array(16));
  const genesis = createGenesis({
    roomId: idBytes,
    kind,
    ...(peer === undefined ? {} : { peerId: peer.idBytes }),
    actorId: creator.idBytes,
    actor: creator.identity,
  });
  const defaults =
    kind === 'channel'
      ? { name: `channel ${toHex(idBytes).slice(0, 6)}`, topic: 'testing' }
      : kind === 'group'
        ? { name: 'a group' }
        : {};
  const response = await app.inject({
    method: 'POST',
    url: '/api/rooms',
    headers: creator.auth,
    payload: { genesis: toBase64Url(genesis), ...defaults, ...details },
  });
  expect(response.statusCode, response.body).toBe(201);
  const room = new TestRoom(idBytes, kind);
  room.entries.push(genesis);
  return room;
}

/** Posts the next entry and records it in the room on success. */
export async function appendEntry(
  app: ParleyApp,
  room: TestRoom,
  actor: Person,
  op: Exclude<MembershipOp, 'genesis'>,
  subject: Person | string,
  timer?: number,
): Promise<void> {
  const entry = room.entry(actor, op, subject, timer);
  const response = await app.inject({
    method: 'POST',
    url: `/api/rooms/${room.id}/chain`,
    headers: actor.auth,
    payload: { entry: toBase64Url(entry) },
  });
  expect(response.statusCode, response.body).toBe(201);
  room.entries.push(entry);
  if (op === 'remove' || op === 'leave') room.epoch += 1;
}

/** Posts envelopes of the current epoch from `distributor` to each of `recipients`. */
export async function distributeKey(
  app: ParleyApp,
  room: TestRoom,
  distributor: Person,
  recipients: Person[],
): Promise<void> {
  const response = await app.inject({
    method: 'POST',
    url: `/api/rooms/${room.id}/keys`,
    headers: distributor.auth,
    payload: { envelopes: recipients.map((r) => toBase64Url(room.envelope(distributor, r))) },
  });
  expect(response.statusCode, response.body).toBe(201);
}

/** A group of `members.length + 1` people with `owner` as admin and everyone holding the key. */
export async function groupWith(
  app: ParleyApp,
  owner: Person,
  members: Person[],
): Promise<TestRoom> {
  const room = await createRoom(app, owner, 'group');
  for (const member of members) await appendEntry(app, room, owner, 'add', member);
  await distributeKey(app, room, owner, [owner, ...members]);
  return room;
}

/** Listens on an ephemeral port; returns the WebSocket URL. */
export async function listen(app: ParleyApp): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return `ws://127.0.0.1:${port}/ws`;
}

export interface Frame {
  type: string;
  [field: string]: unknown;
}

/** A WebSocket client that keeps every frame received and waits for ones that match. */
export class TestSocket {
  readonly frames: Frame[] = [];
  readonly raw: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = String(data);
      this.raw.push(text);
      this.frames.push(JSON.parse(text) as Frame);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: String(reason) });
        this.wake();
      });
    });
    socket.on('error', () => {});
  }

  static async open(
    url: string,
    headers: Record<string, string> = {},
    options: { localAddress?: string } = {},
  ): Promise<TestSocket> {
    const socket = new WebSocket(url, { headers, ...options });
    const client = new TestSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Opens, authenticates and waits for `ready`. */
  static async authenticated(
    url: string,
    person: TestUser,
    options: { localAddress?: string } = {},
  ): Promise<TestSocket> {
    const client = await TestSocket.open(url, {}, options);
    client.send({ type: 'auth', token: person.accessToken });
    await client.next((f) => f.type === 'ready');
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (from index `from`) that matches, waiting up to `timeoutMs`. */
  async next(match: (frame: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found !== undefined) return found;
      if (this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(
          `TestSocket.next: closed; frames: ${JSON.stringify(this.frames.slice(-5))}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `TestSocket.next: timed out; frames: ${JSON.stringify(this.frames.slice(-5))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until `count` frames match. */
  async count(match: (frame: Frame) => boolean, count: number, timeoutMs = 5000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.filter(match);
      if (found.length >= count) return found;
      if (Date.now() > deadline) {
        throw new Error(`TestSocket.count: ${found.length} of ${count} frames in ${timeoutMs} ms`);
      }
      await this.next(() => true, Math.max(1, deadline - Date.now()), this.frames.length).catch(
        () => undefined,
      );
    }
  }

  close(): void {
    this.socket.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Sends a message over a socket and waits for its ack or its error frame. */
export async function sendOver(
  client: TestSocket,
  roomId: string,
  message: { envelope: Uint8Array; messageId: string },
): Promise<Frame> {
  const from = client.frames.length;
  client.send({ type: 'send', room: roomId, envelope: toBase64Url(message.envelope) });
  return client.next(
    (f) =>
      (f.type === 'ack' && f.messageId === message.messageId) ||
      (f.type === 'error' && f.ref === message.messageId),
    5000,
    from,
  );
}
