import sodium from 'libsodium-wrappers-sumo';
import { describe, expect, it } from 'vitest';
import {
  canon,
  decodeRoomKeyEnvelope,
  encryptionKeyPair,
  generateRoomKey,
  identityKeyPair,
  openRoomKeyEnvelope,
  sealRoomKey,
  u64,
  verifyRoomKeyEnvelopeSignature,
  type OpenRoomKeyContext,
} from '../src/index';
import { bytes, expectCode, expectEveryFlipRefused, fieldOf, flippedU64, locate } from './helpers';

const roomId = bytes(16, 0xa1);
const recipientId = bytes(16, 0xb2);
const distributorId = bytes(16, 0xc3);
const recipient = encryptionKeyPair(bytes(32, 5));
const distributor = identityKeyPair(bytes(32, 6));
const roomKey = bytes(32, 0x42);

function seal(
  overrides: Partial<Parameters<typeof sealRoomKey>[0]> = {},
  ephemeralSeed?: Uint8Array,
) {
  return sealRoomKey(
    {
      roomKey,
      roomId,
      epoch: 3,
      recipientId,
      recipientEncryptionKey: recipient.publicKey,
      distributorId,
      distributor,
      ...overrides,
    },
    ephemeralSeed,
  );
}

const context: OpenRoomKeyContext = {
  roomId,
  epoch: 3,
  recipientId,
  recipientKeyPair: recipient,
  distributorIdentityKey: distributor.publicKey,
  distributorEntitled: true,
};

describe('room keys', () => {
  it('generates fresh 32-byte keys', () => {
    const key = generateRoomKey();
    expect(key.length).toBe(32);
    expect(key).not.toEqual(generateRoomKey());
  });

  it('lets a holder of no private key (the server) check the distributor signature alone', () => {
    const envelope = decodeRoomKeyEnvelope(seal());
    expect(verifyRoomKeyEnvelopeSignature(envelope, distributor.publicKey)).toBe(true);
    expect(verifyRoomKeyEnvelopeSignature(envelope, recipient.publicKey)).toBe(false);
    const redirected = { ...envelope, recipientId: distributorId };
    expect(verifyRoomKeyEnvelopeSignature(redirected, distributor.publicKey)).toBe(false);
    expect(verifyRoomKeyEnvelopeSignature(envelope, bytes(16, 1))).toBe(false);
  });

  it('seals to a recipient who opens it', () => {
    const envelope = seal();
    expect(openRoomKeyEnvelope(envelope, context)).toEqual(roomKey);
    const decoded = decodeRoomKeyEnvelope(envelope);
    expect(decoded).toMatchObject({ roomId, epoch: 3, recipientId, distributorId });
    expect(decoded.sealed.length).toBe(80);
    // The box is libsodium's sealed box: crypto_box_seal_open opens it directly.
    expect(
      sodium.crypto_box_seal_open(decoded.sealed, recipient.publicKey, recipient.secretKey),
    ).toEqual(roomKey);
  });

  it('signs canon("parley/v1/room-key", room, epoch, recipient, distributor, H(sealed))', () => {
    const decoded = decodeRoomKeyEnvelope(seal());
    const input = canon('parley/v1/room-key', [
      roomId,
      u64(3),
      recipientId,
      distributorId,
      sodium.crypto_generichash(32, decoded.sealed, null),
    ]);
    expect(
      sodium.crypto_sign_verify_detached(decoded.signature, input, distributor.publicKey),
    ).toBe(true);
  });

  it('is randomised, and reproducible only with the test-only ephemeral seed', () => {
    expect(seal()).not.toEqual(seal());
    expect(seal({}, bytes(32, 9))).toEqual(seal({}, bytes(32, 9)));
    expect(openRoomKeyEnvelope(seal({}, bytes(32, 9)), context)).toEqual(roomKey);
  });

  it('looks the distributor key up by the id the envelope names, and asks the entitlement predicate', () => {
    const asked: string[] = [];
    const key = openRoomKeyEnvelope(seal(), {
      ...context,
      distributorIdentityKey: (id) =>
        sodium.memcmp(id, distributorId) ? distributor.publicKey : undefined,
      distributorEntitled: (d, r, epoch) => {
        asked.push(`${sodium.to_hex(d)} ${sodium.to_hex(r)} ${epoch}`);
        return true;
      },
    });
    expect(key).toEqual(roomKey);
    expect(asked).toEqual([`${sodium.to_hex(distributorId)} ${sodium.to_hex(recipientId)} 3`]);
  });

  it('rejects each check of §4 with its code, in order', () => {
    const envelope = seal();
    expectCode(
      () => openRoomKeyEnvelope(envelope.subarray(0, envelope.length - 1), context),
      'ENVELOPE_MALFORMED',
    );
    expectCode(
      () => openRoomKeyEnvelope(new Uint8Array([...envelope, 0]), context),
      'ENVELOPE_MALFORMED',
    );
    expectCode(
      () => openRoomKeyEnvelope(envelope, { ...context, roomId: bytes(16, 1) }),
      'ENVELOPE_WRONG_ROOM',
    );
    expectCode(
      () => openRoomKeyEnvelope(envelope, { ...context, epoch: 4 }),
      'ENVELOPE_WRONG_EPOCH',
    );
    expectCode(
      () => openRoomKeyEnvelope(envelope, { ...context, recipientId: bytes(16, 1) }),
      'ENVELOPE_WRONG_RECIPIENT',
    );
    expectCode(
      () =>
        openRoomKeyEnvelope(envelope, {
          ...context,
          distributorIdentityKey: identityKeyPair(bytes(32, 7)).publicKey,
        }),
      'ENVELOPE_BAD_SIGNATURE',
    );
    expectCode(
      () => openRoomKeyEnvelope(envelope, { ...context, distributorIdentityKey: () => undefined }),
      'ENVELOPE_BAD_SIGNATURE',
    );
    expectCode(
      () => openRoomKeyEnvelope(envelope, { ...context, distributorEntitled: false }),
      'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
    );
    expectCode(
      () => openRoomKeyEnvelope(envelope, { ...context, distributorEntitled: () => false }),
      'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
    );
    expectCode(
      () =>
        openRoomKeyEnvelope(envelope, {
          ...context,
          recipientKeyPair: encryptionKeyPair(bytes(32, 8)),
        }),
      'ENVELOPE_DECRYPT_FAILED',
    );
    // Earlier checks win: wrong room and a bad signature together is WRONG_ROOM.
    expectCode(
      () =>
        openRoomKeyEnvelope(envelope, {
          ...context,
          roomId: bytes(16, 1),
          distributorEntitled: false,
        }),
      'ENVELOPE_WRONG_ROOM',
    );
  });

  it('rejects a validly signed sealed box that does not hold exactly 32 bytes', () => {
    for (const length of [31, 33]) {
      const sealed = sodium.crypto_box_seal(new Uint8Array(length), recipient.publicKey);
      const hashOfSealed = sodium.crypto_generichash(32, sealed, null);
      const signature = sodium.crypto_sign_detached(
        canon('parley/v1/room-key', [roomId, u64(3), recipientId, distributorId, hashOfSealed]),
        distributor.secretKey,
      );
      const envelope = canon('parley/v1/room-key-envelope', [
        roomId,
        u64(3),
        recipientId,
        distributorId,
        sealed,
        signature,
      ]);
      expectCode(() => openRoomKeyEnvelope(envelope, context), 'ENVELOPE_DECRYPT_FAILED');
    }
  });

  it('rejects a structure signed under another label', () => {
    const decoded = decodeRoomKeyEnvelope(seal());
    const relabelled = canon('parley/v1/room-key-envelope', [
      roomId,
      u64(3),
      recipientId,
      distributorId,
      decoded.sealed,
      sodium.crypto_sign_detached(
        canon('parley/v1/message', [
          roomId,
          u64(3),
          recipientId,
          distributorId,
          sodium.crypto_generichash(32, decoded.sealed, null),
        ]),
        distributor.secretKey,
      ),
    ]);
    expectCode(() => openRoomKeyEnvelope(relabelled, context), 'ENVELOPE_BAD_SIGNATURE');
  });

  it('rejects every flipped byte with the code of the field it lands in', () => {
    const envelope = seal({}, bytes(32, 1));
    const codeFor = (index: number, mask: number) => {
      const { field, offset } = locate(envelope, index);
      switch (field) {
        case -1:
          return 'ENVELOPE_MALFORMED';
        case 0:
          return 'ENVELOPE_WRONG_ROOM';
        case 1:
          return flippedU64(fieldOf(envelope, 1), offset, mask) === undefined
            ? 'ENVELOPE_MALFORMED'
            : 'ENVELOPE_WRONG_EPOCH';
        case 2:
          return 'ENVELOPE_WRONG_RECIPIENT';
        default:
          return 'ENVELOPE_BAD_SIGNATURE'; // distributorId, sealed and signature are all signed
      }
    };
    expectEveryFlipRefused(
      envelope,
      (tampered) => openRoomKeyEnvelope(tampered, context),
      codeFor,
      300,
    );
  });

  it('validates arguments at the boundary', () => {
    expectCode(() => seal({ roomKey: bytes(31, 0) }), 'INVALID_ARGUMENT');
    expectCode(() => seal({ epoch: -1 }), 'INVALID_ARGUMENT');
    expectCode(() => seal({ recipientEncryptionKey: bytes(33, 0) }), 'INVALID_ARGUMENT');
    expectCode(() => seal({}, bytes(16, 0)), 'INVALID_ARGUMENT');
    expectCode(
      () => openRoomKeyEnvelope(seal(), { ...context, roomId: bytes(15, 0) }),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () => openRoomKeyEnvelope('x' as unknown as Uint8Array, context),
      'INVALID_ARGUMENT',
    );
  });
});
