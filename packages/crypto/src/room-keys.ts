// Room keys and the signed envelopes that deliver them to one member each (PROTOCOL.md §4).
import {
  ID_BYTES,
  assertBytes,
  assertU64,
  bytesEqual,
  canon,
  decodeCanon,
  expectLength,
  readU64,
  u64,
} from './encoding';
import { CryptoError, withOperation } from './errors';
import { assertIdentityKeyPair, type EncryptionKeyPair, type IdentityKeyPair } from './identity';
import {
  AEAD_KEY_BYTES,
  BOX_PUBLIC_BYTES,
  BOX_SECRET_BYTES,
  SEED_BYTES,
  SIGNATURE_BYTES,
  SIGN_PUBLIC_BYTES,
  hash,
  memzero,
  randomBytes,
  seal,
  sealOpen,
  sealWithEphemeralSeed,
  sign,
  verify,
} from './sodium';

export const ROOM_KEY_BYTES = AEAD_KEY_BYTES;
export const LABEL_ROOM_KEY = 'parley/v1/room-key';
export const LABEL_ROOM_KEY_ENVELOPE = 'parley/v1/room-key-envelope';

export interface RoomKeyEnvelope {
  roomId: Uint8Array;
  epoch: number;
  recipientId: Uint8Array;
  distributorId: Uint8Array;
  sealed: Uint8Array;
  signature: Uint8Array;
}

export interface SealRoomKeyInput {
  roomKey: Uint8Array;
  roomId: Uint8Array;
  epoch: number;
  recipientId: Uint8Array;
  recipientEncryptionKey: Uint8Array;
  distributorId: Uint8Array;
  distributor: IdentityKeyPair;
}

/** Looks up a pinned identity key by user id; undefined when none is known. */
export type IdentityKeyLookup = (userId: Uint8Array) => Uint8Array | undefined;

/** The outcome of §5.4 (see mayDistribute), or a predicate computing it for the named distributor. */
export type DistributorEntitlement =
  boolean | ((distributorId: Uint8Array, recipientId: Uint8Array, epoch: number) => boolean);

export interface OpenRoomKeyContext {
  /** The room and epoch the recipient asked for. */
  roomId: Uint8Array;
  epoch: number;
  recipientId: Uint8Array;
  recipientKeyPair: EncryptionKeyPair;
  /** The distributor's pinned identity key, or a lookup by the distributorId the envelope names. */
  distributorIdentityKey: Uint8Array | IdentityKeyLookup;
  distributorEntitled: DistributorEntitlement;
}

export function generateRoomKey(): Uint8Array {
  return randomBytes(ROOM_KEY_BYTES);
}

/**
 * Seals a room key to one member and signs the envelope. `dangerousTestOnlyEphemeralSeed` fixes
 * the sealed box's ephemeral key so that test vectors are reproducible; never pass it otherwise.
 */
export function sealRoomKey(
  input: SealRoomKeyInput,
  dangerousTestOnlyEphemeralSeed?: Uint8Array,
): Uint8Array {
  const operation = 'sealRoomKey';
  assertBytes(input.roomKey, operation, 'roomKey', ROOM_KEY_BYTES);
  assertBytes(input.roomId, operation, 'roomId', ID_BYTES);
  assertU64(input.epoch, operation, 'epoch');
  assertBytes(input.recipientId, operation, 'recipientId', ID_BYTES);
  assertBytes(input.recipientEncryptionKey, operation, 'recipientEncryptionKey', BOX_PUBLIC_BYTES);
  assertBytes(input.distributorId, operation, 'distributorId', ID_BYTES);
  assertIdentityKeyPair(input.distributor, operation);
  const sealed =
    dangerousTestOnlyEphemeralSeed === undefined
      ? seal(input.roomKey, input.recipientEncryptionKey)
      : sealWithEphemeralSeed(
          input.roomKey,
          input.recipientEncryptionKey,
          assertBytes(
            dangerousTestOnlyEphemeralSeed,
            operation,
            'dangerousTestOnlyEphemeralSeed',
            SEED_BYTES,
          ),
        );
  const epoch = u64(input.epoch);
  const signature = sign(
    signatureInput(input.roomId, epoch, input.recipientId, input.distributorId, sealed),
    input.distributor.secretKey,
  );
  return canon(LABEL_ROOM_KEY_ENVELOPE, [
    input.roomId,
    epoch,
    input.recipientId,
    input.distributorId,
    sealed,
    signature,
  ]);
}

/** Decodes an envelope without checking it (ENVELOPE_MALFORMED on bad structure). */
export function decodeRoomKeyEnvelope(bytes: Uint8Array): RoomKeyEnvelope {
  const operation = 'decodeRoomKeyEnvelope';
  assertBytes(bytes, operation, 'envelope');
  const code = 'ENVELOPE_MALFORMED';
  const [roomId, epoch, recipientId, distributorId, sealed, signature] = decodeCanon(
    bytes,
    LABEL_ROOM_KEY_ENVELOPE,
    6,
    code,
    operation,
  );
  return {
    roomId: expectLength(roomId, ID_BYTES, code, operation, 'roomId'),
    epoch: readU64(epoch, code, operation, 'epoch'),
    recipientId: expectLength(recipientId, ID_BYTES, code, operation, 'recipientId'),
    distributorId: expectLength(distributorId, ID_BYTES, code, operation, 'distributorId'),
    // Not length-checked: a sealed box that does not open to 32 bytes fails at step 5 (§4).
    sealed,
    signature: expectLength(signature, SIGNATURE_BYTES, code, operation, 'signature'),
  };
}

/** Opens an envelope with the checks of §4 in order, returning the 32-byte room key. */
export function openRoomKeyEnvelope(bytes: Uint8Array, context: OpenRoomKeyContext): Uint8Array {
  const operation = 'openRoomKeyEnvelope';
  assertBytes(context.roomId, operation, 'roomId', ID_BYTES);
  assertU64(context.epoch, operation, 'epoch');
  assertBytes(context.recipientId, operation, 'recipientId', ID_BYTES);
  assertBytes(
    context.recipientKeyPair?.publicKey,
    operation,
    'recipientKeyPair.publicKey',
    BOX_PUBLIC_BYTES,
  );
  assertBytes(
    context.recipientKeyPair.secretKey,
    operation,
    'recipientKeyPair.secretKey',
    BOX_SECRET_BYTES,
  );

  // 1. decode
  let envelope: RoomKeyEnvelope;
  try {
    envelope = decodeRoomKeyEnvelope(bytes);
  } catch (error) {
    throw withOperation(error, operation);
  }
  // 2. the room, epoch and recipient asked for
  if (!bytesEqual(envelope.roomId, context.roomId)) {
    throw new CryptoError('ENVELOPE_WRONG_ROOM', operation, 'envelope is for another room');
  }
  if (envelope.epoch !== context.epoch) {
    throw new CryptoError(
      'ENVELOPE_WRONG_EPOCH',
      operation,
      `envelope is for epoch ${envelope.epoch}, expected ${context.epoch}`,
    );
  }
  if (!bytesEqual(envelope.recipientId, context.recipientId)) {
    throw new CryptoError('ENVELOPE_WRONG_RECIPIENT', operation, 'envelope is for another member');
  }
  // 3. the distributor's signature, under its pinned key
  const distributorKey =
    typeof context.distributorIdentityKey === 'function'
      ? context.distributorIdentityKey(envelope.distributorId)
      : context.distributorIdentityKey;
  if (distributorKey === undefined) {
    throw new CryptoError('ENVELOPE_BAD_SIGNATURE', operation, 'no pinned key for the distributor');
  }
  assertBytes(distributorKey, operation, 'distributorIdentityKey', SIGN_PUBLIC_BYTES);
  if (!verifyRoomKeyEnvelopeSignature(envelope, distributorKey)) {
    throw new CryptoError(
      'ENVELOPE_BAD_SIGNATURE',
      operation,
      'distributor signature does not verify',
    );
  }
  // 4. the chain entitles the distributor (§5.4)
  const entitled =
    typeof context.distributorEntitled === 'function'
      ? context.distributorEntitled(envelope.distributorId, envelope.recipientId, envelope.epoch)
      : context.distributorEntitled;
  if (entitled !== true) {
    throw new CryptoError(
      'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
      operation,
      'the distributor may not hand out this epoch key to this member',
    );
  }
  // 5. the sealed box opens to exactly one key
  const roomKey = sealOpen(
    envelope.sealed,
    context.recipientKeyPair.publicKey,
    context.recipientKeyPair.secretKey,
  );
  if (roomKey === undefined || roomKey.length !== ROOM_KEY_BYTES) {
    if (roomKey !== undefined) memzero(roomKey);
    throw new CryptoError(
      'ENVELOPE_DECRYPT_FAILED',
      operation,
      'sealed room key does not open to 32 bytes',
    );
  }
  return roomKey;
}

/** §4: does the envelope's signature verify under the distributor's identity key? */
export function verifyRoomKeyEnvelopeSignature(
  envelope: RoomKeyEnvelope,
  distributorIdentityKey: Uint8Array,
): boolean {
  return verify(
    envelope.signature,
    signatureInput(
      envelope.roomId,
      u64(envelope.epoch),
      envelope.recipientId,
      envelope.distributorId,
      envelope.sealed,
    ),
    distributorIdentityKey,
  );
}

function signatureInput(
  roomId: Uint8Array,
  epoch: Uint8Array,
  recipientId: Uint8Array,
  distributorId: Uint8Array,
  sealed: Uint8Array,
): Uint8Array {
  return canon(LABEL_ROOM_KEY, [roomId, epoch, recipientId, distributorId, hash(sealed)]);
}
