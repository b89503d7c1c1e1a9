// Identity keys, the signed binding of an encryption key to them, fingerprints and safety numbers
// (PROTOCOL.md §3).
import {
  ID_BYTES,
  U64_LIMIT,
  assertBytes,
  assertString,
  assertU64,
  canon,
  expectLength,
  isU64,
  toHex,
  u64,
  utf8,
} from './encoding';
import { CryptoError } from './errors';
import {
  BOX_PUBLIC_BYTES,
  SEED_BYTES,
  SIGNATURE_BYTES,
  SIGN_PUBLIC_BYTES,
  SIGN_SECRET_BYTES,
  boxSeedKeyPair,
  constantTimeEqual,
  hash,
  memzero,
  randomBytes,
  sign,
  signSeedKeyPair,
  verify,
} from './sodium';

/** A new account's secrets (the two seeds, which a backup carries) and its public keys. */
export interface Identity {
  identitySeed: Uint8Array;
  encryptionSeed: Uint8Array;
  identityPublicKey: Uint8Array;
  encryptionPublicKey: Uint8Array;
}

/** Ed25519: publicKey 32 bytes, secretKey libsodium's 64 bytes (seed || publicKey). */
export interface IdentityKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** X25519: publicKey 32 bytes, secretKey 32 bytes. */
export interface EncryptionKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface EncryptionKeyBinding {
  userId: Uint8Array;
  identityPublicKey: Uint8Array;
  encryptionPublicKey: Uint8Array;
  version: number;
  signature: Uint8Array;
}

export interface SafetyNumber {
  /** 60 decimal digits. */
  digits: string;
  /** The digits as 12 groups of 5 separated by spaces, as shown to users. */
  grouped: string;
  /** parley:v1:safety:<hex smaller fingerprint>:<hex larger fingerprint> */
  qrPayload: string;
}

export interface PublicIdentity {
  userId: Uint8Array;
  identityPublicKey: Uint8Array;
}

export const LABEL_ENCRYPTION_KEY = 'parley/v1/encryption-key';
export const LABEL_FINGERPRINT = 'parley/v1/fingerprint';

export function generateIdentity(): Identity {
  const identitySeed = randomBytes(SEED_BYTES);
  const encryptionSeed = randomBytes(SEED_BYTES);
  const identity = identityKeyPair(identitySeed);
  const encryption = encryptionKeyPair(encryptionSeed);
  memzero(identity.secretKey);
  memzero(encryption.secretKey);
  return {
    identitySeed,
    encryptionSeed,
    identityPublicKey: identity.publicKey,
    encryptionPublicKey: encryption.publicKey,
  };
}

export function identityKeyPair(identitySeed: Uint8Array): IdentityKeyPair {
  assertBytes(identitySeed, 'identityKeyPair', 'identitySeed', SEED_BYTES);
  const { publicKey, privateKey } = signSeedKeyPair(identitySeed);
  return { publicKey, secretKey: privateKey };
}

export function encryptionKeyPair(encryptionSeed: Uint8Array): EncryptionKeyPair {
  assertBytes(encryptionSeed, 'encryptionKeyPair', 'encryptionSeed', SEED_BYTES);
  const { publicKey, privateKey } = boxSeedKeyPair(encryptionSeed);
  return { publicKey, secretKey: privateKey };
}

/** binding_sig of §3.2: the identity key vouches for an encryption key at a version. */
export function signEncryptionKey(
  identity: IdentityKeyPair,
  binding: { userId: Uint8Array; encryptionPublicKey: Uint8Array; version: number },
): Uint8Array {
  const operation = 'signEncryptionKey';
  assertIdentityKeyPair(identity, operation);
  assertBytes(binding.userId, operation, 'userId', ID_BYTES);
  assertBytes(binding.encryptionPublicKey, operation, 'encryptionPublicKey', BOX_PUBLIC_BYTES);
  assertU64(binding.version, operation, 'version', 1);
  return sign(
    bindingInput(binding.userId, identity.publicKey, binding.encryptionPublicKey, binding.version),
    identity.secretKey,
  );
}

/** Throws IDENTITY_MALFORMED or IDENTITY_BAD_SIGNATURE; returns nothing when the binding holds. */
export function verifyEncryptionKeyBinding(binding: EncryptionKeyBinding): void {
  const operation = 'verifyEncryptionKeyBinding';
  const userId = assertBytes(binding.userId, operation, 'userId');
  const identityPublicKey = assertBytes(binding.identityPublicKey, operation, 'identityPublicKey');
  const encryptionPublicKey = assertBytes(
    binding.encryptionPublicKey,
    operation,
    'encryptionPublicKey',
  );
  const signature = assertBytes(binding.signature, operation, 'signature');
  const malformed = (detail: string): CryptoError =>
    new CryptoError('IDENTITY_MALFORMED', operation, detail);
  // The binding arrives from the directory, so bad lengths are malformed data, not caller errors.
  if (userId.length !== ID_BYTES)
    throw malformed(`userId: expected 16 bytes, got ${userId.length}`);
  if (identityPublicKey.length !== SIGN_PUBLIC_BYTES) {
    throw malformed(`identityPublicKey: expected 32 bytes, got ${identityPublicKey.length}`);
  }
  if (encryptionPublicKey.length !== BOX_PUBLIC_BYTES) {
    throw malformed(`encryptionPublicKey: expected 32 bytes, got ${encryptionPublicKey.length}`);
  }
  if (signature.length !== SIGNATURE_BYTES) {
    throw malformed(`signature: expected 64 bytes, got ${signature.length}`);
  }
  if (!isU64(binding.version) || binding.version < 1 || binding.version >= U64_LIMIT) {
    throw malformed(`version: expected an integer in [1, 2^53), got ${String(binding.version)}`);
  }
  const input = bindingInput(userId, identityPublicKey, encryptionPublicKey, binding.version);
  if (!verify(signature, input, identityPublicKey)) {
    throw new CryptoError('IDENTITY_BAD_SIGNATURE', operation, 'signature does not verify');
  }
}

/** H(canon("parley/v1/fingerprint", userId, IK_pub)): covers the identity key only (§3.3). */
export function fingerprint(userId: Uint8Array, identityPublicKey: Uint8Array): Uint8Array {
  // Both come from the directory, so a wrong length is malformed data (§3.3).
  expectLength(
    assertBytes(userId, 'fingerprint', 'userId'),
    ID_BYTES,
    'IDENTITY_MALFORMED',
    'fingerprint',
    'userId',
  );
  expectLength(
    assertBytes(identityPublicKey, 'fingerprint', 'identityPublicKey'),
    SIGN_PUBLIC_BYTES,
    'IDENTITY_MALFORMED',
    'fingerprint',
    'identityPublicKey',
  );
  return hash(canon(LABEL_FINGERPRINT, [userId, identityPublicKey]));
}

/** The safety number two users compare; both sides compute the same value. */
export function safetyNumber(a: PublicIdentity, b: PublicIdentity): SafetyNumber {
  const fingerprintA = fingerprint(a.userId, a.identityPublicKey);
  const fingerprintB = fingerprint(b.userId, b.identityPublicKey);
  const [first, second] =
    compareBytes(fingerprintA, fingerprintB) <= 0
      ? [fingerprintA, fingerprintB]
      : [fingerprintB, fingerprintA];
  const digits = safetyDigits(first) + safetyDigits(second);
  return {
    digits,
    grouped: digits.match(/\d{5}/g)!.join(' '),
    qrPayload: `parley:v1:safety:${toHex(first)}:${toHex(second)}`,
  };
}

/**
 * Compares a scanned QR payload with the one computed locally, in constant time. Throws
 * SAFETY_NUMBER_MISMATCH when they differ.
 */
export function compareSafetyQr(scanned: string, expected: SafetyNumber | string): void {
  assertString(scanned, 'compareSafetyQr', 'scanned');
  const mine = typeof expected === 'string' ? expected : expected.qrPayload;
  assertString(mine, 'compareSafetyQr', 'expected');
  if (!constantTimeEqual(utf8(scanned), utf8(mine))) {
    throw new CryptoError('SAFETY_NUMBER_MISMATCH', 'compareSafetyQr', 'the scanned code differs');
  }
}

/** A user's 30 digits: six big-endian 40-bit chunks of the fingerprint, each mod 100000. */
export function safetyDigits(userFingerprint: Uint8Array): string {
  assertBytes(userFingerprint, 'safetyDigits', 'fingerprint', 32);
  let digits = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + userFingerprint[chunk * 5 + i]!;
    digits += String(value % 100000).padStart(5, '0');
  }
  return digits;
}

export function assertIdentityKeyPair(identity: IdentityKeyPair, operation: string): void {
  if (typeof identity !== 'object' || identity === null) {
    throw new CryptoError('INVALID_ARGUMENT', operation, 'expected an identity key pair');
  }
  assertBytes(identity.publicKey, operation, 'identity.publicKey', SIGN_PUBLIC_BYTES);
  assertBytes(identity.secretKey, operation, 'identity.secretKey', SIGN_SECRET_BYTES);
}

function bindingInput(
  userId: Uint8Array,
  identityPublicKey: Uint8Array,
  encryptionPublicKey: Uint8Array,
  version: number,
): Uint8Array {
  return canon(LABEL_ENCRYPTION_KEY, [
    userId,
    identityPublicKey,
    encryptionPublicKey,
    u64(version),
  ]);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
