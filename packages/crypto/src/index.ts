// @parley/crypto: the Parley protocol (docs/PROTOCOL.md) as pure functions over Uint8Array.
// Await `ready()` once; every other function is synchronous and throws only CryptoError.
export { ready, isReady } from './sodium';
export { CRYPTO_ERROR_CODES, CryptoError, isCryptoError } from './errors';
export type { CryptoErrorCode, CryptoErrorOptions } from './errors';
export {
  ID_BYTES,
  U64_LIMIT,
  canon,
  lp,
  decodeCanon,
  encodeList,
  decodeList,
  u64,
  readU64,
  generateId,
  toHex,
  fromHex,
  toBase64Url,
  fromBase64Url,
} from './encoding';
export {
  generateIdentity,
  identityKeyPair,
  encryptionKeyPair,
  signEncryptionKey,
  verifyEncryptionKeyBinding,
  fingerprint,
  safetyNumber,
  safetyDigits,
  compareSafetyQr,
} from './identity';
export type {
  Identity,
  IdentityKeyPair,
  EncryptionKeyPair,
  EncryptionKeyBinding,
  SafetyNumber,
  PublicIdentity,
} from './identity';
