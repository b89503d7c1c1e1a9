// libsodium's crypto_secretstream_xchacha20poly1305, rebuilt on noble's ChaCha20 and Poly1305
// from libsodium's secretstream_xchacha20poly1305.c (released form: the counter resets to 1 and a
// rekey XORs the key and inner nonce with the keystream). Used for attachments (PROTOCOL.md §8).
import { chacha20, hchacha } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { ascii, concat, fromWordsLE, toWordsLE } from './encoding';

export const STREAM_HEADER_BYTES = 24;
export const STREAM_ABYTES = 17;
export const TAG_MESSAGE = 0x00;
export const TAG_PUSH = 0x01;
export const TAG_REKEY = 0x02;
export const TAG_FINAL = TAG_PUSH | TAG_REKEY;

export interface PulledChunk {
  message: Uint8Array;
  tag: number;
}

/** The receiving side; `pull` returns null when a chunk fails to authenticate. */
export class SecretStreamPull {
  readonly #state: StreamState;

  constructor(key: Uint8Array, header: Uint8Array) {
    this.#state = initState(key, header);
  }

  pull(chunk: Uint8Array, ad: Uint8Array = new Uint8Array(0)): PulledChunk | null {
    if (chunk.length < STREAM_ABYTES) return null;
    const state = this.#state;
    const messageLength = chunk.length - STREAM_ABYTES;
    const encryptedTag = chunk[0]!;
    const ciphertext = chunk.subarray(1, 1 + messageLength);
    const storedMac = chunk.subarray(1 + messageLength);

    let tagBlock = new Uint8Array(64);
    tagBlock[0] = encryptedTag;
    tagBlock = chacha20(state.key, state.nonce, tagBlock, undefined, 1);
    const tag = tagBlock[0]!;
    // The MAC covers the whole encrypted 64-byte tag block, with the byte as transmitted first.
    tagBlock[0] = encryptedTag;
    const mac = chunkMac(state, ad, tagBlock, ciphertext);
    if (!constantTimeEqual16(mac, storedMac)) return null;

    const message = chacha20(state.key, state.nonce, ciphertext, undefined, 2);
    advance(state, mac, tag);
    return { message, tag };
  }

  /** crypto_secretstream_xchacha20poly1305_rekey: an explicit rekey, as the sender may do. */
  rekey(): void {
    rekey(this.#state);
  }
}

/**
 * The sending side, only for round-trip unit tests of the pull side: the vectors' streams are
 * made by libsodium, and a checker must never produce what it checks.
 */
export class SecretStreamPushForTests {
  readonly #state: StreamState;

  constructor(key: Uint8Array, header: Uint8Array) {
    this.#state = initState(key, header);
  }

  push(message: Uint8Array, tag: number, ad: Uint8Array = new Uint8Array(0)): Uint8Array {
    const state = this.#state;
    const tagInput = new Uint8Array(64);
    tagInput[0] = tag;
    const tagBlock = chacha20(state.key, state.nonce, tagInput, undefined, 1);
    const ciphertext = chacha20(state.key, state.nonce, message, undefined, 2);
    const mac = chunkMac(state, ad, tagBlock, ciphertext);
    advance(state, mac, tag);
    return concat(tagBlock.subarray(0, 1), ciphertext, mac);
  }
}

interface StreamState {
  key: Uint8Array;
  /** counter (LE32) || inner nonce (8): the 12-byte IETF ChaCha20 nonce. */
  nonce: Uint8Array;
}

function initState(key: Uint8Array, header: Uint8Array): StreamState {
  if (key.length !== 32)
    throw new RangeError(`secretstream key: expected 32 bytes, got ${key.length}`);
  if (header.length !== STREAM_HEADER_BYTES) {
    throw new RangeError(`secretstream header: expected 24 bytes, got ${header.length}`);
  }
  const subkey = new Uint32Array(8);
  hchacha(CHACHA_SIGMA, toWordsLE(key), toWordsLE(header.subarray(0, 16)), subkey);
  const nonce = new Uint8Array(12);
  nonce.set(header.subarray(16, 24), 4);
  resetCounter(nonce);
  return { key: fromWordsLE(subkey), nonce };
}

function chunkMac(
  state: StreamState,
  ad: Uint8Array,
  tagBlock: Uint8Array,
  ciphertext: Uint8Array,
): Uint8Array {
  const polyKey = chacha20(state.key, state.nonce, new Uint8Array(32), undefined, 0);
  const lengths = new Uint8Array(16);
  const view = new DataView(lengths.buffer);
  view.setBigUint64(0, BigInt(ad.length), true);
  view.setBigUint64(8, BigInt(64 + ciphertext.length), true);
  return poly1305(
    concat(
      ad,
      new Uint8Array((0x10 - ad.length) & 0xf),
      tagBlock,
      ciphertext,
      // libsodium pads with (0x10 - 64 + mlen) & 0xf zero bytes here, which is mlen mod 16 rather
      // than the usual padding to a block boundary; reproduced as written.
      new Uint8Array((0x10 - 64 + ciphertext.length) & 0xf),
      lengths,
    ),
    polyKey,
  );
}

/** After each chunk: inner nonce ^= mac[0..8], counter += 1, rekey on TAG_REKEY or wrap-around. */
function advance(state: StreamState, mac: Uint8Array, tag: number): void {
  for (let i = 0; i < 8; i++) state.nonce[4 + i]! ^= mac[i]!;
  const view = new DataView(state.nonce.buffer, state.nonce.byteOffset, 4);
  const counter = (view.getUint32(0, true) + 1) >>> 0;
  view.setUint32(0, counter, true);
  if ((tag & TAG_REKEY) !== 0 || counter === 0) rekey(state);
}

/** (key || inner nonce) ^= ChaCha20(key, nonce) from block 0, then the counter resets to 1. */
function rekey(state: StreamState): void {
  const material = chacha20(state.key, state.nonce, concat(state.key, state.nonce.subarray(4)));
  state.key = material.slice(0, 32);
  state.nonce.set(material.subarray(32), 4);
  resetCounter(state.nonce);
}

function resetCounter(nonce: Uint8Array): void {
  nonce.set([1, 0, 0, 0], 0);
}

function constantTimeEqual16(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== 16 || b.length !== 16) return false;
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const CHACHA_SIGMA = toWordsLE(ascii('expand 32-byte k'));
