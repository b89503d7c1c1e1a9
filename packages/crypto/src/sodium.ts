// The one place that touches libsodium. It is loaded once by `ready()`; every function of the
// library after that is synchronous. Only the primitives of PROTOCOL.md §1 are re-exported, under
// the names the protocol uses, so the rest of the package cannot reach for anything else.
import sodium from 'libsodium-wrappers-sumo';
import { CryptoError } from './errors';

let loaded = false;

/** Resolves once libsodium is loaded. Await it once before calling anything else. */
export async function ready(): Promise<void> {
  await sodium.ready;
  loaded = true;
}

export function isReady(): boolean {
  return loaded;
}

function lib(): typeof sodium {
  if (!loaded)
    throw new CryptoError('NOT_READY', 'sodium', 'await ready() before using @parley/crypto');
  return sodium;
}

export const SIGN_PUBLIC_BYTES = 32;
export const SIGN_SECRET_BYTES = 64;
export const SIGNATURE_BYTES = 64;
export const SEED_BYTES = 32;
export const BOX_PUBLIC_BYTES = 32;
export const BOX_SECRET_BYTES = 32;
export const SEAL_OVERHEAD = 48;
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 24;
export const AEAD_TAG_BYTES = 16;
export const HASH_BYTES = 32;
export const STREAM_KEY_BYTES = 32;
export const STREAM_HEADER_BYTES = 24;
export const STREAM_CHUNK_OVERHEAD = 17;
// libsodium's secretstream tags (crypto_secretstream_xchacha20poly1305_TAG_*), fixed by its format.
export const STREAM_TAG_MESSAGE = 0;
export const STREAM_TAG_FINAL = 3;

export interface RawKeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

/** Ed25519 key pair from a 32-byte seed; the secret key is libsodium's 64-byte seed || public. */
export function signSeedKeyPair(seed: Uint8Array): RawKeyPair {
  const { publicKey, privateKey } = lib().crypto_sign_seed_keypair(seed);
  return { publicKey, privateKey };
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return lib().crypto_sign_detached(message, secretKey);
}

/** Ed25519 verification; false for a key of the wrong length (which libsodium throws on). */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  return (
    publicKey.length === SIGN_PUBLIC_BYTES &&
    lib().crypto_sign_verify_detached(signature, message, publicKey)
  );
}

/** X25519 key pair from a seed: secret = first 32 bytes of SHA-512(seed). */
export function boxSeedKeyPair(seed: Uint8Array): RawKeyPair {
  const { publicKey, privateKey } = lib().crypto_box_seed_keypair(seed);
  return { publicKey, privateKey };
}

/** libsodium's sealed box (crypto_box_seal); its ephemeral key comes from libsodium itself. */
export function seal(message: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  return lib().crypto_box_seal(message, recipientPublicKey);
}

/**
 * Test vectors only: the bytes of crypto_box_seal with a fixed ephemeral key pair
 * (epk || crypto_box_easy(m, nonce = BLAKE2b-192(epk || pk), pk, esk)), so that regenerated vectors
 * are byte-stable. Production code seals with `seal`.
 */
export function sealWithEphemeralSeed(
  message: Uint8Array,
  recipientPublicKey: Uint8Array,
  ephemeralSeed: Uint8Array,
): Uint8Array {
  const s = lib();
  const ephemeral = s.crypto_box_seed_keypair(ephemeralSeed);
  const nonceInput = new Uint8Array(64);
  nonceInput.set(ephemeral.publicKey, 0);
  nonceInput.set(recipientPublicKey, 32);
  const nonce = s.crypto_generichash(s.crypto_box_NONCEBYTES, nonceInput, null);
  const boxed = s.crypto_box_easy(message, nonce, recipientPublicKey, ephemeral.privateKey);
  s.memzero(ephemeral.privateKey);
  const sealed = new Uint8Array(32 + boxed.length);
  sealed.set(ephemeral.publicKey, 0);
  sealed.set(boxed, 32);
  return sealed;
}

/** Returns undefined when the box does not open. */
export function sealOpen(
  sealed: Uint8Array,
  publicKey: Uint8Array,
  secretKey: Uint8Array,
): Uint8Array | undefined {
  try {
    return lib().crypto_box_seal_open(sealed, publicKey, secretKey);
  } catch {
    return undefined;
  }
}

export function aeadEncrypt(
  plaintext: Uint8Array,
  associatedData: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array {
  return lib().crypto_aead_xchacha20poly1305_ietf_encrypt(
    plaintext,
    associatedData,
    null,
    nonce,
    key,
  );
}

/** Returns undefined when authentication fails. */
export function aeadDecrypt(
  ciphertext: Uint8Array,
  associatedData: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array | undefined {
  const s = lib();
  if (ciphertext.length < AEAD_TAG_BYTES) return undefined;
  try {
    return s.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null,
      ciphertext,
      associatedData,
      nonce,
      key,
    );
  } catch {
    return undefined;
  }
}

/** H(m): unkeyed BLAKE2b-256. */
export function hash(message: Uint8Array): Uint8Array {
  return lib().crypto_generichash(HASH_BYTES, message, null);
}

/** KH(k, m): BLAKE2b-256 keyed with k. */
export function keyedHash(key: Uint8Array, message: Uint8Array): Uint8Array {
  return lib().crypto_generichash(HASH_BYTES, message, key);
}

/** Incremental H over several parts, for attachment blobs too large to copy. */
export function hashParts(parts: readonly Uint8Array[]): Uint8Array {
  const s = lib();
  const state = s.crypto_generichash_init(null, HASH_BYTES);
  for (const part of parts) s.crypto_generichash_update(state, part);
  return s.crypto_generichash_final(state, HASH_BYTES);
}

/** Argon2id v1.3 (libsodium always uses one lane). */
export function argon2id(
  outputLength: number,
  password: Uint8Array,
  salt: Uint8Array,
  opslimit: number,
  memlimit: number,
): Uint8Array {
  const s = lib();
  return s.crypto_pwhash(
    outputLength,
    password,
    salt,
    opslimit,
    memlimit,
    s.crypto_pwhash_ALG_ARGON2ID13,
  );
}

export type StreamState = ReturnType<typeof sodium.crypto_secretstream_xchacha20poly1305_init_pull>;

/** A writer's secretstream state and the header libsodium drew for it (init_push). */
export function streamPushState(key: Uint8Array): { state: StreamState; header: Uint8Array } {
  return lib().crypto_secretstream_xchacha20poly1305_init_push(key);
}

/**
 * A secretstream state for a given header (init_pull). Readers use it; so does the test-vector
 * generator for a writer with a fixed header, which is sound because libsodium's init_push and
 * init_pull derive the same state from (key, header).
 */
export function streamState(header: Uint8Array, key: Uint8Array): StreamState {
  return lib().crypto_secretstream_xchacha20poly1305_init_pull(header, key);
}

export function streamPush(state: StreamState, chunk: Uint8Array, tag: number): Uint8Array {
  return lib().crypto_secretstream_xchacha20poly1305_push(state, chunk, null, tag);
}

/** Returns undefined when the chunk does not authenticate. */
export function streamPull(
  state: StreamState,
  chunk: Uint8Array,
): { message: Uint8Array; tag: number } | undefined {
  if (chunk.length < STREAM_CHUNK_OVERHEAD) return undefined;
  try {
    return lib().crypto_secretstream_xchacha20poly1305_pull(state, chunk, null) || undefined;
  } catch {
    return undefined;
  }
}

/** ISO/IEC 7816-4 padding to a multiple of blockSize (sodium_pad). */
export function pad(data: Uint8Array, blockSize: number): Uint8Array {
  return lib().pad(data, blockSize);
}

/** Returns undefined when the padding is invalid (sodium_unpad). */
export function unpad(padded: Uint8Array, blockSize: number): Uint8Array | undefined {
  try {
    return lib().unpad(padded, blockSize);
  } catch {
    return undefined;
  }
}

/** Constant-time equality; inputs of different lengths are unequal (lengths are not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.length === 0) return true;
  return lib().memcmp(a, b);
}

export function memzero(bytes: Uint8Array): void {
  lib().memzero(bytes);
}

/** Fresh random bytes from the platform CSPRNG (PROTOCOL.md §1). */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function toHex(bytes: Uint8Array): string {
  return lib().to_hex(bytes);
}

export function fromHex(hex: string): Uint8Array {
  return lib().from_hex(hex);
}

export function toBase64Url(bytes: Uint8Array): string {
  const s = lib();
  return s.to_base64(bytes, s.base64_variants.URLSAFE_NO_PADDING);
}

/** Returns undefined for anything but canonical unpadded base64url. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  const s = lib();
  // libsodium ignores nothing when no ignore-set is given, and rejects non-zero trailing bits.
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    return s.from_base64(text, s.base64_variants.URLSAFE_NO_PADDING);
  } catch {
    return undefined;
  }
}
