import fc from 'fast-check';
import sodium from 'libsodium-wrappers-sumo';
import { describe, expect, it } from 'vitest';
import {
  canon,
  compareSafetyQr,
  encryptionKeyPair,
  fingerprint,
  fromHex,
  generateIdentity,
  identityKeyPair,
  safetyDigits,
  safetyNumber,
  signEncryptionKey,
  toHex,
  u64,
  verifyEncryptionKeyBinding,
} from '../src/index';
import { bytes, expectCode, flipByte, outcome } from './helpers';

const userId = bytes(16, 0x11);
const alice = identityKeyPair(bytes(32, 1));
const encryption = encryptionKeyPair(bytes(32, 2));

function binding(version = 1) {
  const signature = signEncryptionKey(alice, {
    userId,
    encryptionPublicKey: encryption.publicKey,
    version,
  });
  return {
    userId,
    identityPublicKey: alice.publicKey,
    encryptionPublicKey: encryption.publicKey,
    version,
    signature,
  };
}

describe('keys', () => {
  it('generates seeds whose key pairs give the published public keys', () => {
    const identity = generateIdentity();
    expect(identity.identitySeed.length).toBe(32);
    expect(identityKeyPair(identity.identitySeed).publicKey).toEqual(identity.identityPublicKey);
    expect(encryptionKeyPair(identity.encryptionSeed).publicKey).toEqual(
      identity.encryptionPublicKey,
    );
    expect(toHex(generateIdentity().identitySeed)).not.toBe(toHex(identity.identitySeed));
  });

  it('derives deterministic key pairs of the documented sizes', () => {
    expect(alice.publicKey.length).toBe(32);
    expect(alice.secretKey.length).toBe(64);
    expect(alice.secretKey.subarray(32)).toEqual(alice.publicKey);
    expect(encryption.secretKey.length).toBe(32);
    expect(encryptionKeyPair(bytes(32, 2))).toEqual(encryption);
  });

  it('refuses seeds of the wrong length with both lengths in the message', () => {
    const error = expectCode(() => identityKeyPair(bytes(31, 1)), 'INVALID_ARGUMENT');
    expect(error.message).toBe('identityKeyPair: identitySeed: expected 32 bytes, got 31');
    expectCode(() => encryptionKeyPair('seed' as unknown as Uint8Array), 'INVALID_ARGUMENT');
  });
});

describe('encryption-key binding', () => {
  it('verifies a binding it signed', () => {
    expect(() => verifyEncryptionKeyBinding(binding())).not.toThrow();
    expect(() => verifyEncryptionKeyBinding(binding(7))).not.toThrow();
  });

  it('signs exactly the canonical input of §3.2', () => {
    const b = binding(3);
    const input = canon('parley/v1/encryption-key', [
      userId,
      alice.publicKey,
      encryption.publicKey,
      u64(3),
    ]);
    expect(sodium.crypto_sign_verify_detached(b.signature, input, alice.publicKey)).toBe(true);
    expect(toHex(sodium.crypto_sign_detached(input, alice.secretKey))).toBe(toHex(b.signature));
  });

  it('rejects a changed version, key or user', () => {
    const b = binding(2);
    const refused = (changed: Partial<typeof b>) =>
      expectCode(() => verifyEncryptionKeyBinding({ ...b, ...changed }), 'IDENTITY_BAD_SIGNATURE');
    refused({ version: 3 });
    refused({ userId: bytes(16, 0x12) });
    refused({ encryptionPublicKey: encryptionKeyPair(bytes(32, 3)).publicKey });
    refused({ identityPublicKey: identityKeyPair(bytes(32, 9)).publicKey });
  });

  it('rejects any flipped bit of the signature or the signed fields', () => {
    const b = binding(5);
    fc.assert(
      fc.property(
        fc.constantFrom('userId', 'identityPublicKey', 'encryptionPublicKey', 'signature' as const),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (field, index, mask) => {
          const value = b[field];
          const changed = { ...b, [field]: flipByte(value, index % value.length, mask) };
          expect(outcome(() => verifyEncryptionKeyBinding(changed))).toBe('IDENTITY_BAD_SIGNATURE');
        },
      ),
    );
  });

  it('rejects malformed lengths and versions as IDENTITY_MALFORMED', () => {
    const b = binding();
    expectCode(
      () => verifyEncryptionKeyBinding({ ...b, userId: bytes(15, 1) }),
      'IDENTITY_MALFORMED',
    );
    expectCode(
      () => verifyEncryptionKeyBinding({ ...b, identityPublicKey: bytes(33, 1) }),
      'IDENTITY_MALFORMED',
    );
    expectCode(
      () => verifyEncryptionKeyBinding({ ...b, encryptionPublicKey: bytes(31, 1) }),
      'IDENTITY_MALFORMED',
    );
    expectCode(
      () => verifyEncryptionKeyBinding({ ...b, signature: b.signature.subarray(1) }),
      'IDENTITY_MALFORMED',
    );
    expectCode(() => verifyEncryptionKeyBinding({ ...b, version: 0 }), 'IDENTITY_MALFORMED');
    expectCode(() => verifyEncryptionKeyBinding({ ...b, version: 1.5 }), 'IDENTITY_MALFORMED');
    expectCode(
      () => verifyEncryptionKeyBinding({ ...b, signature: null as unknown as Uint8Array }),
      'INVALID_ARGUMENT',
    );
  });

  it('refuses to sign version 0 or a short key', () => {
    expectCode(
      () =>
        signEncryptionKey(alice, { userId, encryptionPublicKey: encryption.publicKey, version: 0 }),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () => signEncryptionKey(alice, { userId, encryptionPublicKey: bytes(8, 0), version: 1 }),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () =>
        signEncryptionKey(
          { publicKey: alice.publicKey, secretKey: bytes(32, 0) },
          { userId, encryptionPublicKey: encryption.publicKey, version: 1 },
        ),
      'INVALID_ARGUMENT',
    );
  });
});

describe('fingerprint and safety number', () => {
  const bob = {
    userId: bytes(16, 0x22),
    identityPublicKey: identityKeyPair(bytes(32, 4)).publicKey,
  };
  const carol = { userId: bytes(16, 0x11), identityPublicKey: alice.publicKey };

  it('hashes the canonical (userId, identity key)', () => {
    const value = fingerprint(carol.userId, carol.identityPublicKey);
    expect(value.length).toBe(32);
    expect(fingerprint(bob.userId, carol.identityPublicKey)).not.toEqual(value);
  });

  it('turns 40-bit chunks into 5 digits each', () => {
    const fp = new Uint8Array(32);
    fp.set([0xff, 0xff, 0xff, 0xff, 0xff], 0); // 1099511627775 mod 100000 = 27775
    fp.set([0, 0, 0, 0, 7], 5);
    expect(safetyDigits(fp)).toBe('27775' + '00007' + '00000'.repeat(4));
  });

  it('is the same from both sides, smaller fingerprint first', () => {
    const one = safetyNumber(carol, bob);
    const other = safetyNumber(bob, carol);
    expect(one).toEqual(other);
    expect(one.digits).toMatch(/^\d{60}$/);
    expect(one.grouped.split(' ')).toHaveLength(12);
    const fps = [
      fingerprint(carol.userId, carol.identityPublicKey),
      fingerprint(bob.userId, bob.identityPublicKey),
    ]
      .map(toHex)
      .sort();
    expect(one.qrPayload).toBe(`parley:v1:safety:${fps[0]}:${fps[1]}`);
    expect(one.digits).toBe(safetyDigits(fromHex(fps[0]!)) + safetyDigits(fromHex(fps[1]!)));
  });

  it('matches a scanned code and rejects a different one', () => {
    const mine = safetyNumber(carol, bob);
    expect(() => compareSafetyQr(mine.qrPayload, mine)).not.toThrow();
    const other = safetyNumber(carol, {
      ...bob,
      identityPublicKey: identityKeyPair(bytes(32, 5)).publicKey,
    });
    expectCode(() => compareSafetyQr(other.qrPayload, mine), 'SAFETY_NUMBER_MISMATCH');
    expectCode(
      () => compareSafetyQr(mine.qrPayload.slice(0, -1), mine.qrPayload),
      'SAFETY_NUMBER_MISMATCH',
    );
    expectCode(() => compareSafetyQr(42 as unknown as string, mine), 'INVALID_ARGUMENT');
  });
});
