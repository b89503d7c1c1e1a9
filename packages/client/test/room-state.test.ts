import {
  CryptoError,
  createGenesis,
  encryptMessage,
  fromHex,
  generateRoomKey,
  sealRoomKey,
  toHex,
  generateId,
  type CryptoErrorCode,
} from '@parley/crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { REMEMBERED_COUNTERS, RoomState } from '../src/room-state';
import { makeUser, type TestUser } from './helpers';

function expectCrypto(action: () => unknown, code: CryptoErrorCode): void {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(CryptoError);
  expect((thrown as CryptoError).code, (thrown as Error).message).toBe(code);
}

let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let keys: Map<string, Uint8Array>;
const identityKeyOf = (userId: Uint8Array): Uint8Array | undefined => keys.get(toHex(userId));

beforeEach(() => {
  alice = makeUser('alice');
  bob = makeUser('bob');
  carol = makeUser('carol');
  keys = new Map([alice, bob, carol].map((user) => [user.userId, user.identity.publicKey]));
});

/** A group made by alice with bob and carol added: positions 0..2, epoch 0. */
function group(): { room: RoomState; entries: Uint8Array[] } {
  const roomId = toHex(generateId());
  const room = new RoomState(roomId);
  const entries = [
    createGenesis({
      roomId: fromHex(roomId),
      kind: 'group',
      actorId: fromHex(alice.userId),
      actor: alice.identity,
    }),
  ];
  room.applyChain(entries, identityKeyOf);
  for (const user of [bob, carol]) {
    entries.push(room.nextEntry(alice.userId, alice.identity, 'add', user.userId));
    room.applyChain(entries, identityKeyOf);
  }
  return { room, entries };
}

function sealTo(
  room: RoomState,
  roomKey: Uint8Array,
  epoch: number,
  from: TestUser,
  to: TestUser,
): Uint8Array {
  return sealRoomKey({
    roomKey,
    roomId: room.roomIdBytes,
    epoch,
    recipientId: fromHex(to.userId),
    recipientEncryptionKey: to.encryption.publicKey,
    distributorId: fromHex(from.userId),
    distributor: from.identity,
  });
}

/** A sender's sequence of messages in a room, as its client would make them. */
class Sender {
  counter = 0;
  prevHash: Uint8Array | undefined;
  constructor(
    readonly user: TestUser,
    readonly room: RoomState,
    readonly roomKey: Uint8Array,
    readonly epoch = 0,
  ) {}
  next(text: string): Uint8Array {
    this.counter += 1;
    const sealed = encryptMessage({
      roomId: this.room.roomIdBytes,
      epoch: this.epoch,
      roomKey: this.roomKey,
      senderId: fromHex(this.user.userId),
      sender: this.user.identity,
      counter: this.counter,
      prevHash: this.prevHash,
      clientTime: 1_700_000_000_000 + this.counter,
      payload: { kind: 'text', text },
    });
    this.prevHash = sealed.messageHash;
    return sealed.envelope;
  }
}

describe('RoomState membership', () => {
  it('derives members, roles and epochs from the verified chain', () => {
    const { room, entries } = group();
    expect(room.kind).toBe('group');
    expect(room.epoch).toBe(0);
    expect([...room.members()]).toEqual([
      [alice.userId, 'admin'],
      [bob.userId, 'member'],
      [carol.userId, 'member'],
    ]);
    entries.push(room.nextEntry(alice.userId, alice.identity, 'promote', bob.userId));
    room.applyChain(entries, identityKeyOf);
    entries.push(room.nextEntry(alice.userId, alice.identity, 'remove', carol.userId));
    expect(room.applyChain(entries, identityKeyOf)).toBe(1);
    expect(room.epoch).toBe(1);
    expect(room.roleOf(bob.userId)).toBe('admin');
    expect(room.isMember(carol.userId)).toBe(false);
    expect(RoomState.actorsOf(entries)).toEqual(new Set([alice.userId, bob.userId, carol.userId]));
  });

  it('refuses an entry by someone not allowed, and keeps the chain it had', () => {
    const { room, entries } = group();
    const forged = room.nextEntry(bob.userId, bob.identity, 'remove', carol.userId);
    expectCrypto(
      () => room.applyChain([...entries, forged], identityKeyOf),
      'CHAIN_ACTOR_NOT_ALLOWED',
    );
    expect(room.chain).toHaveLength(3);
    expect(room.isMember(carol.userId)).toBe(true);
  });

  it('catches a server that rewrites or truncates a chain this device verified (CHAIN_FORK)', () => {
    const { room, entries } = group();
    expectCrypto(() => room.applyChain(entries.slice(0, 2), identityKeyOf), 'CHAIN_FORK');
    // Another history from position 2 on: alice's entry that adds someone else instead of carol.
    const other = new RoomState(room.roomId);
    other.applyChain(entries.slice(0, 2), identityKeyOf);
    const rewritten = [
      ...entries.slice(0, 2),
      other.nextEntry(alice.userId, alice.identity, 'promote', bob.userId),
    ];
    expectCrypto(() => room.applyChain(rewritten, identityKeyOf), 'CHAIN_FORK');
    expect(room.hasEntry(entries[2]!)).toBe(true);
    expect(room.hasEntry(rewritten[2]!)).toBe(false);
  });
});

describe('RoomState room keys', () => {
  it('accepts an envelope from an entitled member, and refuses one from a non-member', () => {
    const { room } = group();
    const key = generateRoomKey();
    const me = { userId: bob.userId, keyPair: bob.encryption };
    expect(room.acceptEnvelope(sealTo(room, key, 0, alice, bob), me, identityKeyOf)).toEqual({
      epoch: 0,
      added: true,
    });
    expect(room.roomKey(0)).toEqual(key);
    expect(room.currentKey()).toEqual({ epoch: 0, key });

    const mallory = makeUser('mallory');
    keys.set(mallory.userId, mallory.identity.publicKey);
    expectCrypto(
      () =>
        room.acceptEnvelope(sealTo(room, generateRoomKey(), 0, mallory, bob), me, identityKeyOf),
      'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
    );
    expectCrypto(
      () => room.acceptEnvelope(sealTo(room, key, 0, alice, carol), me, identityKeyOf),
      'ENVELOPE_WRONG_RECIPIENT',
    );
    // A second key for a known epoch does not replace the first.
    expect(
      room.acceptEnvelope(sealTo(room, generateRoomKey(), 0, alice, bob), me, identityKeyOf).added,
    ).toBe(false);
    expect(room.roomKey(0)).toEqual(key);
  });

  it('refuses a removed member a key of the epoch after the removal', () => {
    const { room, entries } = group();
    entries.push(room.nextEntry(alice.userId, alice.identity, 'remove', carol.userId));
    room.applyChain(entries, identityKeyOf);
    expectCrypto(
      () =>
        room.acceptEnvelope(
          sealTo(room, generateRoomKey(), 1, alice, carol),
          { userId: carol.userId, keyPair: carol.encryption },
          identityKeyOf,
        ),
      'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
    );
  });
});

describe('RoomState messages', () => {
  let room: RoomState;
  let roomKey: Uint8Array;
  let fromAlice: Sender;
  beforeEach(() => {
    room = group().room;
    roomKey = generateRoomKey();
    room.setRoomKey(0, roomKey);
    fromAlice = new Sender(alice, room, roomKey);
  });

  it('opens messages in order as new', () => {
    const first = room.open(fromAlice.next('hello'), identityKeyOf);
    expect(first.status).toBe('new');
    expect(first.message.payload.text).toBe('hello');
    expect(room.open(fromAlice.next('again'), identityKeyOf).status).toBe('new');
  });

  it('classifies a replay as duplicate, a skipped message as a gap, equivocation as a fork', () => {
    const one = fromAlice.next('one');
    room.open(one, identityKeyOf);
    expect(room.open(one, identityKeyOf).status).toBe('duplicate');
    const two = fromAlice.next('two');
    const three = fromAlice.next('three');
    const gap = room.open(three, identityKeyOf);
    expect(gap.status).toBe('gap');
    expect(gap.missing).toEqual({ from: 2, to: 2 });
    expect(room.open(two, identityKeyOf).status).toBe('out-of-order');
    // Another message 3, properly signed by alice, but not the one seen: a fork.
    const equivocation = new Sender(alice, room, roomKey);
    for (const text of ['one', 'two']) equivocation.next(text);
    expect(room.open(equivocation.next('three, differently'), identityKeyOf).status).toBe('fork');
  });

  it('tells a history re-read (same seq) from a replay (another seq)', () => {
    const one = fromAlice.next('one');
    room.open(one, identityKeyOf, 7);
    expect(room.open(one, identityKeyOf, 7)).toMatchObject({ status: 'duplicate', seenAtSeq: 7 });
    const copy = RoomState.fromRecord(structuredClone(room.toRecord()), identityKeyOf);
    expect(copy.open(one, identityKeyOf, 9)).toMatchObject({ status: 'duplicate', seenAtSeq: 7 });
  });

  it('catches a late message that is not the one its successor links to', () => {
    const first = fromAlice.next('one');
    const afterFirst = { counter: fromAlice.counter, prevHash: fromAlice.prevHash };
    fromAlice.next('two (held back)');
    const three = fromAlice.next('three');
    room.open(first, identityKeyOf);
    room.open(three, identityKeyOf);
    // Another message 2 signed by alice that follows her message 1 (she equivocated, or the
    // server kept one of two): its predecessor matches, but message 3 does not name it.
    const other = Object.assign(new Sender(alice, room, roomKey), afterFirst);
    expect(room.open(other.next('two, the other one'), identityKeyOf).status).toBe('fork');
  });

  it('refuses a rewritten sender, a non-member sender and an unknown epoch, with their codes', () => {
    const envelope = fromAlice.next('hello');
    // The server puts bob's id into alice's header: her signature no longer matches bob's key.
    const senderOffset = findBytes(envelope, fromHex(alice.userId));
    const rewritten = envelope.slice();
    rewritten.set(fromHex(bob.userId), senderOffset);
    expectCrypto(() => room.open(rewritten, identityKeyOf), 'MESSAGE_BAD_SIGNATURE');

    const mallory = makeUser('mallory');
    keys.set(mallory.userId, mallory.identity.publicKey);
    expectCrypto(
      () => room.open(new Sender(mallory, room, roomKey).next('hi'), identityKeyOf),
      'MESSAGE_SENDER_NOT_MEMBER',
    );
    expectCrypto(
      () => room.open(new Sender(alice, room, generateRoomKey(), 1).next('x'), identityKeyOf),
      'MESSAGE_SENDER_NOT_MEMBER',
    );
    expectCrypto(
      () => room.open(new Sender(alice, room, generateRoomKey()).next('x'), identityKeyOf),
      'MESSAGE_DECRYPT_FAILED',
    );
    const other = group().room;
    expectCrypto(
      () => other.open(fromAlice.next('elsewhere'), identityKeyOf),
      'MESSAGE_WRONG_ROOM',
    );
  });

  it('reports an unknown epoch when the key has not arrived', () => {
    const { room: fresh } = group();
    expectCrypto(
      () => fresh.open(new Sender(alice, fresh, roomKey).next('x'), identityKeyOf),
      'MESSAGE_UNKNOWN_EPOCH',
    );
  });

  it('continues its own counter from what it received of itself (a restored device)', () => {
    expect(room.nextOutgoing(alice.userId)).toEqual({ counter: 1, prevHash: undefined });
    room.open(fromAlice.next('one'), identityKeyOf);
    room.open(fromAlice.next('two'), identityKeyOf);
    expect(room.nextOutgoing(alice.userId)).toEqual({ counter: 3, prevHash: fromAlice.prevHash });
  });

  it('remembers a bounded number of counters per sender', () => {
    for (let i = 0; i < REMEMBERED_COUNTERS + 10; i++)
      room.open(fromAlice.next(`m${i}`), identityKeyOf);
    const record = room.toRecord() as {
      senders: Record<string, { seen: Record<string, unknown> }>;
    };
    expect(Object.keys(record.senders[alice.userId]!.seen)).toHaveLength(REMEMBERED_COUNTERS);
    expect(room.open(fromAlice.next('still new'), identityKeyOf).status).toBe('new');
  });

  it('survives a round trip through its record: chain, keys, senders, own counter, held messages', () => {
    const one = fromAlice.next('one');
    room.open(one, identityKeyOf);
    room.noteSeq(5);
    room.recordOutgoing(1, new Uint8Array(32).fill(7));
    room.hold({ seq: 9, envelope: new Uint8Array([1, 2, 3]), sentAt: '2024-01-01T00:00:00Z' });
    room.info = { name: 'friends', topic: undefined, tags: ['a'] };
    const copy = RoomState.fromRecord(structuredClone(room.toRecord()), identityKeyOf);
    expect([...copy.members()]).toEqual([...room.members()]);
    expect(copy.roomKey(0)).toEqual(roomKey);
    expect(copy.lastSeq).toBe(5);
    expect(copy.info.name).toBe('friends');
    expect(copy.open(one, identityKeyOf).status).toBe('duplicate');
    expect(copy.nextOutgoing(bob.userId)).toEqual({
      counter: 2,
      prevHash: new Uint8Array(32).fill(7),
    });
    expect(copy.takeHeld()).toEqual([
      { seq: 9, envelope: new Uint8Array([1, 2, 3]), sentAt: '2024-01-01T00:00:00Z' },
    ]);
    expect(copy.noteSeq(5)).toBe(false);
    expect(copy.noteSeq(6)).toBe(true);
  });
});

function findBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
