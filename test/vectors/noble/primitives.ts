// The primitives of docs/PROTOCOL.md §1, rebuilt on @noble/* with libsodium's exact behaviour, so
// that these vectors are checked by code sharing nothing with the libsodium-based library.
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { ascii, concat, equalBytes, fromWordsLE, toHex, toWordsLE } from './encoding';

export interface SignKeyPair {
  publicKey: Uint8Array;
  seed: Uint8Array;
}

export interface BoxKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export const SEAL_OVERHEAD = 48;
const KEY_BYTES = 32;

/** crypto_sign_seed_keypair: an RFC 8032 key whose secret is the 32-byte seed itself. */
export function signKeyPair(seed: Uint8Array): SignKeyPair {
  requireLength(seed, 32, 'signKeyPair seed');
  return { publicKey: ed25519.getPublicKey(seed), seed };
}

/** crypto_sign_detached: RFC 8032 Ed25519 is deterministic, so signatures can be compared. */
export function sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  requireLength(seed, 32, 'sign seed');
  return ed25519.sign(message, seed);
}

/**
 * crypto_sign_verify_detached. noble's own verify uses the cofactored equation; libsodium checks
 * S < L, rejects small-order R and A and non-canonical A, and compares the encoding of
 * [S]B - [k]A with R byte for byte (cofactorless). Only the last can differ for crafted inputs,
 * so it is rebuilt here from noble's point arithmetic.
 */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const rBytes = signature.subarray(0, 32);
  const s = bytesToNumberLE(signature.subarray(32));
  if (s >= ED25519_ORDER) return false;
  let a: EdPoint;
  try {
    // zip215 = false: the encoding must be canonical (y < p), as ge25519_is_canonical demands.
    a = ed25519.Point.fromBytes(publicKey, false);
    if (a.isSmallOrder() || isSmallOrderEncoding(rBytes)) return false;
  } catch {
    return false;
  }
  const k = bytesToNumberLE(sha512(concat(rBytes, publicKey, message))) % ED25519_ORDER;
  const sB = s === 0n ? ed25519.Point.ZERO : ed25519.Point.BASE.multiply(s);
  const kA = k === 0n ? ed25519.Point.ZERO : a.multiplyUnsafe(k);
  return equalBytes(sB.subtract(kA).toBytes(), rBytes);
}

/** crypto_box_seed_keypair: secret = first 32 bytes of SHA-512(seed), public = X25519 base mult. */
export function boxKeyPair(seed: Uint8Array): BoxKeyPair {
  requireLength(seed, 32, 'boxKeyPair seed');
  const secretKey = sha512(seed).slice(0, 32);
  return { publicKey: x25519.getPublicKey(secretKey), secretKey };
}

/**
 * crypto_box_seal_open: sealed = ephemeral_pk(32) || crypto_box_easy(m, nonce, ephemeral_pk, sk),
 * nonce = BLAKE2b-192(ephemeral_pk || recipient_pk). Returns null on any failure.
 */
export function sealOpen(
  sealed: Uint8Array,
  recipientPublicKey: Uint8Array,
  recipientSecretKey: Uint8Array,
): Uint8Array | null {
  if (sealed.length < SEAL_OVERHEAD) return null;
  const ephemeralPublicKey = sealed.subarray(0, 32);
  const nonce = sealNonce(ephemeralPublicKey, recipientPublicKey);
  const key = boxBeforenm(ephemeralPublicKey, recipientSecretKey);
  if (key === null) return null;
  try {
    return xsalsa20poly1305(key, nonce).decrypt(sealed.subarray(32));
  } catch {
    return null;
  }
}

export function sealNonce(ephemeralPublicKey: Uint8Array, recipientPublicKey: Uint8Array) {
  return blake2b(concat(ephemeralPublicKey, recipientPublicKey), { dkLen: 24 });
}

/**
 * crypto_box_beforenm: HSalsa20(key = X25519(sk, pk), input = 16 zero bytes). libsodium refuses an
 * all-zero shared secret (a low-order public key); noble throws in that case, which maps to null.
 */
export function boxBeforenm(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | null {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secretKey, publicKey);
  } catch {
    return null;
  }
  if (shared.every((byte) => byte === 0)) return null;
  const out = new Uint32Array(8);
  hsalsa(SALSA_SIGMA, toWordsLE(shared), new Uint32Array(4), out);
  return fromWordsLE(out);
}

/** crypto_aead_xchacha20poly1305_ietf_encrypt: ciphertext || tag(16). */
export function aeadEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  return xchacha20poly1305(key, nonce, ad).encrypt(plaintext);
}

/** crypto_aead_xchacha20poly1305_ietf_decrypt; null when the tag does not verify. */
export function aeadDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array | null {
  if (key.length !== KEY_BYTES || nonce.length !== 24 || ciphertext.length < 16) return null;
  try {
    return xchacha20poly1305(key, nonce, ad).decrypt(ciphertext);
  } catch {
    return null;
  }
}

/** H(m): crypto_generichash with a 32-byte output and no key. */
export function hash(message: Uint8Array): Uint8Array {
  return blake2b(message, { dkLen: 32 });
}

/** KH(k, m): crypto_generichash keyed with k, 32-byte output. */
export function keyedHash(key: Uint8Array, message: Uint8Array): Uint8Array {
  return blake2b(message, { dkLen: 32, key });
}

export interface KdfParams {
  opslimit: number;
  /** In bytes, as crypto_pwhash takes it. */
  memlimit: number;
}

/**
 * crypto_pwhash with ALG_ARGON2ID13: Argon2id v1.3, t = opslimit, m = memlimit / 1024 KiB, p = 1,
 * 32-byte output. Pure-JS Argon2id at 256 MiB takes seconds, and one vector file derives the same
 * key for several cases, so derivations are cached by (passphrase, salt, opslimit, memlimit) for
 * the life of the process.
 */
export function kdf(
  passphrase: Uint8Array,
  salt: Uint8Array,
  params: KdfParams,
): Promise<Uint8Array> {
  requireLength(salt, 16, 'kdf salt');
  const cacheKey = [toHex(passphrase), toHex(salt), params.opslimit, params.memlimit].join(':');
  let derivation = kdfCache.get(cacheKey);
  if (derivation === undefined) {
    derivation = argon2idAsync(passphrase, salt, {
      t: params.opslimit,
      m: Math.floor(params.memlimit / 1024),
      p: 1,
      dkLen: 32,
      version: 0x13,
      maxmem: params.memlimit + 1024 * 1024,
    });
    kdfCache.set(cacheKey, derivation);
  }
  return derivation;
}

const kdfCache = new Map<string, Promise<Uint8Array>>();

type EdPoint = ReturnType<typeof ed25519.Point.fromBytes>;

const ED25519_ORDER = ed25519.Point.Fn.ORDER;

const SALSA_SIGMA = toWordsLE(ascii('expand 32-byte k'));

/** Small-order encodings are rejected by libsodium before any arithmetic, canonical or not. */
function isSmallOrderEncoding(encoding: Uint8Array): boolean {
  try {
    return ed25519.Point.fromBytes(encoding, true).isSmallOrder();
  } catch {
    // Not a point at all: the final comparison of encodings rejects it anyway.
    return false;
  }
}

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function requireLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length) {
    throw new RangeError(`${what}: expected ${length} bytes, got ${bytes.length}`);
  }
}
