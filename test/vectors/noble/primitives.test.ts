import { describe, expect, it } from 'vitest';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { hchacha } from '@noble/ciphers/chacha.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { ascii, concat, fromHex, fromWordsLE, toHex, toWordsLE } from './encoding';
import {
  boxBeforenm,
  boxKeyPair,
  hash,
  kdf,
  keyedHash,
  sealOpen,
  sign,
  signKeyPair,
  verify,
} from './primitives';
import { sealForTests } from './test-support';

// RFC 8032 §7.1, tests 1-3.
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

describe('Ed25519 (crypto_sign_*)', () => {
  it.each(RFC8032)('reproduces RFC 8032 vector for public key $publicKey', (vector) => {
    const keys = signKeyPair(fromHex(vector.seed));
    expect(toHex(keys.publicKey)).toBe(vector.publicKey);
    expect(toHex(sign(keys.seed, fromHex(vector.message)))).toBe(vector.signature);
    expect(verify(keys.publicKey, fromHex(vector.message), fromHex(vector.signature))).toBe(true);
  });

  it('rejects a signature over another message or under another key', () => {
    const [first, second] = RFC8032 as [(typeof RFC8032)[0], (typeof RFC8032)[0]];
    expect(verify(fromHex(first.publicKey), fromHex('01'), fromHex(first.signature))).toBe(false);
    expect(verify(fromHex(second.publicKey), new Uint8Array(0), fromHex(first.signature))).toBe(
      false,
    );
  });

  it('rejects S not below the group order, as libsodium does', () => {
    const vector = RFC8032[0]!;
    const signature = fromHex(vector.signature);
    const order = ed25519.Point.Fn.ORDER;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
    const malleated = s + order;
    for (let i = 32; i < 64; i++)
      signature[i] = Number((malleated >> BigInt(8 * (i - 32))) & 0xffn);
    expect(verify(fromHex(vector.publicKey), new Uint8Array(0), signature)).toBe(false);
  });

  it('rejects the identity as public key, which every message would verify under', () => {
    const identity = ed25519.Point.ZERO.toBytes();
    const forged = concat(identity, new Uint8Array(32));
    expect(ed25519.verify(forged, ascii('anything'), identity)).toBe(true);
    expect(verify(identity, ascii('anything'), forged)).toBe(false);
  });

  it('checks the cofactorless equation: R with a torsion component fails', () => {
    const seed = fromHex(RFC8032[1]!.seed);
    const { publicKey } = signKeyPair(seed);
    const message = ascii('torsion');
    const torsion = ED25519_TORSION_SUBGROUP.map((hex) => ed25519.Point.fromHex(hex)).find(
      (point) => !point.is0() && !point.equals(ed25519.Point.ZERO.negate()),
    )!;
    const order = ed25519.Point.Fn.ORDER;
    const secretScalar = clampedScalar(seed);
    const r = 123456789n;
    const rPoint = ed25519.Point.BASE.multiply(r).add(torsion).toBytes();
    const k = leNumber(sha512(concat(rPoint, publicKey, message))) % order;
    const s = (r + k * secretScalar) % order;
    const signature = concat(rPoint, leBytes(s, 32));
    // noble's default (cofactored) verification accepts it; libsodium's does not.
    expect(ed25519.verify(signature, message, publicKey)).toBe(true);
    expect(verify(publicKey, message, signature)).toBe(false);
  });
});

describe('X25519 boxes (crypto_box_*)', () => {
  // RFC 7748 §6.1 keys; the NaCl box test vector's shared key ("firstkey").
  const aliceSecret = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bobPublic = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');

  it('derives the NaCl beforenm key: HSalsa20 of the X25519 shared secret', () => {
    expect(toHex(boxBeforenm(bobPublic, aliceSecret)!)).toBe(
      '1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389',
    );
  });

  it('refuses a low-order public key (all-zero shared secret)', () => {
    expect(boxBeforenm(new Uint8Array(32), aliceSecret)).toBeNull();
  });

  it('derives the seed key pair from SHA-512(seed)', () => {
    const seed = fromHex('00'.repeat(31) + '01');
    const keys = boxKeyPair(seed);
    expect(toHex(keys.secretKey)).toBe(toHex(sha512(seed).slice(0, 32)));
    expect(keys.publicKey).toHaveLength(32);
  });

  it('opens a sealed box and refuses a tampered one, a short one, or the wrong recipient', () => {
    const recipient = boxKeyPair(crypto.getRandomValues(new Uint8Array(32)));
    const other = boxKeyPair(crypto.getRandomValues(new Uint8Array(32)));
    const roomKey = crypto.getRandomValues(new Uint8Array(32));
    const sealed = sealForTests(roomKey, recipient.publicKey);
    expect(sealed).toHaveLength(80);
    expect(sealOpen(sealed, recipient.publicKey, recipient.secretKey)).toEqual(roomKey);
    expect(sealOpen(sealed, other.publicKey, other.secretKey)).toBeNull();
    // The nonce binds the recipient's public key: the right secret with another key fails.
    expect(sealOpen(sealed, other.publicKey, recipient.secretKey)).toBeNull();
    for (const index of [0, 31, 32, 47, 48, 79]) {
      const tampered = sealed.slice();
      tampered[index]! ^= 0x01;
      expect(sealOpen(tampered, recipient.publicKey, recipient.secretKey)).toBeNull();
    }
    expect(sealOpen(sealed.subarray(0, 47), recipient.publicKey, recipient.secretKey)).toBeNull();
  });
});

describe('BLAKE2b, HChaCha20, Argon2id', () => {
  it('hashes the empty string as crypto_generichash does', () => {
    expect(toHex(hash(new Uint8Array(0)))).toBe(
      '0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8',
    );
  });

  it('keys the hash', () => {
    const key = new Uint8Array(32).fill(7);
    expect(keyedHash(key, ascii('m'))).not.toEqual(hash(ascii('m')));
    expect(keyedHash(key, ascii('m'))).not.toEqual(keyedHash(new Uint8Array(32), ascii('m')));
  });

  it('computes HChaCha20 on little-endian words (draft-irtf-cfrg-xchacha §2.2.1)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const out = new Uint32Array(8);
    hchacha(
      toWordsLE(ascii('expand 32-byte k')),
      toWordsLE(key),
      toWordsLE(fromHex('000000090000004a0000000031415927')),
      out,
    );
    expect(toHex(fromWordsLE(out))).toBe(
      '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc',
    );
  });

  it('derives Argon2id v1.3 with p = 1 and memlimit in bytes, as crypto_pwhash does', async () => {
    // Reference: the argon2 command line tool, `-id -v 13 -k 1024 -t 5` (p = 1).
    const key = await kdf(ascii('123'), ascii('ABCDEFGHIJKLMNOP'), {
      opslimit: 5,
      memlimit: 1024 * 1024,
    });
    expect(toHex(key)).toBe('3c5d010180ba0cf5b6b858cba23b318e42d33088983c404598599c3b029ecac6');
  });
});

function clampedScalar(seed: Uint8Array): bigint {
  const h = sha512(seed).slice(0, 32);
  h[0]! &= 248;
  h[31]! &= 127;
  h[31]! |= 64;
  return leNumber(h) % ed25519.Point.Fn.ORDER;
}

function leNumber(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function leBytes(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}
