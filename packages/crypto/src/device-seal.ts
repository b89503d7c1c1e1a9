// Sealed on this device (PROTOCOL.md §7.1): data a device keeps for itself alone, such as its
// search index over decrypted history, encrypted under a random device key that never leaves the
// device. The purpose is bound as associated data, so a blob sealed for one use never opens as
// another, and the version is bound so a future format cannot be confused with this one.
import {
  ID_BYTES,
  assertBytes,
  ascii,
  canon,
  decodeCanon,
  readAscii,
  readU64,
  u64,
} from './encoding';
import { CryptoError } from './errors';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, aeadDecrypt, aeadEncrypt, randomBytes } from './sodium';

export const DEVICE_SEAL_VERSION = 1;
export const DEVICE_KEY_BYTES = AEAD_KEY_BYTES;
export const LABEL_DEVICE_SEAL = 'parley/v1/device-seal';
export const LABEL_DEVICE_SEAL_BLOB = 'parley/v1/device-seal-blob';
const PURPOSE = /^[a-z0-9-]{1,64}$/;

/** A fresh random device key (from the platform CSPRNG). */
export function generateDeviceKey(): Uint8Array {
  return randomBytes(DEVICE_KEY_BYTES);
}

export interface DeviceSealInput {
  /** The device key, 32 bytes. */
  key: Uint8Array;
  /** What the blob is for, lowercase ASCII (`search-index`); bound as associated data. */
  purpose: string;
  /** The account the device holds (16 bytes); bound too, so one account's blob never opens as another's. */
  userId: Uint8Array;
}

/**
 * Encrypts `plaintext` under the device key with a fresh random nonce.
 * `dangerousTestOnlyNonce` fixes the nonce for reproducible vectors; never pass it otherwise.
 */
export function sealForDevice(
  plaintext: Uint8Array,
  input: DeviceSealInput,
  dangerousTestOnlyNonce?: Uint8Array,
): Uint8Array {
  const operation = 'sealForDevice';
  assertBytes(plaintext, operation, 'plaintext');
  const { key, purpose, userId } = checkInput(input, operation);
  const nonce =
    dangerousTestOnlyNonce === undefined
      ? randomBytes(AEAD_NONCE_BYTES)
      : assertBytes(dangerousTestOnlyNonce, operation, 'nonce', AEAD_NONCE_BYTES);
  const ciphertext = aeadEncrypt(plaintext, associatedData(purpose, userId), nonce, key);
  return canon(LABEL_DEVICE_SEAL_BLOB, [
    u64(DEVICE_SEAL_VERSION),
    ascii(purpose),
    nonce,
    ciphertext,
  ]);
}

/**
 * Opens a blob sealed by `sealForDevice`: decode (DEVICE_SEAL_MALFORMED), version and purpose are
 * the expected ones (DEVICE_SEAL_MALFORMED), then decrypt (DEVICE_SEAL_DECRYPT_FAILED: another key,
 * another account, or a tampered blob, which are indistinguishable).
 */
export function openForDevice(blob: Uint8Array, input: DeviceSealInput): Uint8Array {
  const operation = 'openForDevice';
  assertBytes(blob, operation, 'blob');
  const { key, purpose, userId } = checkInput(input, operation);
  const [version, purposeBytes, nonce, ciphertext] = decodeCanon(
    blob,
    LABEL_DEVICE_SEAL_BLOB,
    4,
    'DEVICE_SEAL_MALFORMED',
    operation,
  );
  const versionNumber = readU64(version, 'DEVICE_SEAL_MALFORMED', operation, 'version');
  if (versionNumber !== DEVICE_SEAL_VERSION) {
    throw new CryptoError('DEVICE_SEAL_MALFORMED', operation, `version ${versionNumber}`);
  }
  if (readAscii(purposeBytes) !== purpose) {
    throw new CryptoError('DEVICE_SEAL_MALFORMED', operation, `not sealed for ${purpose}`);
  }
  if (nonce.length !== AEAD_NONCE_BYTES) {
    throw new CryptoError('DEVICE_SEAL_MALFORMED', operation, `nonce of ${nonce.length} bytes`);
  }
  const plaintext = aeadDecrypt(ciphertext, associatedData(purpose, userId), nonce, key);
  if (plaintext === undefined) {
    throw new CryptoError('DEVICE_SEAL_DECRYPT_FAILED', operation, 'the blob does not open');
  }
  return plaintext;
}

function checkInput(input: DeviceSealInput, operation: string): DeviceSealInput {
  assertBytes(input.key, operation, 'key', DEVICE_KEY_BYTES);
  assertBytes(input.userId, operation, 'userId', ID_BYTES);
  if (typeof input.purpose !== 'string' || !PURPOSE.test(input.purpose)) {
    throw new CryptoError('INVALID_ARGUMENT', operation, 'purpose: lowercase ASCII, 1 to 64');
  }
  return input;
}

function associatedData(purpose: string, userId: Uint8Array): Uint8Array {
  return canon(LABEL_DEVICE_SEAL, [u64(DEVICE_SEAL_VERSION), ascii(purpose), userId]);
}
