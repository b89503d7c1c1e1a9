// Generates the protocol test vectors (test/vectors/<operation>.json) from fixed seeds with
// @parley/crypto. Every random input (seeds, ids, nonces, salts, ephemeral keys, stream headers) is
// derived from a name, so a second run writes the same bytes. Invalid cases that the library
// refuses to build (wrong labels, bad lengths, forged links) are assembled here with libsodium.
//
//   pnpm vectors          writes the files
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ascii,
  bucket,
  canon,
  createGenesis,
  createMembershipEntry,
  deriveBackupKey,
  deriveMessageKey,
  encodeHeader,
  encodeList,
  encodePayload,
  encryptAttachment,
  encryptMessage,
  encryptionKeyPair,
  fingerprint,
  identityKeyPair,
  membershipEntryHash,
  ready,
  safetyNumber,
  sealBackup,
  sealBackupWithKey,
  sealForDevice,
  sealRoomKey,
  signEncryptionKey,
  toHex,
  u64,
  utf8,
  verifyMembershipChain,
  type BackupSecrets,
  type EncryptionKeyPair,
  type IdentityKeyPair,
  type MembershipOp,
  type MessageHeader,
  type MessagePayloadInput,
  type RoomKind,
} from '@parley/crypto';
import sodium from 'libsodium-wrappers-sumo';
import { headerJson, payloadJson } from './message-json';
import { VECTOR_OPERATIONS, type VectorCase, type VectorFile, type VectorOperation } from './types';

const VECTOR_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Generates every file; returns its JSON text by operation. */
export async function generateVectors(): Promise<Map<VectorOperation, string>> {
  await ready();
  await sodium.ready;
  const files = new Map<VectorOperation, string>();
  const generators: Record<VectorOperation, () => VectorFile> = {
    identity: identityVectors,
    fingerprint: fingerprintVectors,
    'room-key': roomKeyVectors,
    membership: membershipVectors,
    message: messageVectors,
    backup: backupVectors,
    attachment: attachmentVectors,
    'device-seal': deviceSealVectors,
  };
  for (const operation of VECTOR_OPERATIONS) {
    files.set(operation, `${JSON.stringify(generators[operation](), null, 2)}\n`);
  }
  return files;
}

export function vectorPath(operation: VectorOperation): string {
  return `${VECTOR_DIR}${operation}.json`;
}

// ---------------------------------------------------------------------------------------------
// §3.2 identity.json

function identityVectors(): VectorFile {
  const file = new VectorFileBuilder(
    'identity',
    'Encryption-key bindings signed by identity keys (PROTOCOL.md §3.2).',
  );
  const binding = (u: User, version: number) => ({
    userId: u.id,
    identityPublicKey: u.identity.publicKey,
    encryptionPublicKey: u.encryption.publicKey,
    version,
  });
  const signBinding = (u: User, version: number) =>
    signEncryptionKey(u.identity, {
      userId: u.id,
      encryptionPublicKey: u.encryption.publicKey,
      version,
    });
  const rawSignature = (signer: User, label: string, fields: ReturnType<typeof binding>) =>
    sodium.crypto_sign_detached(
      canon(label, [
        fields.userId,
        fields.identityPublicKey,
        fields.encryptionPublicKey,
        u64(fields.version),
      ]),
      signer.identity.secretKey,
    );

  for (const [u, version] of [
    [alice, 1],
    [bob, 7],
  ] as const) {
    file.valid(`${u.name}'s encryption key at version ${version}`, {
      ...binding(u, version),
      signature: signBinding(u, version),
      identitySeed: u.identitySeed,
      encryptionSeed: u.encryptionSeed,
    });
  }
  const good = { ...binding(alice, 2), signature: signBinding(alice, 2) };
  file.invalid('signature by another identity key', 'IDENTITY_BAD_SIGNATURE', {
    ...good,
    signature: rawSignature(mallory, 'parley/v1/encryption-key', binding(alice, 2)),
  });
  file.invalid('last signature byte flipped', 'IDENTITY_BAD_SIGNATURE', {
    ...good,
    signature: flip(good.signature, 63),
  });
  file.invalid(
    'the same fields signed under another label (parley/v1/fingerprint)',
    'IDENTITY_BAD_SIGNATURE',
    {
      ...good,
      signature: rawSignature(alice, 'parley/v1/fingerprint', binding(alice, 2)),
    },
  );
  file.invalid(
    'signed for version 2, presented as version 3 (rollback/forward)',
    'IDENTITY_BAD_SIGNATURE',
    {
      ...good,
      version: 3,
    },
  );
  file.invalid("alice's binding presented for bob's user id", 'IDENTITY_BAD_SIGNATURE', {
    ...good,
    userId: bob.id,
  });
  file.invalid('encryption key swapped for mallory’s', 'IDENTITY_BAD_SIGNATURE', {
    ...good,
    encryptionPublicKey: mallory.encryption.publicKey,
  });
  file.invalid('version 0 (versions start at 1), validly signed', 'IDENTITY_MALFORMED', {
    ...binding(alice, 0),
    signature: rawSignature(alice, 'parley/v1/encryption-key', binding(alice, 0)),
  });
  file.invalid('truncated signature (63 bytes)', 'IDENTITY_MALFORMED', {
    ...good,
    signature: good.signature.subarray(0, 63),
  });
  file.invalid('identity key of 31 bytes', 'IDENTITY_MALFORMED', {
    ...good,
    identityPublicKey: good.identityPublicKey.subarray(0, 31),
  });
  file.invalid('user id of 15 bytes', 'IDENTITY_MALFORMED', {
    ...good,
    userId: good.userId.subarray(0, 15),
  });
  file.invalid('encryption key of 33 bytes', 'IDENTITY_MALFORMED', {
    ...good,
    encryptionPublicKey: concat(good.encryptionPublicKey, new Uint8Array([0])),
  });
  return file.build();
}

// ---------------------------------------------------------------------------------------------
// §3.3 fingerprint.json

function fingerprintVectors(): VectorFile {
  const file = new VectorFileBuilder(
    'fingerprint',
    'Fingerprints, safety numbers and QR payloads (PROTOCOL.md §3.3); invalid cases compare a scanned QR payload.',
  );
  const pair = (a: User, b: User) => ({
    userIdA: a.id,
    identityPublicKeyA: a.identity.publicKey,
    userIdB: b.id,
    identityPublicKeyB: b.identity.publicKey,
  });
  const expected = (a: User, b: User) => {
    const number = safetyNumber(
      { userId: a.id, identityPublicKey: a.identity.publicKey },
      { userId: b.id, identityPublicKey: b.identity.publicKey },
    );
    return {
      fingerprintA: fingerprint(a.id, a.identity.publicKey),
      fingerprintB: fingerprint(b.id, b.identity.publicKey),
      safetyNumber: number.digits,
      qrPayload: number.qrPayload,
    };
  };
  const smallerFirst =
    compare(
      fingerprint(alice.id, alice.identity.publicKey),
      fingerprint(bob.id, bob.identity.publicKey),
    ) < 0;
  file.valid(`alice and bob (A's fingerprint is the ${smallerFirst ? 'smaller' : 'larger'})`, {
    ...pair(alice, bob),
    ...expected(alice, bob),
  });
  file.valid('bob and alice: the same safety number from the other side', {
    ...pair(bob, alice),
    ...expected(bob, alice),
  });
  file.valid('carol and dave', { ...pair(carol, dave), ...expected(carol, dave) });
  file.valid('alice and carol, with a scanned QR payload that matches', {
    ...pair(alice, carol),
    ...expected(alice, carol),
    scannedQrPayload: expected(alice, carol).qrPayload,
  });
  const aliceBob = expected(alice, bob).qrPayload;
  file.invalid(
    "scanned the QR code of alice and mallory, who holds a key under bob's id",
    'SAFETY_NUMBER_MISMATCH',
    {
      ...pair(alice, bob),
      scannedQrPayload: safetyNumber(
        { userId: alice.id, identityPublicKey: alice.identity.publicKey },
        { userId: bob.id, identityPublicKey: mallory.identity.publicKey },
      ).qrPayload,
    },
  );
  const [, , , first, second] = aliceBob.split(':');
  file.invalid(
    'scanned payload with the fingerprints in the other order',
    'SAFETY_NUMBER_MISMATCH',
    {
      ...pair(alice, bob),
      scannedQrPayload: `parley:v1:safety:${second}:${first}`,
    },
  );
  file.invalid('scanned payload in uppercase hex', 'SAFETY_NUMBER_MISMATCH', {
    ...pair(alice, bob),
    scannedQrPayload: `parley:v1:safety:${first!.toUpperCase()}:${second!.toUpperCase()}`,
  });
  file.invalid('scanned payload cut short', 'SAFETY_NUMBER_MISMATCH', {
    ...pair(alice, bob),
    scannedQrPayload: aliceBob.slice(0, -2),
  });
  file.invalid('identity key of 31 bytes', 'IDENTITY_MALFORMED', {
    ...pair(alice, bob),
    identityPublicKeyB: bob.identity.publicKey.subarray(0, 31),
  });
  return file.build();
}

// ---------------------------------------------------------------------------------------------
// §4 room-key.json

function roomKeyVectors(): VectorFile {
  const file = new VectorFileBuilder(
    'room-key',
    'Room-key envelopes (PROTOCOL.md §4): sealed to the recipient, signed by the distributor.',
  );
  const roomId = bytesFor('room-key/room', 16);
  const roomKey = bytesFor('room-key/key', 32);
  const seal = (epoch: number, name: string) =>
    sealRoomKey(
      {
        roomKey,
        roomId,
        epoch,
        recipientId: bob.id,
        recipientEncryptionKey: bob.encryption.publicKey,
        distributorId: alice.id,
        distributor: alice.identity,
      },
      bytesFor(`room-key/ephemeral/${name}`, 32),
    );
  const request = (epoch: number) => ({
    expectedRoomId: roomId,
    expectedEpoch: epoch,
    recipientId: bob.id,
    recipientEncryptionSeed: bob.encryptionSeed,
    distributorIdentityPublicKey: alice.identity.publicKey,
    distributorEntitled: true,
  });
  /** An envelope assembled by hand: any sealed bytes, signed under any label by anyone. */
  const forged = (o: {
    sealed: Uint8Array;
    epoch?: Uint8Array;
    recipientId?: Uint8Array;
    signer?: User;
    signedRecipient?: Uint8Array;
    label?: string;
    envelopeLabel?: string;
    signature?: (s: Uint8Array) => Uint8Array;
  }) => {
    const epoch = o.epoch ?? u64(4);
    const recipientId = o.recipientId ?? bob.id;
    const input = canon(o.label ?? 'parley/v1/room-key', [
      roomId,
      epoch,
      o.signedRecipient ?? recipientId,
      alice.id,
      sodium.crypto_generichash(32, o.sealed, null),
    ]);
    const signature = sodium.crypto_sign_detached(input, (o.signer ?? alice).identity.secretKey);
    return canon(o.envelopeLabel ?? 'parley/v1/room-key-envelope', [
      roomId,
      epoch,
      recipientId,
      alice.id,
      o.sealed,
      o.signature?.(signature) ?? signature,
    ]);
  };
  const sealedTo = (u: User, message: Uint8Array, name: string) =>
    deterministicSeal(message, u.encryption.publicKey, bytesFor(`room-key/ephemeral/${name}`, 32));

  file.valid('alice hands bob the key of epoch 0', {
    ...request(0),
    envelope: seal(0, 'epoch-0'),
    roomKey,
  });
  file.valid('alice hands bob the key of epoch 4', {
    ...request(4),
    envelope: seal(4, 'epoch-4'),
    roomKey,
  });
  const envelope = seal(4, 'epoch-4');
  file.invalid('envelope truncated by one byte', 'ENVELOPE_MALFORMED', {
    ...request(4),
    envelope: envelope.subarray(0, -1),
  });
  file.invalid('one byte appended', 'ENVELOPE_MALFORMED', {
    ...request(4),
    envelope: concat(envelope, new Uint8Array([0])),
  });
  file.invalid(
    'envelope blob under another label (parley/v1/message-envelope)',
    'ENVELOPE_MALFORMED',
    {
      ...request(4),
      envelope: forged({
        sealed: sealedTo(bob, roomKey, 'label'),
        envelopeLabel: 'parley/v1/message-envelope',
      }),
    },
  );
  file.invalid('signature field of 63 bytes', 'ENVELOPE_MALFORMED', {
    ...request(4),
    envelope: forged({
      sealed: sealedTo(bob, roomKey, 'short-signature'),
      signature: (s) => s.subarray(0, 63),
    }),
  });
  file.invalid('epoch field not below 2^53', 'ENVELOPE_MALFORMED', {
    ...request(4),
    envelope: forged({
      sealed: sealedTo(bob, roomKey, 'huge-epoch'),
      epoch: new Uint8Array([0, 0x20, 0, 0, 0, 0, 0, 4]),
    }),
  });
  file.invalid('an envelope for another room', 'ENVELOPE_WRONG_ROOM', {
    ...request(4),
    expectedRoomId: bytesFor('room-key/other-room', 16),
    envelope,
  });
  file.invalid(
    'an envelope for epoch 4 when epoch 5 was asked for (replayed old key)',
    'ENVELOPE_WRONG_EPOCH',
    {
      ...request(5),
      envelope,
    },
  );
  file.invalid("bob's envelope delivered to carol", 'ENVELOPE_WRONG_RECIPIENT', {
    ...request(4),
    recipientId: carol.id,
    recipientEncryptionSeed: carol.encryptionSeed,
    envelope,
  });
  file.invalid(
    "bob's envelope re-addressed to carol (recipient field changed after signing)",
    'ENVELOPE_BAD_SIGNATURE',
    {
      ...request(4),
      recipientId: carol.id,
      recipientEncryptionSeed: carol.encryptionSeed,
      envelope: forged({
        sealed: sealedTo(carol, roomKey, 'readdressed'),
        recipientId: carol.id,
        signedRecipient: bob.id,
      }),
    },
  );
  file.invalid("signed by mallory, presented under alice's id", 'ENVELOPE_BAD_SIGNATURE', {
    ...request(4),
    envelope: forged({
      sealed: sealedTo(bob, bytesFor('room-key/mallory-key', 32), 'mallory'),
      signer: mallory,
    }),
  });
  file.invalid(
    'sealed box swapped for one the server made (signature over the original)',
    'ENVELOPE_BAD_SIGNATURE',
    {
      ...request(4),
      envelope: replaceField(
        envelope,
        'parley/v1/room-key-envelope',
        4,
        sealedTo(bob, bytesFor('room-key/server-key', 32), 'server'),
      ),
    },
  );
  file.invalid(
    'the same fields signed under another label (parley/v1/membership)',
    'ENVELOPE_BAD_SIGNATURE',
    {
      ...request(4),
      envelope: forged({
        sealed: sealedTo(bob, roomKey, 'other-label'),
        label: 'parley/v1/membership',
      }),
    },
  );
  file.invalid(
    'a distributor the chain does not entitle for this epoch and recipient',
    'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
    {
      ...request(4),
      distributorEntitled: false,
      envelope,
    },
  );
  file.invalid("validly signed, but sealed to carol's key", 'ENVELOPE_DECRYPT_FAILED', {
    ...request(4),
    envelope: forged({ sealed: sealedTo(carol, roomKey, 'to-carol') }),
  });
  file.invalid('validly signed sealed box holding 31 bytes', 'ENVELOPE_DECRYPT_FAILED', {
    ...request(4),
    envelope: forged({ sealed: sealedTo(bob, roomKey.subarray(0, 31), 'short-key') }),
  });
  file.invalid('validly signed sealed box holding 33 bytes', 'ENVELOPE_DECRYPT_FAILED', {
    ...request(4),
    envelope: forged({ sealed: sealedTo(bob, concat(roomKey, new Uint8Array([1])), 'long-key') }),
  });
  file.invalid('validly signed sealed box with a flipped tag byte', 'ENVELOPE_DECRYPT_FAILED', {
    ...request(4),
    envelope: forged({ sealed: flip(sealedTo(bob, roomKey, 'flipped'), 40) }),
  });
  return file.build();
}

// ---------------------------------------------------------------------------------------------
// §5 membership.json

function membershipVectors(): VectorFile {
  const file = new VectorFileBuilder(
    'membership',
    'Membership chains (PROTOCOL.md §5): states after every entry, or the first failing entry and its code.',
  );
  const roomId = bytesFor('membership/room', 16);
  const identityKeys = Object.fromEntries(
    [alice, bob, carol, dave].map((u) => [toHex(u.id), toHex(u.identity.publicKey)]),
  );
  type Step = [User, Exclude<MembershipOp, 'genesis'>, User, number?];
  const build = (kind: RoomKind, creator: User, steps: Step[], peer?: User): Uint8Array[] => {
    const entries = [
      createGenesis({
        roomId,
        kind,
        actorId: creator.id,
        actor: creator.identity,
        ...(peer === undefined ? {} : { peerId: peer.id }),
      }),
    ];
    for (const [actor, op, subject, timer] of steps) {
      entries.push(
        createMembershipEntry({
          roomId,
          previous: { position: entries.length - 1, hash: membershipEntryHash(entries.at(-1)!) },
          actorId: actor.id,
          actor: actor.identity,
          op,
          subjectId: subject.id,
          ...(timer === undefined ? {} : { timer }),
        }),
      );
    }
    return entries;
  };
  const states = (entries: Uint8Array[]) =>
    verifyMembershipChain(entries, roomId, (id) => {
      const key = identityKeys[toHex(id)];
      return key === undefined ? undefined : sodium.from_hex(key);
    }).map((state) => ({
      position: state.position,
      hash: toHex(state.hash),
      epoch: state.epoch,
      members: Object.fromEntries([...state.members].sort(([a], [b]) => (a < b ? -1 : 1))),
      timer: state.timer,
    }));
  const valid = (comment: string, entries: Uint8Array[]) =>
    file.valid(comment, { roomId, identityKeys, entries, states: states(entries) });
  const invalid = (
    comment: string,
    error: string,
    entries: Uint8Array[],
    failedAt = entries.length - 1,
    keys = identityKeys,
  ) => file.invalid(comment, error, { roomId, identityKeys: keys, entries, failedAt });
  /** An entry from raw fields, signed by anyone under any label. */
  const raw = (f: {
    position: number;
    prevHash: Uint8Array;
    actor: User;
    op: string;
    subject: Uint8Array;
    data?: Uint8Array;
    room?: Uint8Array;
    signer?: User;
    signedLabel?: string;
  }) => {
    const fields = [
      f.room ?? roomId,
      u64(f.position),
      f.prevHash,
      f.actor.id,
      ascii(f.op),
      f.subject,
      f.data ?? new Uint8Array(),
    ];
    const body = canon('parley/v1/membership', fields);
    const signed = f.signedLabel === undefined ? body : canon(f.signedLabel, fields);
    return canon('parley/v1/membership-entry', [
      body,
      sodium.crypto_sign_detached(signed, (f.signer ?? f.actor).identity.secretKey),
    ]);
  };
  const policy = (kind: string, peer: Uint8Array = new Uint8Array()) =>
    canon('parley/v1/room-policy', [ascii(kind), peer]);
  const genesis = (f: Partial<Parameters<typeof raw>[0]> = {}) =>
    raw({
      position: 0,
      prevHash: new Uint8Array(),
      actor: alice,
      op: 'genesis',
      subject: new Uint8Array(),
      data: policy('group'),
      ...f,
    });
  const none = new Uint8Array();

  const group = build('group', alice, [
    [alice, 'add', bob],
    [alice, 'add', carol],
    [alice, 'promote', bob],
    [bob, 'remove', carol],
    [alice, 'demote', bob],
    [bob, 'leave', bob],
  ]);
  valid('a group: add, add, promote, remove (new epoch), demote, leave (new epoch)', group);
  valid(
    'a channel: members admit newcomers, an admin adds and promotes, one leaves',
    build('channel', alice, [
      [alice, 'admit', bob],
      [bob, 'admit', carol],
      [alice, 'add', dave],
      [alice, 'promote', dave],
      [dave, 'remove', bob],
      [carol, 'leave', carol],
    ]),
  );
  valid(
    'a direct conversation, then one party leaves',
    build('direct', alice, [[bob, 'leave', bob]], bob),
  );
  valid('a group of one: the genesis entry alone', build('group', carol, []));
  valid(
    'a group admin sets a message timer of an hour, adds bob (the timer stays), then turns it off',
    build('group', alice, [
      [alice, 'set-timer', alice, 3600],
      [alice, 'add', bob],
      [alice, 'set-timer', alice, 0],
    ]),
  );
  valid(
    'either party of a direct conversation sets the timer, up to a year',
    build(
      'direct',
      alice,
      [
        [bob, 'set-timer', bob, 300],
        [alice, 'set-timer', alice, 365 * 24 * 3600],
      ],
      bob,
    ),
  );
  valid(
    'promoting someone who is already an admin changes nothing',
    build('group', alice, [[alice, 'promote', alice]]),
  );

  const base = build('group', alice, [[alice, 'add', bob]]);
  const h = (entries: Uint8Array[], i: number) => membershipEntryHash(entries[i]!);
  // Most invalid chains are `base` with a raw entry after its genesis (alice adds bob at 1) or
  // after its end (alice adds carol at 2), the named fields changed.
  const withSecond = (changed: Partial<Parameters<typeof raw>[0]>) => [
    base[0]!,
    raw({
      position: 1,
      prevHash: h(base, 0),
      actor: alice,
      op: 'add',
      subject: bob.id,
      ...changed,
    }),
  ];
  const withThird = (changed: Partial<Parameters<typeof raw>[0]>) => [
    ...base,
    raw({
      position: 2,
      prevHash: h(base, 1),
      actor: alice,
      op: 'add',
      subject: carol.id,
      ...changed,
    }),
  ];
  invalid('the second entry truncated', 'CHAIN_MALFORMED', [base[0]!, base[1]!.subarray(0, -1)]);
  invalid(
    'an entry naming another room',
    'CHAIN_MALFORMED',
    withSecond({ room: bytesFor('membership/other-room', 16) }),
  );
  invalid('an add entry without a subject', 'CHAIN_MALFORMED', withSecond({ subject: none }));
  invalid(
    'an add entry carrying data',
    'CHAIN_MALFORMED',
    withSecond({ data: new Uint8Array([1]) }),
  );
  const timerData = (seconds: Uint8Array) => canon('parley/v1/message-timer', [seconds]);
  const setTimer = (data: Uint8Array) => withSecond({ op: 'set-timer', subject: alice.id, data });
  invalid('a set-timer entry without data', 'CHAIN_MALFORMED', setTimer(none));
  invalid(
    'a set-timer entry of more than a year',
    'CHAIN_MALFORMED',
    setTimer(timerData(u64(365 * 24 * 3600 + 1))),
  );
  invalid(
    'a set-timer entry whose timer is not 8 bytes',
    'CHAIN_MALFORMED',
    setTimer(timerData(new Uint8Array(4))),
  );
  invalid(
    'a set-timer entry under another label (parley/v1/room-policy)',
    'CHAIN_MALFORMED',
    setTimer(canon('parley/v1/room-policy', [u64(60)])),
  );
  invalid(
    'a set-timer entry without a subject',
    'CHAIN_MALFORMED',
    withSecond({ op: 'set-timer', subject: none, data: timerData(u64(60)) }),
  );
  invalid('an unknown entry type "ban"', 'CHAIN_UNKNOWN_ENTRY_TYPE', withSecond({ op: 'ban' }));
  invalid(
    'fork: a second, different entry at position 1',
    'CHAIN_FORK',
    withThird({ position: 1, prevHash: h(base, 0) }),
  );
  invalid('fork: the entry at position 1 served twice', 'CHAIN_FORK', [...base, base[1]!]);
  invalid(
    'broken link: prevHash is not the previous entry’s hash',
    'CHAIN_BROKEN_LINK',
    withThird({ prevHash: h(base, 0) }),
  );
  invalid(
    'broken link: position 3 follows position 1',
    'CHAIN_BROKEN_LINK',
    withThird({ position: 3 }),
  );
  invalid('broken link: an entry dropped from the middle', 'CHAIN_BROKEN_LINK', [
    group[0]!,
    group[1]!,
    group[3]!,
  ]);
  invalid('bad genesis: the chain starts with an add', 'CHAIN_BAD_GENESIS', [
    raw({ position: 0, prevHash: none, actor: alice, op: 'add', subject: bob.id }),
  ]);
  invalid('bad genesis: at position 1', 'CHAIN_BAD_GENESIS', [
    genesis({ position: 1, prevHash: bytesFor('membership/x', 32) }),
  ]);
  invalid('bad genesis: unknown room kind "forum"', 'CHAIN_BAD_GENESIS', [
    genesis({ data: policy('forum') }),
  ]);
  invalid('bad genesis: a direct conversation with oneself', 'CHAIN_BAD_GENESIS', [
    genesis({ data: policy('direct', alice.id) }),
  ]);
  invalid('bad genesis: a direct conversation without a peer', 'CHAIN_BAD_GENESIS', [
    genesis({ data: policy('direct') }),
  ]);
  invalid('bad genesis: a group with a peer', 'CHAIN_BAD_GENESIS', [
    genesis({ data: policy('group', bob.id) }),
  ]);
  invalid('bad genesis: a subject', 'CHAIN_BAD_GENESIS', [genesis({ subject: bob.id })]);
  invalid(
    'unknown actor: mallory, whose key the client does not know, adds herself',
    'CHAIN_UNKNOWN_ACTOR',
    withThird({ actor: mallory, subject: mallory.id }),
  );
  invalid(
    "bad signature: bob's leave signed by alice",
    'CHAIN_BAD_SIGNATURE',
    withThird({ actor: bob, op: 'leave', subject: bob.id, signer: alice }),
  );
  invalid(
    'bad signature: the body signed under another label (parley/v1/room-key)',
    'CHAIN_BAD_SIGNATURE',
    withThird({ signedLabel: 'parley/v1/room-key' }),
  );
  invalid('bad signature on the genesis entry', 'CHAIN_BAD_SIGNATURE', [genesis({ signer: bob })]);

  const notAllowed = (comment: string, kind: RoomKind, steps: Step[], peer?: User) =>
    invalid(
      `actor not allowed: ${comment}`,
      'CHAIN_ACTOR_NOT_ALLOWED',
      build(kind, alice, steps, peer),
    );
  notAllowed('a plain member adds someone to a group', 'group', [
    [alice, 'add', bob],
    [bob, 'add', carol],
  ]);
  notAllowed('admit in a group (only channels admit)', 'group', [
    [alice, 'add', bob],
    [bob, 'admit', carol],
  ]);
  notAllowed('adding someone who is already a member', 'group', [
    [alice, 'add', bob],
    [alice, 'add', bob],
  ]);
  notAllowed('an admin removes herself', 'group', [[alice, 'remove', alice]]);
  notAllowed('removing someone who is not a member', 'group', [[alice, 'remove', bob]]);
  notAllowed('an admin demotes herself', 'group', [[alice, 'demote', alice]]);
  notAllowed('demoting a plain member', 'group', [
    [alice, 'add', bob],
    [alice, 'demote', bob],
  ]);
  notAllowed('promoting a non-member', 'group', [[alice, 'promote', bob]]);
  notAllowed('an outsider leaves', 'group', [[bob, 'leave', bob]]);
  notAllowed('an outsider adds someone', 'group', [[carol, 'add', dave]]);
  notAllowed('a channel member removes the admin', 'channel', [
    [alice, 'admit', bob],
    [bob, 'remove', alice],
  ]);
  notAllowed('a removed member admits someone', 'channel', [
    [alice, 'admit', bob],
    [alice, 'remove', bob],
    [bob, 'admit', carol],
  ]);
  notAllowed(
    'adding a third person to a direct conversation',
    'direct',
    [[alice, 'add', carol]],
    bob,
  );
  notAllowed('promoting in a direct conversation', 'direct', [[alice, 'promote', bob]], bob);
  notAllowed('a plain group member sets the message timer', 'group', [
    [alice, 'add', bob],
    [bob, 'set-timer', bob, 60],
  ]);
  notAllowed('a plain channel member sets the message timer', 'channel', [
    [alice, 'admit', bob],
    [bob, 'set-timer', bob, 60],
  ]);
  notAllowed('an outsider sets the message timer', 'group', [[carol, 'set-timer', carol, 60]]);
  invalid(
    'actor not allowed: an admin sets the timer naming someone else as subject',
    'CHAIN_ACTOR_NOT_ALLOWED',
    withThird({ op: 'set-timer', subject: bob.id, data: timerData(u64(60)) }),
  );
  invalid(
    "actor not allowed: a leave entry naming someone else (alice 'leaves' bob)",
    'CHAIN_ACTOR_NOT_ALLOWED',
    withThird({ op: 'leave', subject: bob.id }),
  );
  invalid('actor not allowed: a second genesis entry', 'CHAIN_ACTOR_NOT_ALLOWED', [
    ...base,
    genesis({ position: 2, prevHash: h(base, 1) }),
  ]);
  return file.build();
}

// ---------------------------------------------------------------------------------------------
// §6 message.json

function messageVectors(): VectorFile {
  const file = new VectorFileBuilder(
    'message',
    'Message envelopes (PROTOCOL.md §6): decrypt and verify, rebuild from the nonce, classify against what was seen.',
  );
  const roomId = bytesFor('message/room', 16);
  const roomKey = bytesFor('message/room-key/epoch-2', 32);
  const epoch = 2;
  const send = (
    name: string,
    counter: number,
    prevHash: Uint8Array,
    payload: MessagePayloadInput,
    o: { sender?: User; epoch?: number; key?: Uint8Array } = {},
  ) => {
    const sender = o.sender ?? alice;
    const nonce = bytesFor(`message/nonce/${name}`, 24);
    const sealed = encryptMessage(
      {
        roomId,
        epoch: o.epoch ?? epoch,
        roomKey: o.key ?? roomKey,
        senderId: sender.id,
        sender: sender.identity,
        counter,
        prevHash,
        clientTime: 1714557600000 + counter * 1000,
        messageId: bytesFor(`message/id/${name}`, 16),
        payload,
      },
      nonce,
    );
    return { ...sealed, nonce, sender };
  };
  const receiver = (envelope: Uint8Array, over: Record<string, unknown> = {}) => ({
    roomId,
    senderId: alice.id,
    senderIdentityPublicKey: alice.identity.publicKey,
    epoch,
    roomKey,
    senderIsMember: true,
    envelope,
    ...over,
  });
  const expected = (m: ReturnType<typeof send>, payload: Required<MessagePayloadInput>) => ({
    header: headerJson(m.header),
    payload: payloadJson(payload),
    messageHash: m.messageHash,
    senderIdentitySeed: m.sender.identitySeed,
    nonce: m.nonce,
  });
  const full = (p: MessagePayloadInput): Required<MessagePayloadInput> => ({
    text: '',
    replyTo: new Uint8Array(),
    target: new Uint8Array(),
    attachments: [],
    extra: new Uint8Array(),
    ...p,
  });
  const decodedAttachment = {
    blobId: 'att_01HV3K8Q2Z',
    fileKey: bytesFor('message/attachment/key', 32),
    hash: bytesFor('message/attachment/hash', 32),
    size: 48213,
    mediaType: 'image/png',
    name: 'Screenshot 2024-05-01 at 10.02.png',
  };

  const p1 = full({ kind: 'text', text: 'Hello **team**, the _release_ is `v1.2`.' });
  const m1 = send('m1', 1, new Uint8Array(), p1);
  const p2 = full({
    kind: 'text',
    text: 'Here is the screenshot 📎',
    replyTo: m1.header.messageId,
    attachments: [decodedAttachment],
  });
  const m2 = send('m2', 2, m1.messageHash, p2);
  const p3 = full({
    kind: 'edit',
    text: 'Hello **team**, the _release_ is `v1.3`.',
    target: m1.header.messageId,
  });
  const m3 = send('m3', 3, m2.messageHash, p3);
  const p4 = full({ kind: 'reaction', text: '👍🏽', target: m2.header.messageId });
  const m4 = send('m4', 4, m3.messageHash, p4);
  const p5 = full({
    kind: 'call',
    extra: utf8(
      '{"type":"offer","sdp":"v=0\\r\\no=- 4611731400430051336 2 IN IP4 127.0.0.1\\r\\n"}',
    ),
  });
  const m5 = send('m5', 5, m4.messageHash, p5);
  const p6 = full({ kind: 'delete', target: m3.header.messageId });
  const m6 = send('m6', 6, m5.messageHash, p6);
  const p7 = full({ kind: 'text', text: 'Ünïcödé and a long line. '.repeat(12) });
  const m7 = send('m7', 7, m6.messageHash, p7);
  const seen = (...ms: ReturnType<typeof send>[]) =>
    ms.map((m) => ({ counter: m.header.counter, hash: toHex(m.messageHash) }));
  /** A valid case: `m` opens to `payload` and is classified as `status` after `before`. */
  const classified = (
    comment: string,
    m: ReturnType<typeof send>,
    payload: Required<MessagePayloadInput>,
    before: ReturnType<typeof seen>,
    status: string,
  ) =>
    file.valid(comment, { ...receiver(m.envelope), ...expected(m, payload), seen: before, status });

  classified('first message (counter 1): text with markdown; new', m1, p1, [], 'new');
  classified('second message: a reply with an attachment descriptor; new', m2, p2, seen(m1), 'new');
  file.valid('an edit', { ...receiver(m3.envelope), ...expected(m3, p3) });
  file.valid('a reaction', { ...receiver(m4.envelope), ...expected(m4, p4) });
  file.valid('call signalling in extra', { ...receiver(m5.envelope), ...expected(m5, p5) });
  file.valid('a delete', { ...receiver(m6.envelope), ...expected(m6, p6) });
  file.valid('a payload over 256 bytes, padded to the 512 bucket', {
    ...receiver(m7.envelope),
    ...expected(m7, p7),
  });
  classified(
    'counter replay: the same message again is a duplicate',
    m2,
    p2,
    seen(m1, m2),
    'duplicate',
  );
  const p2b = full({ kind: 'text', text: 'A different second message' });
  const m2b = send('m2-fork', 2, m1.messageHash, p2b);
  classified(
    'fork: a different message with a counter already seen',
    m2b,
    p2b,
    seen(m1, m2),
    'fork',
  );
  const p2c = full({ kind: 'text', text: 'Linked to something else' });
  const m2c = send('m2-bad-link', 2, bytesFor('message/not-m1', 32), p2c);
  classified(
    "fork: prevHash is not the hash of the sender's message at counter - 1",
    m2c,
    p2c,
    seen(m1),
    'fork',
  );
  classified('gap: counter 4 after counter 1', m4, p4, seen(m1), 'gap');
  classified('gap: counter 3 when nothing was seen', m3, p3, [], 'gap');
  classified('out of order: counter 2 after 1 and 3', m2, p2, seen(m1, m3), 'out-of-order');
  classified('out of order: counter 1 after 2', m1, p1, seen(m2), 'out-of-order');

  const parts = splitEnvelope(m2.envelope);
  const signAs = (
    signer: User,
    headerBytes: Uint8Array,
    nonce: Uint8Array,
    ciphertext: Uint8Array,
    label = 'parley/v1/message',
  ) =>
    canon('parley/v1/message-envelope', [
      headerBytes,
      nonce,
      ciphertext,
      sodium.crypto_sign_detached(
        canon(label, [headerBytes, nonce, ciphertext]),
        signer.identity.secretKey,
      ),
    ]);
  /** A validly signed message whose header and plaintext are whatever the sender chose. */
  const crafted = (header: MessageHeader, plaintext: Uint8Array, signer: User = alice) => {
    const headerBytes = rawHeader(header);
    const nonce = bytesFor(
      `message/crafted/${toHex(plaintext).slice(0, 16)}/${header.counter}/${header.version}`,
      24,
    );
    const key = deriveMessageKey(roomKey, header.roomId, header.epoch);
    const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      plaintext,
      headerBytes,
      null,
      nonce,
      key,
    );
    return signAs(signer, headerBytes, nonce, ciphertext);
  };
  const header = (over: Partial<MessageHeader> = {}): MessageHeader => ({ ...m1.header, ...over });
  const padded = encodePayload(p1);

  file.invalid('envelope truncated', 'MESSAGE_MALFORMED', receiver(m2.envelope.subarray(0, -1)));
  file.invalid(
    'nonce of 23 bytes',
    'MESSAGE_MALFORMED',
    receiver(signAs(alice, parts.header, parts.nonce.subarray(0, 23), parts.ciphertext)),
  );
  file.invalid(
    'header with counter 0, validly signed',
    'MESSAGE_MALFORMED',
    receiver(crafted(header({ counter: 0 }), padded)),
  );
  file.invalid(
    'counter 1 with a prevHash, validly signed',
    'MESSAGE_MALFORMED',
    receiver(crafted(header({ prevHash: m1.messageHash }), padded)),
  );
  file.invalid(
    'counter 2 without a prevHash, validly signed',
    'MESSAGE_MALFORMED',
    receiver(crafted(header({ counter: 2 }), padded)),
  );
  file.invalid(
    'header version 2, validly signed',
    'MESSAGE_UNSUPPORTED_VERSION',
    receiver(crafted(header({ version: 2 }), padded)),
  );
  file.invalid(
    'a message of another room',
    'MESSAGE_WRONG_ROOM',
    receiver(m2.envelope, { roomId: bytesFor('message/other-room', 16) }),
  );
  file.invalid(
    "signed by mallory under alice's sender id",
    'MESSAGE_BAD_SIGNATURE',
    receiver(signAs(mallory, parts.header, parts.nonce, parts.ciphertext)),
  );
  file.invalid(
    'signature byte flipped',
    'MESSAGE_BAD_SIGNATURE',
    receiver(flip(m2.envelope, m2.envelope.length - 1)),
  );
  file.invalid('swapped header field: the counter changed after signing', 'MESSAGE_BAD_SIGNATURE', {
    ...receiver(
      replaceField(
        m2.envelope,
        'parley/v1/message-envelope',
        0,
        rawHeader({ ...m2.header, counter: 9 }),
      ),
    ),
  });
  file.invalid('swapped header field: the epoch changed after signing', 'MESSAGE_BAD_SIGNATURE', {
    ...receiver(
      replaceField(
        m2.envelope,
        'parley/v1/message-envelope',
        0,
        rawHeader({ ...m2.header, epoch: 3 }),
      ),
    ),
  });
  file.invalid(
    'the ciphertext changed after signing',
    'MESSAGE_BAD_SIGNATURE',
    receiver(replaceField(m2.envelope, 'parley/v1/message-envelope', 2, flip(parts.ciphertext, 0))),
  );
  file.invalid(
    'header, nonce and ciphertext signed under another label (parley/v1/room-key)',
    'MESSAGE_BAD_SIGNATURE',
    {
      ...receiver(signAs(alice, parts.header, parts.nonce, parts.ciphertext, 'parley/v1/room-key')),
    },
  );
  const fromMallory = send('mallory', 1, new Uint8Array(), p1, { sender: mallory });
  file.invalid(
    'the header names a sender whose key the receiver has not pinned',
    'MESSAGE_BAD_SIGNATURE',
    receiver(fromMallory.envelope),
  );
  file.invalid(
    'the sender is not a member at that epoch',
    'MESSAGE_SENDER_NOT_MEMBER',
    receiver(m2.envelope, { senderIsMember: false }),
  );
  file.invalid('the receiver has no key for that epoch', 'MESSAGE_UNKNOWN_EPOCH', {
    ...receiver(m2.envelope),
    roomKey: undefined,
  });
  const m3e = send('epoch-3', 1, new Uint8Array(), p1, {
    epoch: 3,
    key: bytesFor('message/room-key/epoch-3', 32),
  });
  file.invalid(
    'a message of epoch 3 when the receiver holds only epoch 2',
    'MESSAGE_UNKNOWN_EPOCH',
    receiver(m3e.envelope),
  );
  file.invalid(
    'the wrong room key for the epoch',
    'MESSAGE_DECRYPT_FAILED',
    receiver(m2.envelope, { roomKey: bytesFor('message/wrong-key', 32) }),
  );
  file.invalid(
    'ciphertext tampered and re-signed by the sender',
    'MESSAGE_DECRYPT_FAILED',
    receiver(signAs(alice, parts.header, parts.nonce, flip(parts.ciphertext, 5))),
  );
  file.invalid(
    'header changed (clientTime) and re-signed: the AEAD associated data no longer matches',
    'MESSAGE_DECRYPT_FAILED',
    {
      ...receiver(
        signAs(
          alice,
          rawHeader({ ...m2.header, clientTime: m2.header.clientTime + 1 }),
          parts.nonce,
          parts.ciphertext,
        ),
      ),
    },
  );
  file.invalid(
    'plaintext of 256 zero bytes (no 0x80 marker)',
    'MESSAGE_BAD_PADDING',
    receiver(crafted(header(), new Uint8Array(256))),
  );
  const encoded = canon('parley/v1/payload', [
    ascii('text'),
    utf8('hi'),
    new Uint8Array(),
    new Uint8Array(),
    new Uint8Array(),
    new Uint8Array(),
  ]);
  file.invalid(
    'padded to 300 bytes, not to its 256 bucket',
    'MESSAGE_BAD_PADDING',
    receiver(crafted(header(), sodium.pad(encoded, 300))),
  );
  file.invalid(
    'padded to 512 bytes, a bucket too large',
    'MESSAGE_BAD_PADDING',
    receiver(crafted(header(), sodium.pad(encoded, 512))),
  );
  const payloadWith = (fields: Uint8Array[]) => {
    const bytes = canon('parley/v1/payload', fields);
    return sodium.pad(bytes, bucket(bytes.length + 1));
  };
  const empty = new Uint8Array();
  // Validly signed and padded, but the payload's fields are wrong.
  const malformedPayload = (comment: string, fields: Uint8Array[]) =>
    file.invalid(
      comment,
      'MESSAGE_MALFORMED_PAYLOAD',
      receiver(crafted(header(), payloadWith(fields))),
    );
  malformedPayload('payload kind "poll" is unknown', [
    ascii('poll'),
    utf8('?'),
    empty,
    empty,
    empty,
    empty,
  ]);
  malformedPayload('payload text is not UTF-8', [
    ascii('text'),
    new Uint8Array([0x68, 0xc3, 0x28]),
    empty,
    empty,
    empty,
    empty,
  ]);
  malformedPayload('payload replyTo of 15 bytes', [
    ascii('text'),
    utf8('x'),
    bytesFor('message/id/m1', 16).subarray(1),
    empty,
    empty,
    empty,
  ]);
  malformedPayload('attachment descriptor with a 31-byte file key', [
    ascii('text'),
    utf8('x'),
    empty,
    empty,
    encodeList([
      canon('parley/v1/attachment', [
        ascii('att'),
        bytesFor('message/short-key', 32).subarray(1),
        bytesFor('message/h', 32),
        u64(1),
        utf8('a/b'),
        utf8('n'),
      ]),
    ]),
    empty,
  ]);
  malformedPayload('payload with five fields', [ascii('text'), utf8('x'), empty, empty, empty]);
  return file.build();
}

// ---------------------------------------------------------------------------------------------
// §7 backup.json

function backupVectors(): VectorFile {
  const file = new VectorFileBuilder(
    'backup',
    'Key backups (PROTOCOL.md §7) at MODERATE Argon2id limits. Cases 1, 4 and 5 share passphrase, salt ' +
      'and parameters, so a checker may derive their key once; cases 6 onwards fail before any derivation.',
  );
  const userId = alice.id;
  const secrets: BackupSecrets = {
    identitySeed: alice.identitySeed,
    encryptionSeed: alice.encryptionSeed,
    keyVersion: 1,
    extra: new Uint8Array(),
  };
  const passphrase = 'correct horse battery staple ukulele';
  const salt = bytesFor('backup/salt/1', 16);
  const nonce = bytesFor('backup/nonce/1', 24);
  const params = { opslimit: 3, memlimit: 268435456 };
  // One derivation serves case 1 and the invalid cases built from its blob.
  const key = deriveBackupKey(passphrase, salt, params);
  const blob = sealBackupWithKey({ userId, key, salt, params, secrets }, nonce);
  const expectedSecrets = (s: BackupSecrets) => ({
    identitySeed: s.identitySeed,
    encryptionSeed: s.encryptionSeed,
    keyVersion: s.keyVersion,
    extra: s.extra,
  });
  file.valid('ASCII passphrase, no extra data', {
    userId,
    passphrase,
    blob,
    ...expectedSecrets(secrets),
  });

  // Sealed on a device that typed the composed forms; opened where the keyboard produced a
  // decomposed é and the "ﬁ" ligature: NFKC makes them the same key.
  const bobSecrets: BackupSecrets = {
    identitySeed: bob.identitySeed,
    encryptionSeed: bob.encryptionSeed,
    keyVersion: 7,
    extra: utf8('{"verified":["' + toHex(alice.id) + '"]}'),
  };
  const bobBlob = sealBackup(
    { userId: bob.id, passphrase: 'Café fish à la crème — 2024', secrets: bobSecrets },
    { salt: bytesFor('backup/salt/2', 16), nonce: bytesFor('backup/nonce/2', 24) },
  );
  file.valid(
    'non-ASCII passphrase typed in another Unicode form (NFKC), extra data, key version 7',
    {
      userId: bob.id,
      passphrase: 'Cafe\u0301 \ufb01sh a\u0300 la cre\u0300me — 2024',
      blob: bobBlob,
      ...expectedSecrets(bobSecrets),
    },
  );
  file.invalid('wrong passphrase', 'BACKUP_DECRYPT_FAILED', {
    userId,
    passphrase: 'correct horse battery staple ukulelf',
    blob,
  });
  const fields = splitBackup(blob);
  const rebuilt = (over: Partial<typeof fields>, label = 'parley/v1/backup-blob') => {
    const f = { ...fields, ...over };
    return canon(label, [
      f.version,
      f.userId,
      f.salt,
      f.opslimit,
      f.memlimit,
      f.nonce,
      f.ciphertext,
    ]);
  };
  // The invalid cases below open a changed blob with alice's id and the right passphrase.
  const refused = (comment: string, error: string, changed: Uint8Array) =>
    file.invalid(comment, error, { userId, passphrase, blob: changed });
  refused(
    'ciphertext tampered (right passphrase)',
    'BACKUP_DECRYPT_FAILED',
    rebuilt({ ciphertext: flip(fields.ciphertext, 3) }),
  );
  const badSecrets = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    canon('parley/v1/backup-secrets', [
      alice.identitySeed.subarray(0, 31),
      alice.encryptionSeed,
      u64(1),
      new Uint8Array(),
    ]),
    canon('parley/v1/backup', [userId, u64(1), salt, u64(3), u64(268435456)]),
    null,
    nonce,
    key,
  );
  sodium.memzero(key);
  refused(
    'decrypts, but the identity seed inside is 31 bytes',
    'BACKUP_MALFORMED',
    rebuilt({ ciphertext: badSecrets }),
  );
  file.invalid("alice's backup opened as bob", 'BACKUP_WRONG_USER', {
    userId: bob.id,
    passphrase,
    blob,
  });
  refused('opslimit 2, below the floor', 'BACKUP_PARAMS_TOO_WEAK', rebuilt({ opslimit: u64(2) }));
  refused(
    'memlimit 64 MiB, below the floor',
    'BACKUP_PARAMS_TOO_WEAK',
    rebuilt({ memlimit: u64(67108864) }),
  );
  refused(
    'opslimit 1 and memlimit 8 KiB (a planted weak blob)',
    'BACKUP_PARAMS_TOO_WEAK',
    rebuilt({ opslimit: u64(1), memlimit: u64(8192) }),
  );
  refused(
    'opslimit 17, above the ceiling',
    'BACKUP_PARAMS_TOO_HIGH',
    rebuilt({ opslimit: u64(17) }),
  );
  refused(
    'memlimit 2 GiB, above the ceiling',
    'BACKUP_PARAMS_TOO_HIGH',
    rebuilt({ memlimit: u64(2147483648) }),
  );
  refused('version 2', 'BACKUP_UNSUPPORTED_VERSION', rebuilt({ version: u64(2) }));
  refused('blob truncated', 'BACKUP_MALFORMED', blob.subarray(0, -1));
  refused('salt of 15 bytes', 'BACKUP_MALFORMED', rebuilt({ salt: salt.subarray(1) }));
  refused(
    'blob under another label (parley/v1/backup)',
    'BACKUP_MALFORMED',
    rebuilt({}, 'parley/v1/backup'),
  );
  return file.build();
}

// ---------------------------------------------------------------------------------------------
// §7.1 device-seal.json

function deviceSealVectors(): VectorFile {
  const file = new VectorFileBuilder(
    'device-seal',
    'What a device seals for itself alone (PROTOCOL.md §7.1), such as its search index: AEAD under ' +
      'a device key with purpose and user id bound; the blob carries the nonce.',
  );
  const key = bytesFor('device-seal/key', 32);
  const userId = alice.id;
  const purpose = 'search-index';
  const plaintext = utf8('{"format":1,"index":"the tulip bulbs arrive on friday"}');
  const nonce = bytesFor('device-seal/nonce/1', 24);
  const seal = (text: Uint8Array, at: Uint8Array) =>
    sealForDevice(text, { key, purpose, userId }, at);
  const blob = seal(plaintext, nonce);
  const ad = (p: string, user: Uint8Array) =>
    canon('parley/v1/device-seal', [u64(1), ascii(p), user]);
  /** A blob assembled by hand, to make what sealForDevice refuses to. */
  const assemble = (over: {
    version?: number;
    purpose?: string;
    nonce?: Uint8Array;
    label?: string;
  }) => {
    const n = over.nonce ?? nonce;
    const ciphertext =
      n.length === 24
        ? sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext,
            ad(over.purpose ?? purpose, userId),
            null,
            n,
            key,
          )
        : new Uint8Array(plaintext.length + 16);
    return canon(over.label ?? 'parley/v1/device-seal-blob', [
      u64(over.version ?? 1),
      ascii(over.purpose ?? purpose),
      n,
      ciphertext,
    ]);
  };

  file.valid('a search index sealed for alice', { key, purpose, userId, blob, plaintext });
  file.valid('empty plaintext, another nonce', {
    key,
    purpose,
    userId,
    blob: seal(new Uint8Array(), bytesFor('device-seal/nonce/2', 24)),
    plaintext: new Uint8Array(),
  });
  file.invalid('opened with another device key', 'DEVICE_SEAL_DECRYPT_FAILED', {
    key: bytesFor('device-seal/other-key', 32),
    purpose,
    userId,
    blob,
  });
  file.invalid("alice's blob opened for bob", 'DEVICE_SEAL_DECRYPT_FAILED', {
    key,
    purpose,
    userId: bob.id,
    blob,
  });
  const flipped = blob.slice();
  flipped[flipped.length - 1] = flipped.at(-1)! ^ 0x01;
  file.invalid('last tag byte flipped', 'DEVICE_SEAL_DECRYPT_FAILED', {
    key,
    purpose,
    userId,
    blob: flipped,
  });
  file.invalid('opened for another purpose', 'DEVICE_SEAL_MALFORMED', {
    key,
    purpose: 'drafts',
    userId,
    blob,
  });
  file.invalid('version 2', 'DEVICE_SEAL_MALFORMED', {
    key,
    purpose,
    userId,
    blob: assemble({ version: 2 }),
  });
  file.invalid('a nonce of 23 bytes', 'DEVICE_SEAL_MALFORMED', {
    key,
    purpose,
    userId,
    blob: assemble({ nonce: bytesFor('device-seal/short', 23) }),
  });
  file.invalid('under the label of its associated data', 'DEVICE_SEAL_MALFORMED', {
    key,
    purpose,
    userId,
    blob: assemble({ label: 'parley/v1/device-seal' }),
  });
  file.invalid('truncated by one byte', 'DEVICE_SEAL_MALFORMED', {
    key,
    purpose,
    userId,
    blob: blob.subarray(0, blob.length - 1),
  });
  return file.build();
}

// §8 attachment.json

function attachmentVectors(): VectorFile {
  const file = new VectorFileBuilder(
    'attachment',
    'Attachment blobs (PROTOCOL.md §8): secretstream in 64 KiB chunks, checked against the descriptor hash and size.',
  );
  const fileKey = bytesFor('attachment/key', 32);
  const header = bytesFor('attachment/header', 24);
  const plaintextOf = (name: string, size: number) => {
    const out = new Uint8Array(size);
    for (let at = 0; at < size; at += 64)
      out.set(
        sodium.crypto_generichash(64, utf8(`${name}/${at}`), null).subarray(0, size - at),
        at,
      );
    return out;
  };
  const H = (data: Uint8Array) => sodium.crypto_generichash(32, data, null);
  const encrypt = (plaintext: Uint8Array) => encryptAttachment(plaintext, { fileKey, header }).blob;
  const valid = (comment: string, plaintext: Uint8Array) => {
    const blob = encrypt(plaintext);
    file.valid(comment, {
      fileKey,
      expectedHash: H(blob),
      size: plaintext.length,
      blob,
      plaintextHash: H(plaintext),
      ...(plaintext.length <= 1024 ? { plaintext } : {}),
    });
  };
  /** A stream with any chunks and tags, written with libsodium directly. */
  const stream = (chunks: [Uint8Array, number][]) => {
    const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header, fileKey);
    return concat(
      header,
      ...chunks.map(([data, tag]) =>
        sodium.crypto_secretstream_xchacha20poly1305_push(state, data, null, tag),
      ),
    );
  };
  const [MESSAGE, PUSH, FINAL] = [0, 1, 3];
  const invalid = (
    comment: string,
    error: string,
    blob: Uint8Array,
    size: number,
    o: { expectedHash?: Uint8Array; key?: Uint8Array } = {},
  ) =>
    file.invalid(comment, error, {
      fileKey: o.key ?? fileKey,
      expectedHash: o.expectedHash ?? H(blob),
      size,
      blob,
    });

  valid('an empty file: one empty final chunk', new Uint8Array());
  valid('a short text file', utf8('Minutes of the meeting, 1 May.\nAttendees: everyone.\n'));
  valid('1000 bytes', plaintextOf('a', 1000));
  const full = plaintextOf('b', 65536);
  valid('exactly 64 KiB: a full chunk, then an empty final chunk', full);

  const small = plaintextOf('a', 1000);
  const smallBlob = encrypt(small);
  invalid(
    'the blob is not the one the descriptor hashes',
    'ATTACHMENT_HASH_MISMATCH',
    smallBlob,
    1000,
    {
      expectedHash: H(encrypt(plaintextOf('d', 1000))),
    },
  );
  invalid(
    'one byte flipped in transit (hash no longer matches)',
    'ATTACHMENT_HASH_MISMATCH',
    flip(smallBlob, 100),
    1000,
    {
      expectedHash: H(smallBlob),
    },
  );
  invalid('shorter than a stream header', 'ATTACHMENT_MALFORMED', smallBlob.subarray(0, 20), 1000);
  invalid(
    'the size in the descriptor differs from the plaintext',
    'ATTACHMENT_MALFORMED',
    smallBlob,
    999,
  );
  invalid('a chunk with TAG_PUSH', 'ATTACHMENT_MALFORMED', stream([[small, PUSH]]), 1000);
  const fullBlob = encrypt(full);
  invalid(
    'truncated stream: the final chunk removed at a chunk boundary',
    'ATTACHMENT_TRUNCATED',
    fullBlob.subarray(0, 24 + 65553),
    65536,
  );
  invalid('a header and no chunk at all', 'ATTACHMENT_TRUNCATED', fullBlob.subarray(0, 24), 0);
  invalid(
    'the only chunk is TAG_MESSAGE: no final chunk',
    'ATTACHMENT_TRUNCATED',
    stream([[small, MESSAGE]]),
    1000,
  );
  invalid(
    'data after a full TAG_FINAL chunk',
    'ATTACHMENT_TRUNCATED',
    stream([
      [full, FINAL],
      [small, FINAL],
    ]),
    66536,
  );
  invalid(
    'tampered chunk (hash recomputed by a malicious sender)',
    'ATTACHMENT_DECRYPT_FAILED',
    flip(smallBlob, 500),
    1000,
  );
  invalid('tampered stream header', 'ATTACHMENT_DECRYPT_FAILED', flip(smallBlob, 3), 1000);
  invalid('the wrong file key', 'ATTACHMENT_DECRYPT_FAILED', smallBlob, 1000, {
    key: bytesFor('attachment/other-key', 32),
  });
  invalid(
    'cut inside the last chunk',
    'ATTACHMENT_DECRYPT_FAILED',
    smallBlob.subarray(0, -1),
    1000,
  );
  invalid(
    'a trailing chunk of 16 bytes, shorter than the chunk overhead',
    'ATTACHMENT_DECRYPT_FAILED',
    concat(fullBlob.subarray(0, 24 + 65553), new Uint8Array(16)),
    65536,
  );
  return file.build();
}

// ---------------------------------------------------------------------------------------------
// Fixed inputs and the file format

interface User {
  name: string;
  id: Uint8Array;
  identitySeed: Uint8Array;
  encryptionSeed: Uint8Array;
  identity: IdentityKeyPair;
  encryption: EncryptionKeyPair;
}

/** Bytes derived from a name: H_len("parley/v1/test-vectors/" || name). */
function bytesFor(name: string, length: number): Uint8Array {
  return sodium.crypto_generichash(length, utf8(`parley/v1/test-vectors/${name}`), null);
}

function makeUser(name: string): User {
  const identitySeed = bytesFor(`user/${name}/identity-seed`, 32);
  const encryptionSeed = bytesFor(`user/${name}/encryption-seed`, 32);
  return {
    name,
    id: bytesFor(`user/${name}/id`, 16),
    identitySeed,
    encryptionSeed,
    identity: identityKeyPair(identitySeed),
    encryption: encryptionKeyPair(encryptionSeed),
  };
}

let alice: User;
let bob: User;
let carol: User;
let dave: User;
let mallory: User;

type FieldValue =
  Uint8Array | string | number | boolean | undefined | unknown[] | Record<string, unknown>;

class VectorFileBuilder {
  private readonly cases: VectorCase[] = [];

  constructor(
    private readonly operation: VectorOperation,
    private readonly description: string,
  ) {
    if (alice === undefined)
      [alice, bob, carol, dave, mallory] = ['alice', 'bob', 'carol', 'dave', 'mallory'].map(
        makeUser,
      ) as [User, User, User, User, User];
  }

  valid(comment: string, fields: Record<string, FieldValue>): void {
    this.cases.push({ id: this.cases.length + 1, comment, result: 'valid', ...jsonFields(fields) });
  }

  invalid(comment: string, error: string, fields: Record<string, FieldValue>): void {
    this.cases.push({
      id: this.cases.length + 1,
      comment,
      result: 'invalid',
      error,
      ...jsonFields(fields),
    });
  }

  build(): VectorFile {
    return {
      operation: this.operation,
      protocol: 'parley/v1',
      description: this.description,
      generatedBy: 'pnpm vectors',
      cases: this.cases,
    };
  }
}

/** Bytes become lowercase hex, arrays of bytes arrays of hex; undefined fields are left out. */
function jsonFields(fields: Record<string, FieldValue>): Record<string, unknown> {
  const toJson = (value: unknown): unknown => {
    if (value instanceof Uint8Array) return toHex(value);
    if (Array.isArray(value)) return value.map(toJson);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
    }
    return value;
  };
  return Object.fromEntries(
    Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, toJson(value)]),
  );
}

/** A header encoded without the library's argument checks, for headers it refuses to write. */
function rawHeader(h: MessageHeader): Uint8Array {
  try {
    return encodeHeader(h);
  } catch {
    return canon('parley/v1/message-header', [
      u64(h.version),
      h.roomId,
      u64(h.epoch),
      h.senderId,
      u64(h.counter),
      h.messageId,
      u64(h.clientTime),
      h.prevHash,
    ]);
  }
}

/** libsodium's sealed box, built from its parts with a fixed ephemeral seed. */
function deterministicSeal(
  message: Uint8Array,
  recipientPublicKey: Uint8Array,
  ephemeralSeed: Uint8Array,
): Uint8Array {
  const ephemeral = sodium.crypto_box_seed_keypair(ephemeralSeed);
  const nonce = sodium.crypto_generichash(
    24,
    concat(ephemeral.publicKey, recipientPublicKey),
    null,
  );
  return concat(
    ephemeral.publicKey,
    sodium.crypto_box_easy(message, nonce, recipientPublicKey, ephemeral.privateKey),
  );
}

function splitEnvelope(envelope: Uint8Array) {
  const [header, nonce, ciphertext, signature] = fieldsOf(envelope) as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  return { header, nonce, ciphertext, signature };
}

function splitBackup(blob: Uint8Array) {
  const [version, userId, salt, opslimit, memlimit, nonce, ciphertext] = fieldsOf(
    blob,
  ) as Uint8Array[] as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  return { version, userId, salt, opslimit, memlimit, nonce, ciphertext };
}

/** The fields of canon(label, ...), label dropped. */
function fieldsOf(encoded: Uint8Array): Uint8Array[] {
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < encoded.length;) {
    const length = view.getUint32(offset);
    parts.push(encoded.slice(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return parts.slice(1);
}

function replaceField(
  encoded: Uint8Array,
  label: string,
  index: number,
  value: Uint8Array,
): Uint8Array {
  const fields = fieldsOf(encoded);
  fields[index] = value;
  return canon(label, fields);
}

function flip(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  const at = index < 0 ? copy.length + index : index;
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

async function main(): Promise<void> {
  const files = await generateVectors();
  for (const [operation, text] of files) {
    writeFileSync(vectorPath(operation), text);
    const count = (JSON.parse(text) as VectorFile).cases.length;
    console.log(`wrote ${operation}.json (${count} cases)`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
