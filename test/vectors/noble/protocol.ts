// The receiving side of every Parley v1 operation (docs/PROTOCOL.md §3-§8), written from the spec
// alone on the noble primitives of this folder. Each check runs in the order the spec gives and
// raises the spec's failure code; the few senders here exist only to rebuild deterministic vector
// bytes (Ed25519 and AEAD under a given nonce) and compare them.
import {
  EncodingError,
  canon,
  compareBytes,
  constantTimeEqual,
  decodeCanon,
  decodeList,
  emptyOr,
  encodeList,
  equalBytes,
  fixed,
  readU64,
  readUtf8,
  toHex,
  u64,
  utf8,
  ascii,
} from './encoding';
import { padPayload, unpadPayload } from './padding';
import {
  aeadDecrypt,
  aeadEncrypt,
  boxKeyPair,
  hash,
  kdf,
  keyedHash,
  sealOpen,
  sign,
  verify,
} from './primitives';
import {
  STREAM_ABYTES,
  STREAM_HEADER_BYTES,
  SecretStreamPull,
  TAG_FINAL,
  TAG_MESSAGE,
} from './secretstream';

/** A check failed with one of the codes of PROTOCOL.md §9. */
export class ProtocolFailure extends Error {
  override readonly name = 'ProtocolFailure';

  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A membership chain failed at entry index `failedAt`. */
export class ChainFailure extends ProtocolFailure {
  constructor(
    code: string,
    message: string,
    readonly failedAt: number,
  ) {
    super(code, message);
  }
}

const ID_BYTES = 16;
const KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const HASH_BYTES = 32;
const NONCE_BYTES = 24;

// ---------------------------------------------------------------------------------------------
// §3.2 Encryption-key binding

export interface EncryptionKeyBinding {
  userId: Uint8Array;
  identityPublicKey: Uint8Array;
  encryptionPublicKey: Uint8Array;
  version: number;
  signature: Uint8Array;
}

export function bindingInput(binding: Omit<EncryptionKeyBinding, 'signature'>): Uint8Array {
  return canon(
    'parley/v1/encryption-key',
    binding.userId,
    binding.identityPublicKey,
    binding.encryptionPublicKey,
    u64(binding.version),
  );
}

export function verifyEncryptionKeyBinding(binding: EncryptionKeyBinding): void {
  const wellFormed =
    binding.userId.length === ID_BYTES &&
    binding.identityPublicKey.length === KEY_BYTES &&
    binding.encryptionPublicKey.length === KEY_BYTES &&
    binding.signature.length === SIGNATURE_BYTES &&
    Number.isSafeInteger(binding.version) &&
    binding.version >= 1;
  if (!wellFormed) throw new ProtocolFailure('IDENTITY_MALFORMED', 'binding field out of range');
  if (!verify(binding.identityPublicKey, bindingInput(binding), binding.signature)) {
    throw new ProtocolFailure('IDENTITY_BAD_SIGNATURE', 'binding signature does not verify');
  }
}

// ---------------------------------------------------------------------------------------------
// §3.3 Fingerprint and safety number

export function fingerprint(userId: Uint8Array, identityPublicKey: Uint8Array): Uint8Array {
  if (userId.length !== ID_BYTES || identityPublicKey.length !== KEY_BYTES) {
    throw new ProtocolFailure('IDENTITY_MALFORMED', 'fingerprint input of the wrong length');
  }
  return hash(canon('parley/v1/fingerprint', userId, identityPublicKey));
}

export interface SafetyNumber {
  /** 60 digits, no spaces. */
  digits: string;
  qrPayload: string;
}

export function safetyNumber(fingerprintA: Uint8Array, fingerprintB: Uint8Array): SafetyNumber {
  const [smaller, larger] =
    compareBytes(fingerprintA, fingerprintB) <= 0
      ? [fingerprintA, fingerprintB]
      : [fingerprintB, fingerprintA];
  return {
    digits: safetyDigits(smaller) + safetyDigits(larger),
    qrPayload: `parley:v1:safety:${toHex(smaller)}:${toHex(larger)}`,
  };
}

/** Compares a scanned QR payload with the computed one in constant time. */
export function checkScannedSafetyNumber(computed: SafetyNumber, scannedQrPayload: string): void {
  if (!constantTimeEqual(utf8(computed.qrPayload), utf8(scannedQrPayload))) {
    throw new ProtocolFailure('SAFETY_NUMBER_MISMATCH', 'scanned QR payload differs');
  }
}

/** Six 5-byte big-endian chunks of bytes 0..29, each written as v mod 100000 in 5 digits. */
function safetyDigits(fp: Uint8Array): string {
  let digits = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let v = 0n;
    for (const byte of fp.subarray(5 * chunk, 5 * chunk + 5)) v = (v << 8n) | BigInt(byte);
    digits += (v % 100000n).toString().padStart(5, '0');
  }
  return digits;
}

// ---------------------------------------------------------------------------------------------
// §4 Room-key envelopes

export interface RoomKeyRequest {
  expectedRoomId: Uint8Array;
  expectedEpoch: number;
  recipientId: Uint8Array;
  recipientEncryptionSeed: Uint8Array;
  distributorIdentityPublicKey: Uint8Array;
  /** The outcome of §5.4 for this distributor, recipient and epoch, decided by the chain. */
  distributorEntitled: boolean;
}

export function openRoomKeyEnvelope(envelope: Uint8Array, request: RoomKeyRequest): Uint8Array {
  const parsed = failWith('ENVELOPE_MALFORMED', () => {
    const [roomId, epoch, recipientId, distributorId, sealed, signature] = decodeCanon(
      envelope,
      'parley/v1/room-key-envelope',
      6,
    ) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    return {
      roomId: fixed(roomId, ID_BYTES, 'roomId'),
      epoch: readU64(epoch),
      recipientId: fixed(recipientId, ID_BYTES, 'recipientId'),
      distributorId: fixed(distributorId, ID_BYTES, 'distributorId'),
      sealed,
      signature: fixed(signature, SIGNATURE_BYTES, 'signature'),
    };
  });
  if (!equalBytes(parsed.roomId, request.expectedRoomId)) {
    throw new ProtocolFailure('ENVELOPE_WRONG_ROOM', 'envelope names another room');
  }
  if (parsed.epoch !== request.expectedEpoch) {
    throw new ProtocolFailure('ENVELOPE_WRONG_EPOCH', 'envelope names another epoch');
  }
  if (!equalBytes(parsed.recipientId, request.recipientId)) {
    throw new ProtocolFailure('ENVELOPE_WRONG_RECIPIENT', 'envelope names another recipient');
  }
  const sigInput = canon(
    'parley/v1/room-key',
    parsed.roomId,
    u64(parsed.epoch),
    parsed.recipientId,
    parsed.distributorId,
    hash(parsed.sealed),
  );
  if (!verify(request.distributorIdentityPublicKey, sigInput, parsed.signature)) {
    throw new ProtocolFailure('ENVELOPE_BAD_SIGNATURE', 'distributor signature does not verify');
  }
  if (!request.distributorEntitled) {
    throw new ProtocolFailure(
      'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
      'distributor may not distribute this epoch to this recipient',
    );
  }
  const recipient = boxKeyPair(request.recipientEncryptionSeed);
  const roomKey = sealOpen(parsed.sealed, recipient.publicKey, recipient.secretKey);
  if (roomKey === null || roomKey.length !== KEY_BYTES) {
    throw new ProtocolFailure(
      'ENVELOPE_DECRYPT_FAILED',
      'sealed room key does not open to 32 bytes',
    );
  }
  return roomKey;
}

// ---------------------------------------------------------------------------------------------
// §5 Membership chain

export type Role = 'admin' | 'member';
export type RoomKind = 'channel' | 'group' | 'direct';

export interface MembershipState {
  position: number;
  hash: Uint8Array;
  epoch: number;
  /** User id hex to role. */
  members: Map<string, Role>;
  /** Seconds after which messages disappear; 0 for never. */
  timer: number;
}

const MEMBERSHIP_OPS = [
  'genesis',
  'add',
  'admit',
  'remove',
  'promote',
  'demote',
  'leave',
  'set-timer',
] as const;
const MAX_MESSAGE_TIMER_SECONDS = 365 * 24 * 60 * 60;
type MembershipOp = (typeof MEMBERSHIP_OPS)[number];
const ROOM_KINDS: readonly RoomKind[] = ['channel', 'group', 'direct'];

/**
 * Replays a chain from its genesis (§5.3) and returns the state after every entry, or throws a
 * ChainFailure naming the first entry that fails.
 */
export function replayMembershipChain(
  roomId: Uint8Array,
  entries: Uint8Array[],
  identityKeyOf: (userIdHex: string) => Uint8Array | undefined,
): MembershipState[] {
  const states: MembershipState[] = [];
  let kind: RoomKind = 'channel';
  entries.forEach((entryBytes, index) => {
    const fail = (code: string, message: string): never => {
      throw new ChainFailure(code, message, index);
    };
    const previous = states.at(-1);

    // 1. decode entry and body; op is one of the eight
    const entry = decodeMembershipEntry(entryBytes, fail);

    // 2. room, fork, link, genesis
    if (!equalBytes(entry.roomId, roomId)) fail('CHAIN_MALFORMED', 'entry names another room');
    if (previous === undefined) {
      const policy = genesisPolicy(entry);
      if (policy === null) fail('CHAIN_BAD_GENESIS', 'first entry is not a valid genesis');
      else kind = policy.kind;
    } else {
      if (entry.position <= previous.position) fail('CHAIN_FORK', 'position already taken');
      if (entry.position !== previous.position + 1 || !equalBytes(entry.prevHash, previous.hash)) {
        fail('CHAIN_BROKEN_LINK', 'entry does not follow the previous one');
      }
    }

    // 3. actor key and signature
    const actorKey = identityKeyOf(toHex(entry.actorId));
    if (actorKey === undefined) fail('CHAIN_UNKNOWN_ACTOR', 'no identity key for the actor');
    if (!verify(actorKey!, entry.body, entry.signature)) {
      fail('CHAIN_BAD_SIGNATURE', 'entry signature does not verify');
    }

    // 4. the rule of §5.2
    const members = new Map(previous?.members ?? []);
    let epoch = previous?.epoch ?? 0;
    const outcome = applyRule(entry, kind, members, previous === undefined);
    if (outcome === 'not-allowed') fail('CHAIN_ACTOR_NOT_ALLOWED', `${entry.op} not allowed here`);
    if (outcome === 'new-epoch') epoch += 1;
    states.push({
      position: entry.position,
      hash: membershipEntryHash(entryBytes),
      epoch,
      members,
      timer: entry.timer ?? previous?.timer ?? 0,
    });
  });
  return states;
}

export function membershipEntryHash(entry: Uint8Array): Uint8Array {
  return hash(canon('parley/v1/membership-hash', entry));
}

interface MembershipEntry {
  body: Uint8Array;
  signature: Uint8Array;
  roomId: Uint8Array;
  position: number;
  prevHash: Uint8Array;
  actorId: Uint8Array;
  op: MembershipOp;
  subjectId: Uint8Array;
  data: Uint8Array;
  /** The seconds a set-timer entry sets. */
  timer?: number;
}

function decodeMembershipEntry(
  entryBytes: Uint8Array,
  fail: (code: string, message: string) => never,
): MembershipEntry {
  let decoded: Omit<MembershipEntry, 'op'> & { opBytes: Uint8Array };
  try {
    const [body, signature] = decodeCanon(entryBytes, 'parley/v1/membership-entry', 2) as [
      Uint8Array,
      Uint8Array,
    ];
    const [roomId, position, prevHash, actorId, opBytes, subjectId, data] = decodeCanon(
      body,
      'parley/v1/membership',
      7,
    ) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    decoded = {
      body,
      signature: fixed(signature, SIGNATURE_BYTES, 'signature'),
      roomId: fixed(roomId, ID_BYTES, 'roomId'),
      position: readU64(position),
      prevHash: emptyOr(prevHash, HASH_BYTES, 'prevHash'),
      actorId: fixed(actorId, ID_BYTES, 'actorId'),
      opBytes,
      subjectId: emptyOr(subjectId, ID_BYTES, 'subjectId'),
      data,
    };
  } catch (error) {
    if (error instanceof EncodingError) return fail('CHAIN_MALFORMED', error.message);
    throw error;
  }
  const op = MEMBERSHIP_OPS.find((name) => equalBytes(ascii(name), decoded.opBytes));
  if (op === undefined) return fail('CHAIN_UNKNOWN_ENTRY_TYPE', 'unknown op');
  const { opBytes: _opBytes, ...rest } = decoded;
  // §5.1: every op but genesis names a subject; set-timer carries a message-timer and the others
  // no data; a genesis entry's subject and policy are judged by the genesis rule instead.
  if (op === 'genesis') return { ...rest, op };
  if (decoded.subjectId.length !== ID_BYTES)
    return fail('CHAIN_MALFORMED', `${op} without a subject`);
  if (op !== 'set-timer') {
    if (decoded.data.length !== 0) return fail('CHAIN_MALFORMED', `${op} entry with data`);
    return { ...rest, op };
  }
  let timer: number;
  try {
    const [seconds] = decodeCanon(decoded.data, 'parley/v1/message-timer', 1) as [Uint8Array];
    timer = readU64(seconds);
  } catch (error) {
    if (error instanceof EncodingError) return fail('CHAIN_MALFORMED', error.message);
    throw error;
  }
  if (timer > MAX_MESSAGE_TIMER_SECONDS) return fail('CHAIN_MALFORMED', 'a timer over a year');
  return { ...rest, op, timer };
}

/** The room policy of a valid genesis entry (§5.1, §5.2), or null. */
function genesisPolicy(entry: MembershipEntry): { kind: RoomKind; peerId: Uint8Array } | null {
  if (entry.op !== 'genesis' || entry.position !== 0) return null;
  if (entry.prevHash.length !== 0 || entry.subjectId.length !== 0) return null;
  try {
    const [kindBytes, peerId] = decodeCanon(entry.data, 'parley/v1/room-policy', 2) as [
      Uint8Array,
      Uint8Array,
    ];
    const kind = ROOM_KINDS.find((name) => equalBytes(ascii(name), kindBytes));
    if (kind === undefined) return null;
    if (kind === 'direct') {
      if (peerId.length !== ID_BYTES || equalBytes(peerId, entry.actorId)) return null;
    } else if (peerId.length !== 0) {
      return null;
    }
    return { kind, peerId };
  } catch (error) {
    if (error instanceof EncodingError) return null;
    throw error;
  }
}

/** Applies §5.2 to `members` in place. */
function applyRule(
  entry: MembershipEntry,
  kind: RoomKind,
  members: Map<string, Role>,
  isFirst: boolean,
): 'ok' | 'new-epoch' | 'not-allowed' {
  const actor = toHex(entry.actorId);
  const subject = toHex(entry.subjectId);
  const actorRole = members.get(actor);
  const subjectRole = members.get(subject);
  const managed = kind === 'channel' || kind === 'group';
  const actorIsAdmin = actorRole === 'admin';
  switch (entry.op) {
    case 'genesis': {
      if (!isFirst) return 'not-allowed';
      const policy = genesisPolicy(entry)!;
      if (kind === 'direct') {
        members.set(actor, 'member');
        members.set(toHex(policy.peerId), 'member');
      } else {
        members.set(actor, 'admin');
      }
      return 'ok';
    }
    case 'add':
      if (!managed || !actorIsAdmin || subjectRole !== undefined) return 'not-allowed';
      members.set(subject, 'member');
      return 'ok';
    case 'admit':
      if (kind !== 'channel' || actorRole === undefined || subjectRole !== undefined) {
        return 'not-allowed';
      }
      members.set(subject, 'member');
      return 'ok';
    case 'remove':
      if (!managed || !actorIsAdmin || subjectRole === undefined || subject === actor) {
        return 'not-allowed';
      }
      members.delete(subject);
      return 'new-epoch';
    case 'promote':
      if (!managed || !actorIsAdmin || subjectRole === undefined) return 'not-allowed';
      members.set(subject, 'admin');
      return 'ok';
    case 'demote':
      if (!managed || !actorIsAdmin || subjectRole !== 'admin' || subject === actor) {
        return 'not-allowed';
      }
      members.set(subject, 'member');
      return 'ok';
    case 'leave':
      if (actorRole === undefined || subject !== actor) return 'not-allowed';
      members.delete(actor);
      return 'new-epoch';
    case 'set-timer': {
      const allowed = managed ? actorIsAdmin : actorRole !== undefined;
      return allowed && subject === actor ? 'ok' : 'not-allowed';
    }
  }
}

// ---------------------------------------------------------------------------------------------
// §6 Messages

export interface MessageHeader {
  version: number;
  roomId: Uint8Array;
  epoch: number;
  senderId: Uint8Array;
  counter: number;
  messageId: Uint8Array;
  clientTime: number;
  prevHash: Uint8Array;
}

export const PAYLOAD_KINDS = ['text', 'edit', 'reaction', 'delete', 'call'] as const;

export interface MessagePayload {
  kind: (typeof PAYLOAD_KINDS)[number];
  text: string;
  replyTo: Uint8Array;
  target: Uint8Array;
  /** Encoded descriptors (§8), each checked to decode. */
  attachments: Uint8Array[];
  extra: Uint8Array;
}

export interface AttachmentDescriptor {
  blobId: string;
  fileKey: Uint8Array;
  hash: Uint8Array;
  size: number;
  mediaType: string;
  name: string;
}

export interface MessageReceiver {
  roomId: Uint8Array;
  senderId: Uint8Array;
  /** The sender's pinned identity key. */
  senderIdentityPublicKey: Uint8Array;
  /** Whether the sender is a member at `epoch`, as the chain says. */
  senderIsMember: boolean;
  epoch: number;
  /** The receiver's key for `epoch`, if it has one. */
  roomKey: Uint8Array | undefined;
}

export interface OpenedMessage {
  header: MessageHeader;
  nonce: Uint8Array;
  payload: MessagePayload;
  messageHash: Uint8Array;
}

export function openMessage(envelope: Uint8Array, receiver: MessageReceiver): OpenedMessage {
  // 1. decode, version, room
  const parsed = failWith('MESSAGE_MALFORMED', () => {
    const [headerBytes, nonce, ciphertext, signature] = decodeCanon(
      envelope,
      'parley/v1/message-envelope',
      4,
    ) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    return {
      headerBytes,
      header: decodeHeader(headerBytes),
      nonce: fixed(nonce, NONCE_BYTES, 'nonce'),
      ciphertext,
      signature: fixed(signature, SIGNATURE_BYTES, 'signature'),
    };
  });
  const { header, headerBytes, nonce, ciphertext, signature } = parsed;
  if (header.version !== 1) {
    throw new ProtocolFailure('MESSAGE_UNSUPPORTED_VERSION', `header version ${header.version}`);
  }
  if (!equalBytes(header.roomId, receiver.roomId)) {
    throw new ProtocolFailure('MESSAGE_WRONG_ROOM', 'header names another room');
  }

  // 2. signature, against the pinned key of the sender the header names
  const signatureInput = canon('parley/v1/message', headerBytes, nonce, ciphertext);
  if (
    !equalBytes(header.senderId, receiver.senderId) ||
    !verify(receiver.senderIdentityPublicKey, signatureInput, signature)
  ) {
    throw new ProtocolFailure('MESSAGE_BAD_SIGNATURE', 'sender signature does not verify');
  }

  // 3. membership and epoch key
  if (!receiver.senderIsMember) {
    throw new ProtocolFailure('MESSAGE_SENDER_NOT_MEMBER', 'sender not a member at that epoch');
  }
  if (receiver.roomKey === undefined || header.epoch !== receiver.epoch) {
    throw new ProtocolFailure('MESSAGE_UNKNOWN_EPOCH', `no key for epoch ${header.epoch}`);
  }

  // 4. decrypt, unpad, decode
  const key = messageKey(receiver.roomKey, header.roomId, header.epoch);
  const padded = aeadDecrypt(key, nonce, headerBytes, ciphertext);
  if (padded === null) throw new ProtocolFailure('MESSAGE_DECRYPT_FAILED', 'AEAD tag mismatch');
  const payloadBytes = unpadPayload(padded);
  if (payloadBytes === null) throw new ProtocolFailure('MESSAGE_BAD_PADDING', 'bad padding');
  const payload = failWith('MESSAGE_MALFORMED_PAYLOAD', () => decodePayload(payloadBytes));

  return { header, nonce, payload, messageHash: messageHash(envelope) };
}

export type MessageStatus = 'new' | 'duplicate' | 'out-of-order' | 'gap' | 'fork';

/** §6.5 step 5: where a verified message stands against what was seen from its sender. */
export function classifyMessage(
  counter: number,
  prevHash: Uint8Array,
  ownHash: Uint8Array,
  seen: ReadonlyMap<number, Uint8Array>,
): MessageStatus {
  const sameCounter = seen.get(counter);
  if (sameCounter !== undefined) {
    return equalBytes(sameCounter, ownHash) ? 'duplicate' : 'fork';
  }
  const before = seen.get(counter - 1);
  if (before !== undefined && !equalBytes(before, prevHash)) return 'fork';
  const highest = Math.max(0, ...seen.keys());
  if (counter === highest + 1) return 'new';
  if (counter > highest + 1) return 'gap';
  return 'out-of-order';
}

export function messageKey(roomKey: Uint8Array, roomId: Uint8Array, epoch: number): Uint8Array {
  return keyedHash(roomKey, canon('parley/v1/message-key', roomId, u64(epoch)));
}

export function messageHash(envelope: Uint8Array): Uint8Array {
  return hash(canon('parley/v1/message-hash', envelope));
}

export function encodeHeader(header: MessageHeader): Uint8Array {
  return canon(
    'parley/v1/message-header',
    u64(header.version),
    header.roomId,
    u64(header.epoch),
    header.senderId,
    u64(header.counter),
    header.messageId,
    u64(header.clientTime),
    header.prevHash,
  );
}

export function encodePayload(payload: MessagePayload): Uint8Array {
  return canon(
    'parley/v1/payload',
    ascii(payload.kind),
    utf8(payload.text),
    payload.replyTo,
    payload.target,
    encodeList(payload.attachments),
    payload.extra,
  );
}

/**
 * Rebuilds an envelope from its parts, to compare with a vector byte for byte: Ed25519 is
 * deterministic and the nonce is given, so the bytes are fixed.
 */
export function sealMessage(
  header: MessageHeader,
  payload: MessagePayload,
  roomKey: Uint8Array,
  nonce: Uint8Array,
  senderIdentitySeed: Uint8Array,
): Uint8Array {
  const headerBytes = encodeHeader(header);
  const ciphertext = aeadEncrypt(
    messageKey(roomKey, header.roomId, header.epoch),
    nonce,
    headerBytes,
    padPayload(encodePayload(payload)),
  );
  const signature = sign(
    senderIdentitySeed,
    canon('parley/v1/message', headerBytes, nonce, ciphertext),
  );
  return canon('parley/v1/message-envelope', headerBytes, nonce, ciphertext, signature);
}

export function decodeAttachmentDescriptor(bytes: Uint8Array): AttachmentDescriptor {
  const [blobId, fileKey, blobHash, size, mediaType, name] = decodeCanon(
    bytes,
    'parley/v1/attachment',
    6,
  ) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const blobIdText = readUtf8(blobId, 'blobId');
  if (!/^[\x20-\x7e]*$/.test(blobIdText)) throw new EncodingError('blobId: not printable ASCII');
  return {
    blobId: blobIdText,
    fileKey: fixed(fileKey, KEY_BYTES, 'fileKey'),
    hash: fixed(blobHash, HASH_BYTES, 'hash'),
    size: readU64(size),
    mediaType: readUtf8(mediaType, 'mediaType'),
    name: readUtf8(name, 'name'),
  };
}

function decodeHeader(bytes: Uint8Array): MessageHeader {
  const [version, roomId, epoch, senderId, counter, messageId, clientTime, prevHash] = decodeCanon(
    bytes,
    'parley/v1/message-header',
    8,
  ) as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const header: MessageHeader = {
    version: readU64(version),
    roomId: fixed(roomId, ID_BYTES, 'roomId'),
    epoch: readU64(epoch),
    senderId: fixed(senderId, ID_BYTES, 'senderId'),
    counter: readU64(counter),
    messageId: fixed(messageId, ID_BYTES, 'messageId'),
    clientTime: readU64(clientTime),
    prevHash: emptyOr(prevHash, HASH_BYTES, 'prevHash'),
  };
  // §6.1: counters start at 1, and prevHash is empty exactly for the first message.
  if (header.counter < 1) throw new EncodingError('header: counter below 1');
  if ((header.counter === 1) !== (header.prevHash.length === 0)) {
    throw new EncodingError('header: prevHash must be empty exactly when counter is 1');
  }
  return header;
}

function decodePayload(bytes: Uint8Array): MessagePayload {
  const [kind, text, replyTo, target, attachments, extra] = decodeCanon(
    bytes,
    'parley/v1/payload',
    6,
  ) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const kindName = PAYLOAD_KINDS.find((name) => equalBytes(ascii(name), kind));
  if (kindName === undefined) throw new EncodingError('payload: unknown kind');
  const descriptors = decodeList(attachments);
  descriptors.forEach(decodeAttachmentDescriptor);
  return {
    kind: kindName,
    text: readUtf8(text, 'text'),
    replyTo: emptyOr(replyTo, ID_BYTES, 'replyTo'),
    target: emptyOr(target, ID_BYTES, 'target'),
    attachments: descriptors,
    extra,
  };
}

// ---------------------------------------------------------------------------------------------
// §7 Key backup

export const BACKUP_FLOOR = { opslimit: 3, memlimit: 268435456 } as const;
export const BACKUP_CEILING = { opslimit: 16, memlimit: 1073741824 } as const;

export interface BackupSecrets {
  identitySeed: Uint8Array;
  encryptionSeed: Uint8Array;
  keyVersion: number;
  extra: Uint8Array;
}

export interface BackupBlob {
  version: number;
  userId: Uint8Array;
  salt: Uint8Array;
  opslimit: number;
  memlimit: number;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

export async function openBackup(
  blobBytes: Uint8Array,
  accountUserId: Uint8Array,
  passphrase: string,
): Promise<{ blob: BackupBlob; secrets: BackupSecrets }> {
  const blob = failWith('BACKUP_MALFORMED', () => decodeBackupBlob(blobBytes));
  if (blob.version !== 1) {
    throw new ProtocolFailure('BACKUP_UNSUPPORTED_VERSION', `backup version ${blob.version}`);
  }
  if (!equalBytes(blob.userId, accountUserId)) {
    throw new ProtocolFailure('BACKUP_WRONG_USER', 'backup belongs to another account');
  }
  if (blob.opslimit < BACKUP_FLOOR.opslimit || blob.memlimit < BACKUP_FLOOR.memlimit) {
    throw new ProtocolFailure('BACKUP_PARAMS_TOO_WEAK', 'KDF parameters below the floor');
  }
  if (blob.opslimit > BACKUP_CEILING.opslimit || blob.memlimit > BACKUP_CEILING.memlimit) {
    throw new ProtocolFailure('BACKUP_PARAMS_TOO_HIGH', 'KDF parameters above the ceiling');
  }
  const key = await backupKey(passphrase, blob);
  const plaintext = aeadDecrypt(key, blob.nonce, backupAd(blob), blob.ciphertext);
  if (plaintext === null) {
    throw new ProtocolFailure('BACKUP_DECRYPT_FAILED', 'wrong passphrase or tampered blob');
  }
  const secrets = failWith('BACKUP_MALFORMED', () => decodeBackupSecrets(plaintext));
  return { blob, secrets };
}

/** Rebuilds a blob from its secrets and the salt and nonce of another, to compare byte for byte. */
export async function sealBackup(
  secrets: BackupSecrets,
  passphrase: string,
  params: Omit<BackupBlob, 'ciphertext'>,
): Promise<Uint8Array> {
  const plaintext = canon(
    'parley/v1/backup-secrets',
    secrets.identitySeed,
    secrets.encryptionSeed,
    u64(secrets.keyVersion),
    secrets.extra,
  );
  const key = await backupKey(passphrase, params);
  const ciphertext = aeadEncrypt(key, params.nonce, backupAd(params), plaintext);
  return canon(
    'parley/v1/backup-blob',
    u64(params.version),
    params.userId,
    params.salt,
    u64(params.opslimit),
    u64(params.memlimit),
    params.nonce,
    ciphertext,
  );
}

function backupKey(
  passphrase: string,
  params: Pick<BackupBlob, 'salt' | 'opslimit' | 'memlimit'>,
): Promise<Uint8Array> {
  return kdf(utf8(passphrase.normalize('NFKC')), params.salt, {
    opslimit: params.opslimit,
    memlimit: params.memlimit,
  });
}

function backupAd(params: Pick<BackupBlob, 'userId' | 'salt' | 'opslimit' | 'memlimit'>) {
  return canon(
    'parley/v1/backup',
    params.userId,
    u64(1),
    params.salt,
    u64(params.opslimit),
    u64(params.memlimit),
  );
}

function decodeBackupBlob(bytes: Uint8Array): BackupBlob {
  const [version, userId, salt, opslimit, memlimit, nonce, ciphertext] = decodeCanon(
    bytes,
    'parley/v1/backup-blob',
    7,
  ) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return {
    version: readU64(version),
    userId: fixed(userId, ID_BYTES, 'userId'),
    salt: fixed(salt, 16, 'salt'),
    opslimit: readU64(opslimit),
    memlimit: readU64(memlimit),
    nonce: fixed(nonce, NONCE_BYTES, 'nonce'),
    ciphertext,
  };
}

function decodeBackupSecrets(bytes: Uint8Array): BackupSecrets {
  const [identitySeed, encryptionSeed, keyVersion, extra] = decodeCanon(
    bytes,
    'parley/v1/backup-secrets',
    4,
  ) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return {
    identitySeed: fixed(identitySeed, 32, 'identitySeed'),
    encryptionSeed: fixed(encryptionSeed, 32, 'encryptionSeed'),
    keyVersion: readU64(keyVersion),
    extra,
  };
}

// ---------------------------------------------------------------------------------------------
// §8 Attachments

export const ATTACHMENT_CHUNK_BYTES = 65536;

export function decryptAttachment(
  blob: Uint8Array,
  fileKey: Uint8Array,
  expectedHash: Uint8Array,
  size: number,
): Uint8Array {
  if (!equalBytes(hash(blob), expectedHash)) {
    throw new ProtocolFailure('ATTACHMENT_HASH_MISMATCH', 'blob hash differs from the descriptor');
  }
  if (blob.length < STREAM_HEADER_BYTES) {
    throw new ProtocolFailure('ATTACHMENT_MALFORMED', 'blob shorter than a stream header');
  }
  const stream = new SecretStreamPull(fileKey, blob.subarray(0, STREAM_HEADER_BYTES));
  const chunks: Uint8Array[] = [];
  let offset = STREAM_HEADER_BYTES;
  let finished = false;
  while (offset < blob.length) {
    if (finished) throw new ProtocolFailure('ATTACHMENT_TRUNCATED', 'data after the final chunk');
    const end = Math.min(blob.length, offset + ATTACHMENT_CHUNK_BYTES + STREAM_ABYTES);
    const pulled = stream.pull(blob.subarray(offset, end));
    if (pulled === null) {
      throw new ProtocolFailure('ATTACHMENT_DECRYPT_FAILED', `chunk at ${offset} does not decrypt`);
    }
    if (pulled.tag === TAG_FINAL) finished = true;
    else if (pulled.tag !== TAG_MESSAGE) {
      throw new ProtocolFailure('ATTACHMENT_MALFORMED', `unexpected stream tag ${pulled.tag}`);
    }
    chunks.push(pulled.message);
    offset = end;
  }
  if (!finished) throw new ProtocolFailure('ATTACHMENT_TRUNCATED', 'no final chunk');
  const plaintext = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    plaintext.set(chunk, at);
    at += chunk.length;
  }
  if (plaintext.length !== size) {
    throw new ProtocolFailure(
      'ATTACHMENT_MALFORMED',
      `plaintext is ${plaintext.length} bytes, not ${size}`,
    );
  }
  return plaintext;
}

// ---------------------------------------------------------------------------------------------
// §7.1 Sealed on this device

export interface DeviceSealExpectation {
  key: Uint8Array;
  purpose: string;
  userId: Uint8Array;
}

/** Opens a device-sealed blob with §7.1's checks in order; returns the plaintext and the nonce. */
export function openDeviceSeal(
  blob: Uint8Array,
  expected: DeviceSealExpectation,
): { plaintext: Uint8Array; nonce: Uint8Array } {
  const [version, purpose, nonce, ciphertext] = failWith('DEVICE_SEAL_MALFORMED', () =>
    decodeCanon(blob, 'parley/v1/device-seal-blob', 4),
  ) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  if (failWith('DEVICE_SEAL_MALFORMED', () => readU64(version)) !== 1) {
    throw new ProtocolFailure('DEVICE_SEAL_MALFORMED', 'device seal version is not 1');
  }
  if (!equalBytes(purpose, ascii(expected.purpose))) {
    throw new ProtocolFailure('DEVICE_SEAL_MALFORMED', 'sealed for another purpose');
  }
  if (nonce.length !== NONCE_BYTES) {
    throw new ProtocolFailure('DEVICE_SEAL_MALFORMED', `nonce of ${nonce.length} bytes`);
  }
  const plaintext = aeadDecrypt(expected.key, nonce, deviceSealAd(expected), ciphertext);
  if (plaintext === null) {
    throw new ProtocolFailure('DEVICE_SEAL_DECRYPT_FAILED', 'wrong key, account or changed blob');
  }
  return { plaintext, nonce };
}

/** The blob §7.1 makes of `plaintext` under a given nonce, to compare byte for byte. */
export function sealDeviceSeal(
  plaintext: Uint8Array,
  expected: DeviceSealExpectation,
  nonce: Uint8Array,
): Uint8Array {
  const ciphertext = aeadEncrypt(expected.key, nonce, deviceSealAd(expected), plaintext);
  return canon('parley/v1/device-seal-blob', u64(1), ascii(expected.purpose), nonce, ciphertext);
}

function deviceSealAd(expected: DeviceSealExpectation): Uint8Array {
  return canon('parley/v1/device-seal', u64(1), ascii(expected.purpose), expected.userId);
}

// ---------------------------------------------------------------------------------------------

/** Runs a decoder and reports any encoding failure under the given code. */
function failWith<T>(code: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof EncodingError) throw new ProtocolFailure(code, error.message);
    throw error;
  }
}
