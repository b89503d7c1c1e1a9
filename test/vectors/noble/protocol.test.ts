import { describe, expect, it } from 'vitest';
import { ascii, canon, concat, equalBytes, toHex, u64 } from './encoding';
import { padPayload } from './padding';
import { aeadEncrypt, boxKeyPair, hash, sign, signKeyPair } from './primitives';
import {
  ProtocolFailure,
  ChainFailure,
  classifyMessage,
  decryptAttachment,
  membershipEntryHash,
  encodeHeader,
  encodePayload,
  fingerprint,
  messageKey,
  openBackup,
  openMessage,
  openRoomKeyEnvelope,
  replayMembershipChain,
  safetyNumber,
  sealMessage,
  type MessageHeader,
  type MessagePayload,
  type MessageReceiver,
} from './protocol';
import {
  ChainBuilderForTests,
  encryptAttachmentForTests,
  membershipEntryForTests,
  roomPolicyForTests,
  sealForTests,
} from './test-support';
import {
  SecretStreamPushForTests,
  TAG_FINAL,
  TAG_MESSAGE,
  TAG_PUSH,
  TAG_REKEY,
} from './secretstream';

interface User {
  id: Uint8Array;
  seed: Uint8Array;
  publicKey: Uint8Array;
}

function user(): User {
  const seed = random(32);
  return { id: random(16), seed, publicKey: signKeyPair(seed).publicKey };
}

function random(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call.
  for (let offset = 0; offset < length; offset += 65536) {
    crypto.getRandomValues(out.subarray(offset, offset + 65536));
  }
  return out;
}

const EMPTY = new Uint8Array(0);
const [alice, bob, carol, dave] = [user(), user(), user(), user()];
const keyOf = (hex: string) =>
  [alice, bob, carol, dave].find((u) => toHex(u.id) === hex)?.publicKey;

function expectFailure(action: () => unknown, code: string): ProtocolFailure {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolFailure);
    expect((error as ProtocolFailure).code).toBe(code);
    return error as ProtocolFailure;
  }
  throw new Error(`expected ${code}, but it was accepted`);
}

describe('safety number (§3.3)', () => {
  it('orders the two fingerprints so both sides compute the same number', () => {
    const a = fingerprint(alice.id, alice.publicKey);
    const b = fingerprint(bob.id, bob.publicKey);
    const ab = safetyNumber(a, b);
    expect(safetyNumber(b, a)).toEqual(ab);
    expect(ab.digits).toMatch(/^\d{60}$/);
    const [first] = [toHex(a), toHex(b)].sort();
    expect(ab.qrPayload.startsWith(`parley:v1:safety:${first}:`)).toBe(true);
  });

  it('reads 5-byte big-endian chunks mod 100000', () => {
    // A fingerprint of all 0xff bytes: each chunk is 2^40 - 1 = 1099511627775.
    const ones = new Uint8Array(32).fill(0xff);
    expect(safetyNumber(ones, ones).digits).toBe('27775'.repeat(12));
  });
});

describe('membership chain (§5)', () => {
  it('replays a group: add, promote, remove, demote, leave', () => {
    const roomId = random(16);
    const chain = new ChainBuilderForTests(roomId);
    chain.append(alice, 'genesis', EMPTY, roomPolicyForTests('group'));
    chain.append(alice, 'add', bob.id);
    chain.append(alice, 'add', carol.id);
    chain.append(alice, 'promote', bob.id);
    chain.append(bob, 'remove', carol.id);
    chain.append(bob, 'demote', alice.id);
    chain.append(alice, 'leave', alice.id);
    const states = replayMembershipChain(roomId, chain.entries, keyOf);
    expect(states.map((s) => s.epoch)).toEqual([0, 0, 0, 0, 1, 1, 2]);
    expect(states.map((s) => s.position)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Object.fromEntries(states[3]!.members)).toEqual({
      [toHex(alice.id)]: 'admin',
      [toHex(bob.id)]: 'admin',
      [toHex(carol.id)]: 'member',
    });
    expect(Object.fromEntries(states[6]!.members)).toEqual({ [toHex(bob.id)]: 'admin' });
    expect(toHex(states[1]!.hash)).toBe(
      toHex(hash(canon('parley/v1/membership-hash', chain.entries[1]!))),
    );
  });

  it('lets any channel member admit, and a direct conversation only leave', () => {
    const channelId = random(16);
    const channel = new ChainBuilderForTests(channelId);
    channel.append(alice, 'genesis', EMPTY, roomPolicyForTests('channel'));
    channel.append(alice, 'add', bob.id);
    channel.append(bob, 'admit', carol.id);
    expect(replayMembershipChain(channelId, channel.entries, keyOf).at(-1)!.members.size).toBe(3);

    const directId = random(16);
    const direct = new ChainBuilderForTests(directId);
    direct.append(alice, 'genesis', EMPTY, roomPolicyForTests('direct', bob.id));
    direct.append(bob, 'leave', bob.id);
    const states = replayMembershipChain(directId, direct.entries, keyOf);
    expect(Object.fromEntries(states[0]!.members)).toEqual({
      [toHex(alice.id)]: 'member',
      [toHex(bob.id)]: 'member',
    });
    expect(states[1]!.epoch).toBe(1);
    direct.append(alice, 'add', carol.id);
    expectChainFailure(directId, direct.entries, 'CHAIN_ACTOR_NOT_ALLOWED', 2);
  });

  it('names the code and the first failing entry', () => {
    const roomId = random(16);
    const base = () => {
      const chain = new ChainBuilderForTests(roomId);
      chain.append(alice, 'genesis', EMPTY, roomPolicyForTests('group'));
      chain.append(alice, 'add', bob.id);
      return chain;
    };
    // CHAIN_MALFORMED: undecodable entry, and an entry naming another room.
    expectChainFailure(roomId, [...base().entries, ascii('junk')], 'CHAIN_MALFORMED', 2);
    const otherRoom = new ChainBuilderForTests(random(16));
    otherRoom.append(alice, 'genesis', EMPTY, roomPolicyForTests('group'));
    expectChainFailure(roomId, otherRoom.entries, 'CHAIN_MALFORMED', 0);
    // CHAIN_UNKNOWN_ENTRY_TYPE
    const unknownOp = base();
    unknownOp.append(alice, 'invite', carol.id);
    expectChainFailure(roomId, unknownOp.entries, 'CHAIN_UNKNOWN_ENTRY_TYPE', 2);
    // CHAIN_FORK: a second entry at position 1, properly linked to the genesis.
    const fork = base();
    const rival = membershipEntryForTests(
      {
        roomId,
        position: 1,
        prevHash: membershipEntryHash(fork.entries[0]!),
        actorId: alice.id,
        op: 'add',
        subjectId: carol.id,
        data: EMPTY,
      },
      alice.seed,
    );
    expectChainFailure(roomId, [...fork.entries, rival], 'CHAIN_FORK', 2);
    // CHAIN_BROKEN_LINK: an entry skipped.
    const skipped = base();
    skipped.append(alice, 'add', carol.id);
    expectChainFailure(roomId, [skipped.entries[0]!, skipped.entries[2]!], 'CHAIN_BROKEN_LINK', 1);
    // CHAIN_BAD_GENESIS: a chain not starting with a genesis, a direct room with oneself.
    expectChainFailure(roomId, base().entries.slice(1), 'CHAIN_BAD_GENESIS', 0);
    const selfDirect = new ChainBuilderForTests(roomId);
    selfDirect.append(alice, 'genesis', EMPTY, roomPolicyForTests('direct', alice.id));
    expectChainFailure(roomId, selfDirect.entries, 'CHAIN_BAD_GENESIS', 0);
    const peeredGroup = new ChainBuilderForTests(roomId);
    peeredGroup.append(alice, 'genesis', EMPTY, roomPolicyForTests('group', bob.id));
    expectChainFailure(roomId, peeredGroup.entries, 'CHAIN_BAD_GENESIS', 0);
    // CHAIN_UNKNOWN_ACTOR
    const stranger = base();
    const nobody = user();
    stranger.append(nobody, 'leave', nobody.id);
    expectChainFailure(roomId, stranger.entries, 'CHAIN_UNKNOWN_ACTOR', 2);
    // CHAIN_BAD_SIGNATURE: carol's id, dave's key.
    const forged = base();
    forged.append({ ...dave, id: carol.id }, 'leave', carol.id);
    expectChainFailure(roomId, forged.entries, 'CHAIN_BAD_SIGNATURE', 2);
    // CHAIN_ACTOR_NOT_ALLOWED: a member adding, an admin removing itself, a second genesis.
    for (const [actor, op, subject] of [
      [bob, 'add', carol.id],
      [alice, 'remove', alice.id],
      [alice, 'demote', bob.id],
      [alice, 'admit', carol.id],
      [alice, 'add', bob.id],
      [carol, 'leave', carol.id],
    ] as const) {
      const chain = base();
      chain.append(actor, op, subject);
      expectChainFailure(roomId, chain.entries, 'CHAIN_ACTOR_NOT_ALLOWED', 2);
    }
    const again = base();
    again.append(alice, 'genesis', EMPTY, roomPolicyForTests('group'));
    expectChainFailure(roomId, again.entries, 'CHAIN_ACTOR_NOT_ALLOWED', 2);
  });
});

function expectChainFailure(
  roomId: Uint8Array,
  entries: Uint8Array[],
  code: string,
  failedAt: number,
): void {
  const failure = expectFailure(() => replayMembershipChain(roomId, entries, keyOf), code);
  expect(failure).toBeInstanceOf(ChainFailure);
  expect((failure as ChainFailure).failedAt).toBe(failedAt);
}

describe('room-key envelope (§4)', () => {
  const roomId = random(16);
  const recipientSeed = random(32);
  const recipient = boxKeyPair(recipientSeed);
  const roomKey = random(32);

  function envelope(options: { sealed?: Uint8Array; signer?: User; epoch?: number } = {}) {
    const sealed = options.sealed ?? sealForTests(roomKey, recipient.publicKey);
    const epoch = u64(options.epoch ?? 3);
    const sigInput = canon('parley/v1/room-key', roomId, epoch, bob.id, alice.id, hash(sealed));
    const signature = sign((options.signer ?? alice).seed, sigInput);
    return canon('parley/v1/room-key-envelope', roomId, epoch, bob.id, alice.id, sealed, signature);
  }

  const request = {
    expectedRoomId: roomId,
    expectedEpoch: 3,
    recipientId: bob.id,
    recipientEncryptionSeed: recipientSeed,
    distributorIdentityPublicKey: alice.publicKey,
    distributorEntitled: true,
  };

  it('opens to the room key', () => {
    expect(openRoomKeyEnvelope(envelope(), request)).toEqual(roomKey);
  });

  it('checks in the order of §4', () => {
    expectFailure(() => openRoomKeyEnvelope(envelope().subarray(1), request), 'ENVELOPE_MALFORMED');
    expectFailure(
      () => openRoomKeyEnvelope(envelope(), { ...request, expectedRoomId: random(16) }),
      'ENVELOPE_WRONG_ROOM',
    );
    expectFailure(
      () => openRoomKeyEnvelope(envelope({ epoch: 4 }), request),
      'ENVELOPE_WRONG_EPOCH',
    );
    expectFailure(
      () => openRoomKeyEnvelope(envelope(), { ...request, recipientId: carol.id }),
      'ENVELOPE_WRONG_RECIPIENT',
    );
    expectFailure(
      () => openRoomKeyEnvelope(envelope({ signer: dave }), request),
      'ENVELOPE_BAD_SIGNATURE',
    );
    expectFailure(
      () => openRoomKeyEnvelope(envelope(), { ...request, distributorEntitled: false }),
      'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
    );
    expectFailure(
      () =>
        openRoomKeyEnvelope(
          envelope({ sealed: sealForTests(random(31), recipient.publicKey) }),
          request,
        ),
      'ENVELOPE_DECRYPT_FAILED',
    );
    expectFailure(
      () => openRoomKeyEnvelope(envelope({ sealed: random(80) }), request),
      'ENVELOPE_DECRYPT_FAILED',
    );
  });
});

describe('messages (§6)', () => {
  const roomId = random(16);
  const roomKey = random(32);
  const receiver: MessageReceiver = {
    roomId,
    senderId: alice.id,
    senderIdentityPublicKey: alice.publicKey,
    senderIsMember: true,
    epoch: 2,
    roomKey,
  };
  const header = (overrides: Partial<MessageHeader> = {}): MessageHeader => ({
    version: 1,
    roomId,
    epoch: 2,
    senderId: alice.id,
    counter: 1,
    messageId: random(16),
    clientTime: 1_700_000_000_000,
    prevHash: EMPTY,
    ...overrides,
  });
  const payload: MessagePayload = {
    kind: 'text',
    text: 'hello **world** 🌍',
    replyTo: EMPTY,
    target: EMPTY,
    attachments: [
      canon(
        'parley/v1/attachment',
        ascii('blob-1'),
        random(32),
        random(32),
        u64(5),
        ascii('text/plain'),
        ascii('a.txt'),
      ),
    ],
    extra: EMPTY,
  };

  /** Seals arbitrary plaintext bytes, to reach the padding and payload checks. */
  function sealRaw(h: MessageHeader, plaintext: Uint8Array, key = roomKey): Uint8Array {
    const headerBytes = encodeHeader(h);
    const nonce = random(24);
    const ciphertext = aeadEncrypt(
      messageKey(key, h.roomId, h.epoch),
      nonce,
      headerBytes,
      plaintext,
    );
    const signature = sign(alice.seed, canon('parley/v1/message', headerBytes, nonce, ciphertext));
    return canon('parley/v1/message-envelope', headerBytes, nonce, ciphertext, signature);
  }

  it('opens what was sealed and hashes the envelope', () => {
    const h = header();
    const envelope = sealMessage(h, payload, roomKey, random(24), alice.seed);
    const opened = openMessage(envelope, receiver);
    expect(toHex(encodeHeader(opened.header))).toBe(toHex(encodeHeader(h)));
    expect(toHex(encodePayload(opened.payload))).toBe(toHex(encodePayload(payload)));
    expect(opened.payload.text).toBe(payload.text);
    expect(toHex(opened.messageHash)).toBe(toHex(hash(canon('parley/v1/message-hash', envelope))));
  });

  it('checks in the order of §6.5', () => {
    const good = header();
    expectFailure(() => openMessage(ascii('junk'), receiver), 'MESSAGE_MALFORMED');
    expectFailure(
      () =>
        openMessage(sealRaw(header({ counter: 0 }), padPayload(encodePayload(payload))), receiver),
      'MESSAGE_MALFORMED',
    );
    expectFailure(
      () =>
        openMessage(sealRaw(header({ counter: 2 }), padPayload(encodePayload(payload))), receiver),
      'MESSAGE_MALFORMED',
    );
    expectFailure(
      () =>
        openMessage(
          sealMessage(header({ version: 2 }), payload, roomKey, random(24), alice.seed),
          receiver,
        ),
      'MESSAGE_UNSUPPORTED_VERSION',
    );
    const envelope = sealMessage(good, payload, roomKey, random(24), alice.seed);
    expectFailure(
      () => openMessage(envelope, { ...receiver, roomId: random(16) }),
      'MESSAGE_WRONG_ROOM',
    );
    expectFailure(
      () => openMessage(envelope, { ...receiver, senderIdentityPublicKey: bob.publicKey }),
      'MESSAGE_BAD_SIGNATURE',
    );
    expectFailure(
      () => openMessage(envelope, { ...receiver, senderId: bob.id }),
      'MESSAGE_BAD_SIGNATURE',
    );
    expectFailure(
      () => openMessage(envelope, { ...receiver, senderIsMember: false }),
      'MESSAGE_SENDER_NOT_MEMBER',
    );
    expectFailure(
      () => openMessage(envelope, { ...receiver, roomKey: undefined }),
      'MESSAGE_UNKNOWN_EPOCH',
    );
    expectFailure(() => openMessage(envelope, { ...receiver, epoch: 1 }), 'MESSAGE_UNKNOWN_EPOCH');
    expectFailure(
      () => openMessage(envelope, { ...receiver, roomKey: random(32) }),
      'MESSAGE_DECRYPT_FAILED',
    );
    expectFailure(
      () => openMessage(sealRaw(good, concat(encodePayload(payload), new Uint8Array(8))), receiver),
      'MESSAGE_BAD_PADDING',
    );
    expectFailure(
      () => openMessage(sealRaw(good, padPayload(ascii('not a payload'))), receiver),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
    const badDescriptor = { ...payload, attachments: [ascii('junk')] };
    expectFailure(
      () => openMessage(sealRaw(good, padPayload(encodePayload(badDescriptor))), receiver),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
    const badKind = canon('parley/v1/payload', ascii('poll'), EMPTY, EMPTY, EMPTY, EMPTY, EMPTY);
    expectFailure(
      () => openMessage(sealRaw(good, padPayload(badKind)), receiver),
      'MESSAGE_MALFORMED_PAYLOAD',
    );
  });

  it('classifies against what was seen from the sender', () => {
    const h = (n: number) => hash(ascii(`message ${n}`));
    const seen = new Map([
      [1, h(1)],
      [2, h(2)],
      [4, h(4)],
    ]);
    expect(classifyMessage(1, EMPTY, h(1), new Map())).toBe('new');
    expect(classifyMessage(5, h(4), h(5), seen)).toBe('new');
    expect(classifyMessage(2, h(1), h(2), seen)).toBe('duplicate');
    expect(classifyMessage(2, h(1), h(9), seen)).toBe('fork');
    expect(classifyMessage(3, h(2), h(3), seen)).toBe('out-of-order');
    expect(classifyMessage(3, h(9), h(3), seen)).toBe('fork');
    expect(classifyMessage(5, h(9), h(5), seen)).toBe('fork');
    expect(classifyMessage(7, h(6), h(7), seen)).toBe('gap');
    expect(classifyMessage(2, h(1), h(2), new Map([[3, h(3)]]))).toBe('out-of-order');
  });
});

describe('attachments (§8)', () => {
  const fileKey = random(32);

  it.each([0, 1, 65536, 65537, 150000])('decrypts a %i-byte attachment', (size) => {
    const plaintext = random(size);
    const blob = encryptAttachmentForTests(plaintext, fileKey);
    expect(blob).toHaveLength(24 + size + 17 * (Math.floor(size / 65536) + 1));
    expect(equalBytes(decryptAttachment(blob, fileKey, hash(blob), size), plaintext)).toBe(true);
  });

  it('checks hash, header, chunks, final tag and size', () => {
    const plaintext = random(70000);
    const blob = encryptAttachmentForTests(plaintext, fileKey);
    const open =
      (bytes: Uint8Array, size = 70000) =>
      () =>
        decryptAttachment(bytes, fileKey, hash(bytes), size);
    expectFailure(
      () => decryptAttachment(blob, fileKey, hash(random(1)), 70000),
      'ATTACHMENT_HASH_MISMATCH',
    );
    expectFailure(open(blob.subarray(0, 23)), 'ATTACHMENT_MALFORMED');
    const tampered = blob.slice();
    tampered[100]! ^= 1;
    expectFailure(open(tampered), 'ATTACHMENT_DECRYPT_FAILED');
    expectFailure(open(blob.subarray(0, 24 + 65553)), 'ATTACHMENT_TRUNCATED');
    expectFailure(open(blob.subarray(0, 24)), 'ATTACHMENT_TRUNCATED');
    // Trailing bytes merge into the last (short) chunk read, which then fails to decrypt.
    expectFailure(open(concat(blob, random(20))), 'ATTACHMENT_DECRYPT_FAILED');
    expectFailure(open(blob.subarray(0, blob.length - 1)), 'ATTACHMENT_DECRYPT_FAILED');
    expectFailure(open(blob, 69999), 'ATTACHMENT_MALFORMED');
  });
});

describe('attachment streams a writer following §8 would not produce', () => {
  const fileKey = random(32);
  const stream = (...chunks: [Uint8Array, number][]) => {
    const header = random(24);
    const push = new SecretStreamPushForTests(fileKey, header);
    return concat(header, ...chunks.map(([chunk, tag]) => push.push(chunk, tag)));
  };
  const open = (blob: Uint8Array, size: number) => () =>
    decryptAttachment(blob, fileKey, hash(blob), size);

  it('rejects a chunk after TAG_FINAL as truncated', () => {
    const blob = stream([random(65536), TAG_FINAL], [random(10), TAG_MESSAGE]);
    expectFailure(open(blob, 65546), 'ATTACHMENT_TRUNCATED');
  });

  it('rejects a last chunk without TAG_FINAL as truncated', () => {
    expectFailure(open(stream([random(10), TAG_MESSAGE]), 10), 'ATTACHMENT_TRUNCATED');
  });

  it('rejects tags other than TAG_MESSAGE and TAG_FINAL as malformed', () => {
    expectFailure(
      open(stream([random(65536), TAG_PUSH], [random(1), TAG_FINAL]), 65537),
      'ATTACHMENT_MALFORMED',
    );
    expectFailure(open(stream([random(5), TAG_REKEY]), 5), 'ATTACHMENT_MALFORMED');
  });
});

describe('backup checks before the key derivation (§7)', () => {
  const userId = random(16);
  const blob = (version: number, ops: number, mem: number, owner = userId) =>
    canon(
      'parley/v1/backup-blob',
      u64(version),
      owner,
      random(16),
      u64(ops),
      u64(mem),
      random(24),
      random(80),
    );
  const MiB = 1024 * 1024;

  it.each([
    ['BACKUP_MALFORMED', ascii('junk')],
    ['BACKUP_UNSUPPORTED_VERSION', blob(2, 3, 256 * MiB)],
    ['BACKUP_WRONG_USER', blob(1, 3, 256 * MiB, random(16))],
    ['BACKUP_PARAMS_TOO_WEAK', blob(1, 2, 256 * MiB)],
    ['BACKUP_PARAMS_TOO_WEAK', blob(1, 3, 256 * MiB - 1)],
    ['BACKUP_PARAMS_TOO_HIGH', blob(1, 17, 256 * MiB)],
    ['BACKUP_PARAMS_TOO_HIGH', blob(1, 3, 1024 * MiB + 1)],
  ] as const)('rejects with %s', async (code, bytes) => {
    await expect(openBackup(bytes, userId, 'passphrase')).rejects.toMatchObject({ code });
  });
});
