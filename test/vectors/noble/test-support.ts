// Sending counterparts of the receiving code in this folder, used only by its unit tests to
// round-trip: the vector files themselves are made by the libsodium-based library, and the
// checker never produces randomised bytes it then checks.
import { x25519 } from '@noble/curves/ed25519.js';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { canon, concat, u64 } from './encoding';
import { boxBeforenm, sealNonce, sign } from './primitives';
import { SecretStreamPushForTests, TAG_FINAL, TAG_MESSAGE } from './secretstream';
import { ATTACHMENT_CHUNK_BYTES, membershipEntryHash } from './protocol';

/** crypto_box_seal: ephemeral_pk || crypto_box_easy(m, BLAKE2b-192(epk || pk), pk, esk). */
export function sealForTests(message: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  const ephemeralSecretKey = crypto.getRandomValues(new Uint8Array(32));
  const ephemeralPublicKey = x25519.getPublicKey(ephemeralSecretKey);
  const key = boxBeforenm(recipientPublicKey, ephemeralSecretKey);
  if (key === null) throw new Error('sealForTests: low-order recipient key');
  const nonce = sealNonce(ephemeralPublicKey, recipientPublicKey);
  return concat(ephemeralPublicKey, xsalsa20poly1305(key, nonce).encrypt(message));
}

/**
 * header(24) || chunks of 65536 plaintext bytes; the last, possibly shorter or empty, has
 * TAG_FINAL, so a plaintext of a whole number of chunks ends with an empty final chunk.
 */
export function encryptAttachmentForTests(plaintext: Uint8Array, fileKey: Uint8Array): Uint8Array {
  const header = crypto.getRandomValues(new Uint8Array(24));
  const stream = new SecretStreamPushForTests(fileKey, header);
  const chunkCount = Math.floor(plaintext.length / ATTACHMENT_CHUNK_BYTES) + 1;
  const parts: Uint8Array[] = [header];
  for (let i = 0; i < chunkCount; i++) {
    const chunk = plaintext.subarray(i * ATTACHMENT_CHUNK_BYTES, (i + 1) * ATTACHMENT_CHUNK_BYTES);
    parts.push(stream.push(chunk, i === chunkCount - 1 ? TAG_FINAL : TAG_MESSAGE));
  }
  return concat(...parts);
}

export interface EntryForTests {
  roomId: Uint8Array;
  position: number;
  prevHash: Uint8Array;
  actorId: Uint8Array;
  op: string;
  subjectId: Uint8Array;
  data: Uint8Array;
}

export function membershipEntryForTests(entry: EntryForTests, actorSeed: Uint8Array): Uint8Array {
  const body = canon(
    'parley/v1/membership',
    entry.roomId,
    u64(entry.position),
    entry.prevHash,
    entry.actorId,
    new TextEncoder().encode(entry.op),
    entry.subjectId,
    entry.data,
  );
  return canon('parley/v1/membership-entry', body, sign(actorSeed, body));
}

/** Builds a chain entry by entry, linking each to the previous one's hash. */
export class ChainBuilderForTests {
  readonly entries: Uint8Array[] = [];

  constructor(readonly roomId: Uint8Array) {}

  append(
    actor: { id: Uint8Array; seed: Uint8Array },
    op: string,
    subjectId: Uint8Array = new Uint8Array(0),
    data: Uint8Array = new Uint8Array(0),
  ): Uint8Array {
    const previous = this.entries.at(-1);
    const entry = membershipEntryForTests(
      {
        roomId: this.roomId,
        position: this.entries.length,
        prevHash: previous === undefined ? new Uint8Array(0) : membershipEntryHash(previous),
        actorId: actor.id,
        op,
        subjectId,
        data,
      },
      actor.seed,
    );
    this.entries.push(entry);
    return entry;
  }
}

export function roomPolicyForTests(kind: string, peerId: Uint8Array = new Uint8Array(0)) {
  return canon('parley/v1/room-policy', new TextEncoder().encode(kind), peerId);
}
