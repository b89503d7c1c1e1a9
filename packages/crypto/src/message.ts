// Messages (PROTOCOL.md §6): a canonical header used as associated data, a padded canonical
// payload encrypted under the epoch's message key, the sender's signature over all of it, and the
// classification of each verified message against what was seen from its sender before.
import {
  decodeAttachmentDescriptor,
  encodeAttachmentDescriptor,
  type AttachmentDescriptor,
} from './attachment';
import {
  ID_BYTES,
  ascii,
  assertBytes,
  assertOneOf,
  assertString,
  assertU64,
  bytesEqual,
  canon,
  decodeCanon,
  decodeList,
  encodeList,
  expectLength,
  generateId,
  readAscii,
  readU64,
  readUtf8,
  u64,
  utf8,
} from './encoding';
import { CryptoError, withOperation } from './errors';
import { assertIdentityKeyPair, type IdentityKeyPair } from './identity';
import type { IdentityKeyLookup } from './room-keys';
import {
  AEAD_KEY_BYTES,
  AEAD_NONCE_BYTES,
  HASH_BYTES,
  SIGNATURE_BYTES,
  SIGN_PUBLIC_BYTES,
  aeadDecrypt,
  aeadEncrypt,
  hash,
  keyedHash,
  memzero,
  pad,
  randomBytes,
  sign,
  unpad,
  verify,
} from './sodium';

export const MESSAGE_VERSION = 1;
export const PAYLOAD_KINDS = ['text', 'edit', 'reaction', 'delete', 'call'] as const;
export type PayloadKind = (typeof PAYLOAD_KINDS)[number];
export type MessageStatus = 'new' | 'duplicate' | 'out-of-order' | 'gap' | 'fork';

export const LABEL_MESSAGE_KEY = 'parley/v1/message-key';
export const LABEL_MESSAGE_HEADER = 'parley/v1/message-header';
export const LABEL_PAYLOAD = 'parley/v1/payload';
export const LABEL_MESSAGE = 'parley/v1/message';
export const LABEL_MESSAGE_ENVELOPE = 'parley/v1/message-envelope';
export const LABEL_MESSAGE_HASH = 'parley/v1/message-hash';

export interface MessageHeader {
  version: number;
  roomId: Uint8Array;
  epoch: number;
  senderId: Uint8Array;
  /** The sender's per-room counter, from 1. */
  counter: number;
  messageId: Uint8Array;
  /** Milliseconds since the epoch on the sender's clock (advisory). */
  clientTime: number;
  /** Hash of the sender's previous message in the room; empty when counter is 1. */
  prevHash: Uint8Array;
}

export interface MessagePayload {
  kind: PayloadKind;
  text: string;
  /** Message id replied to, or empty. */
  replyTo: Uint8Array;
  /** Message id edited, reacted to or deleted, or empty. */
  target: Uint8Array;
  attachments: AttachmentDescriptor[];
  /** Kind-specific bytes (for `call`, UTF-8 JSON signalling), or empty. */
  extra: Uint8Array;
}

/** A payload to send; omitted fields are empty. */
export type MessagePayloadInput = Pick<MessagePayload, 'kind'> &
  Partial<Omit<MessagePayload, 'kind'>>;

export interface EncryptMessageInput {
  roomId: Uint8Array;
  epoch: number;
  roomKey: Uint8Array;
  senderId: Uint8Array;
  sender: IdentityKeyPair;
  counter: number;
  /** Empty (or absent) for counter 1, else the hash of the sender's previous message. */
  prevHash?: Uint8Array;
  clientTime: number;
  /** A fresh random id unless given (a retry resends the same id). */
  messageId?: Uint8Array;
  payload: MessagePayloadInput;
}

export interface SealedMessage {
  envelope: Uint8Array;
  header: MessageHeader;
  messageHash: Uint8Array;
}

export interface MessageEnvelope {
  header: MessageHeader;
  /** The header exactly as encoded in the envelope: the AEAD associated data. */
  headerBytes: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  signature: Uint8Array;
}

export interface OpenMessageContext {
  /** The room the message came from. */
  roomId: Uint8Array;
  /** The pinned identity key of the sender the header names. */
  identityKeyOf: IdentityKeyLookup;
  /** Whether the sender is a member at the header's epoch (see isMemberAtEpoch), or a predicate. */
  senderIsMember: boolean | ((senderId: Uint8Array, epoch: number) => boolean);
  /** The receiver's room key for an epoch, if it has one. */
  roomKeyOf: (epoch: number) => Uint8Array | undefined;
}

export interface OpenedMessage {
  header: MessageHeader;
  payload: MessagePayload;
  messageHash: Uint8Array;
}

/** What a receiver knows of one sender in one room: the hash of each counter seen. */
export interface SenderState {
  highest: number;
  hashes: ReadonlyMap<number, Uint8Array>;
}

export const EMPTY_SENDER_STATE: SenderState = Object.freeze({ highest: 0, hashes: new Map() });

export function encodeHeader(header: MessageHeader): Uint8Array {
  const operation = 'encodeHeader';
  assertU64(header.version, operation, 'version');
  assertBytes(header.roomId, operation, 'roomId', ID_BYTES);
  assertU64(header.epoch, operation, 'epoch');
  assertBytes(header.senderId, operation, 'senderId', ID_BYTES);
  const counter = assertU64(header.counter, operation, 'counter', 1);
  assertBytes(header.messageId, operation, 'messageId', ID_BYTES);
  assertU64(header.clientTime, operation, 'clientTime');
  assertBytes(header.prevHash, operation, 'prevHash', counter === 1 ? 0 : HASH_BYTES);
  return canon(LABEL_MESSAGE_HEADER, [
    u64(header.version),
    header.roomId,
    u64(header.epoch),
    header.senderId,
    u64(header.counter),
    header.messageId,
    u64(header.clientTime),
    header.prevHash,
  ]);
}

/** MESSAGE_MALFORMED unless the header is canonical (§6.1); any version decodes. */
export function decodeHeader(bytes: Uint8Array): MessageHeader {
  const operation = 'decodeHeader';
  const code = 'MESSAGE_MALFORMED';
  assertBytes(bytes, operation, 'header');
  const [version, roomId, epoch, senderId, counter, messageId, clientTime, prevHash] = decodeCanon(
    bytes,
    LABEL_MESSAGE_HEADER,
    8,
    code,
    operation,
  );
  const header: MessageHeader = {
    version: readU64(version, code, operation, 'version'),
    roomId: expectLength(roomId, ID_BYTES, code, operation, 'roomId'),
    epoch: readU64(epoch, code, operation, 'epoch'),
    senderId: expectLength(senderId, ID_BYTES, code, operation, 'senderId'),
    counter: readU64(counter, code, operation, 'counter'),
    messageId: expectLength(messageId, ID_BYTES, code, operation, 'messageId'),
    clientTime: readU64(clientTime, code, operation, 'clientTime'),
    prevHash: expectLength(prevHash, [0, HASH_BYTES], code, operation, 'prevHash'),
  };
  if (header.counter < 1) throw new CryptoError(code, operation, 'counter starts at 1');
  if ((header.counter === 1) !== (header.prevHash.length === 0)) {
    throw new CryptoError(code, operation, 'prevHash is empty exactly for counter 1');
  }
  return header;
}

/** messageKey = KH(roomKey, canon("parley/v1/message-key", roomId, u64(epoch))). */
export function deriveMessageKey(
  roomKey: Uint8Array,
  roomId: Uint8Array,
  epoch: number,
): Uint8Array {
  const operation = 'deriveMessageKey';
  assertBytes(roomKey, operation, 'roomKey', AEAD_KEY_BYTES);
  assertBytes(roomId, operation, 'roomId', ID_BYTES);
  assertU64(epoch, operation, 'epoch');
  return keyedHash(roomKey, canon(LABEL_MESSAGE_KEY, [roomId, u64(epoch)]));
}

/** bucket(n) of §6.3: the padded length for n bytes, so a length leaks only its bucket. */
export function bucket(n: number): number {
  assertU64(n, 'bucket', 'n', 1);
  if (n <= 256) return 256;
  if (n <= 65536) return 2 ** Math.ceil(Math.log2(n));
  return Math.ceil(n / 65536) * 65536;
}

/** The canonical payload, padded to its bucket: the AEAD plaintext. */
export function encodePayload(payload: MessagePayloadInput): Uint8Array {
  const operation = 'encodePayload';
  const kind = assertOneOf(payload.kind, PAYLOAD_KINDS, operation, 'kind');
  const text = payload.text === undefined ? '' : assertString(payload.text, operation, 'text');
  const replyTo = optionalBytes(payload.replyTo, operation, 'replyTo', [0, ID_BYTES]);
  const target = optionalBytes(payload.target, operation, 'target', [0, ID_BYTES]);
  const extra = optionalBytes(payload.extra, operation, 'extra');
  const attachments = payload.attachments ?? [];
  if (!Array.isArray(attachments)) {
    throw new CryptoError('INVALID_ARGUMENT', operation, 'attachments: expected an array');
  }
  const encoded = canon(LABEL_PAYLOAD, [
    ascii(kind),
    utf8(text),
    replyTo,
    target,
    encodeList(attachments.map(encodeAttachmentDescriptor)),
    extra,
  ]);
  const padded = pad(encoded, bucket(encoded.length + 1));
  memzero(encoded);
  return padded;
}

/** Unpads (MESSAGE_BAD_PADDING) and decodes (MESSAGE_MALFORMED_PAYLOAD) a decrypted payload. */
export function decodePayload(padded: Uint8Array): MessagePayload {
  const operation = 'decodePayload';
  assertBytes(padded, operation, 'padded');
  const encoded = padded.length === 0 ? undefined : unpad(padded, padded.length);
  if (encoded === undefined || padded.length !== bucket(encoded.length + 1)) {
    throw new CryptoError('MESSAGE_BAD_PADDING', operation, 'padding is not canonical');
  }
  const code = 'MESSAGE_MALFORMED_PAYLOAD';
  try {
    const [kind, text, replyTo, target, attachments, extra] = decodeCanon(
      encoded,
      LABEL_PAYLOAD,
      6,
      code,
      operation,
    );
    const kindName = readAscii(kind);
    if (kindName === undefined || !(PAYLOAD_KINDS as readonly string[]).includes(kindName)) {
      throw new CryptoError(code, operation, 'unknown payload kind');
    }
    return {
      kind: kindName as PayloadKind,
      text: readUtf8(text, code, operation, 'text'),
      replyTo: expectLength(replyTo, [0, ID_BYTES], code, operation, 'replyTo'),
      target: expectLength(target, [0, ID_BYTES], code, operation, 'target'),
      attachments: decodeList(attachments, code, operation).map(decodeAttachmentDescriptor),
      extra,
    };
  } catch (error) {
    throw withOperation(error, operation);
  } finally {
    memzero(encoded);
  }
}

/**
 * Encrypts and signs a message (§6.4). `dangerousTestOnlyNonce` fixes the AEAD nonce so that test
 * vectors are reproducible; never pass it otherwise, a repeated nonce breaks confidentiality.
 */
export function encryptMessage(
  input: EncryptMessageInput,
  dangerousTestOnlyNonce?: Uint8Array,
): SealedMessage {
  const operation = 'encryptMessage';
  assertIdentityKeyPair(input.sender, operation);
  const counter = assertU64(input.counter, operation, 'counter', 1);
  const header: MessageHeader = {
    version: MESSAGE_VERSION,
    roomId: assertBytes(input.roomId, operation, 'roomId', ID_BYTES),
    epoch: assertU64(input.epoch, operation, 'epoch'),
    senderId: assertBytes(input.senderId, operation, 'senderId', ID_BYTES),
    counter,
    messageId:
      input.messageId === undefined
        ? generateId()
        : assertBytes(input.messageId, operation, 'messageId', ID_BYTES),
    clientTime: assertU64(input.clientTime, operation, 'clientTime'),
    prevHash: optionalBytes(input.prevHash, operation, 'prevHash', counter === 1 ? 0 : HASH_BYTES),
  };
  const nonce =
    dangerousTestOnlyNonce === undefined
      ? randomBytes(AEAD_NONCE_BYTES)
      : assertBytes(dangerousTestOnlyNonce, operation, 'dangerousTestOnlyNonce', AEAD_NONCE_BYTES);
  const headerBytes = encodeHeader(header);
  const key = deriveMessageKey(input.roomKey, header.roomId, header.epoch);
  const padded = encodePayload(input.payload);
  const ciphertext = aeadEncrypt(padded, headerBytes, nonce, key);
  memzero(padded);
  memzero(key);
  const signature = sign(
    canon(LABEL_MESSAGE, [headerBytes, nonce, ciphertext]),
    input.sender.secretKey,
  );
  const envelope = canon(LABEL_MESSAGE_ENVELOPE, [headerBytes, nonce, ciphertext, signature]);
  return { envelope, header, messageHash: messageHash(envelope) };
}

/** Decodes an envelope and its header without checking them (MESSAGE_MALFORMED). */
export function decodeMessageEnvelope(bytes: Uint8Array): MessageEnvelope {
  const operation = 'decodeMessageEnvelope';
  const code = 'MESSAGE_MALFORMED';
  assertBytes(bytes, operation, 'envelope');
  const [headerBytes, nonce, ciphertext, signature] = decodeCanon(
    bytes,
    LABEL_MESSAGE_ENVELOPE,
    4,
    code,
    operation,
  );
  let header: MessageHeader;
  try {
    header = decodeHeader(headerBytes);
  } catch (error) {
    throw withOperation(error, operation);
  }
  return {
    header,
    headerBytes,
    nonce: expectLength(nonce, AEAD_NONCE_BYTES, code, operation, 'nonce'),
    ciphertext,
    signature: expectLength(signature, SIGNATURE_BYTES, code, operation, 'signature'),
  };
}

/** Verifies and decrypts a message with the checks of §6.5 steps 1 to 4, in order. */
export function openMessage(bytes: Uint8Array, context: OpenMessageContext): OpenedMessage {
  const operation = 'openMessage';
  assertBytes(context.roomId, operation, 'roomId', ID_BYTES);
  for (const name of ['identityKeyOf', 'roomKeyOf'] as const) {
    if (typeof context[name] !== 'function') {
      throw new CryptoError('INVALID_ARGUMENT', operation, `${name}: expected a function`);
    }
  }

  // 1. decode, version, room
  let envelope: MessageEnvelope;
  try {
    envelope = decodeMessageEnvelope(bytes);
  } catch (error) {
    throw withOperation(error, operation);
  }
  const { header, headerBytes, nonce, ciphertext, signature } = envelope;
  if (header.version !== MESSAGE_VERSION) {
    throw new CryptoError('MESSAGE_UNSUPPORTED_VERSION', operation, `version ${header.version}`);
  }
  if (!bytesEqual(header.roomId, context.roomId)) {
    throw new CryptoError('MESSAGE_WRONG_ROOM', operation, 'the header names another room');
  }

  // 2. the sender's signature under its pinned key
  const senderKey = context.identityKeyOf(header.senderId);
  if (senderKey === undefined) {
    throw new CryptoError('MESSAGE_BAD_SIGNATURE', operation, 'no pinned key for the sender');
  }
  assertBytes(senderKey, operation, 'sender identity key', SIGN_PUBLIC_BYTES);
  if (!verify(signature, canon(LABEL_MESSAGE, [headerBytes, nonce, ciphertext]), senderKey)) {
    throw new CryptoError('MESSAGE_BAD_SIGNATURE', operation, 'sender signature does not verify');
  }

  // 3. membership at that epoch, and the epoch's key
  const member =
    typeof context.senderIsMember === 'function'
      ? context.senderIsMember(header.senderId, header.epoch)
      : context.senderIsMember;
  if (member !== true) {
    throw new CryptoError(
      'MESSAGE_SENDER_NOT_MEMBER',
      operation,
      `sender is not a member at epoch ${header.epoch}`,
    );
  }
  const roomKey = context.roomKeyOf(header.epoch);
  if (roomKey === undefined) {
    throw new CryptoError(
      'MESSAGE_UNKNOWN_EPOCH',
      operation,
      `no room key for epoch ${header.epoch}`,
    );
  }

  // 4. decrypt, unpad, decode
  const key = deriveMessageKey(roomKey, header.roomId, header.epoch);
  const padded = aeadDecrypt(ciphertext, headerBytes, nonce, key);
  memzero(key);
  if (padded === undefined) {
    throw new CryptoError('MESSAGE_DECRYPT_FAILED', operation, 'ciphertext does not authenticate');
  }
  try {
    return { header, payload: decodePayload(padded), messageHash: messageHash(bytes) };
  } catch (error) {
    throw withOperation(error, operation);
  } finally {
    memzero(padded);
  }
}

/** H(canon("parley/v1/message-hash", envelope)): what the sender's next message links to. */
export function messageHash(envelope: Uint8Array): Uint8Array {
  assertBytes(envelope, 'messageHash', 'envelope');
  return hash(canon(LABEL_MESSAGE_HASH, [envelope]));
}

/**
 * §6.5 step 5: where a verified message stands against what was seen from its sender. The new
 * state records the message unless it is a duplicate or a fork.
 */
export function classifyMessage(
  senderState: SenderState | undefined,
  header: Pick<MessageHeader, 'counter' | 'prevHash'>,
  hashOfMessage: Uint8Array,
): { status: MessageStatus; state: SenderState } {
  const operation = 'classifyMessage';
  const state = senderState ?? EMPTY_SENDER_STATE;
  const counter = assertU64(header.counter, operation, 'counter', 1);
  assertBytes(header.prevHash, operation, 'prevHash', [0, HASH_BYTES]);
  assertBytes(hashOfMessage, operation, 'hash', HASH_BYTES);

  const sameCounter = state.hashes.get(counter);
  if (sameCounter !== undefined) {
    return { status: bytesEqual(sameCounter, hashOfMessage) ? 'duplicate' : 'fork', state };
  }
  const before = state.hashes.get(counter - 1);
  if (before !== undefined && !bytesEqual(before, header.prevHash))
    return { status: 'fork', state };

  const status: MessageStatus =
    counter === state.highest + 1 ? 'new' : counter > state.highest + 1 ? 'gap' : 'out-of-order';
  const hashes = new Map(state.hashes);
  hashes.set(counter, hashOfMessage.slice());
  return { status, state: { highest: Math.max(state.highest, counter), hashes } };
}

function optionalBytes(
  value: Uint8Array | undefined,
  operation: string,
  name: string,
  length?: number | readonly number[],
): Uint8Array {
  return value === undefined ? new Uint8Array() : assertBytes(value, operation, name, length);
}
