import fc from 'fast-check';
import sodium from 'libsodium-wrappers-sumo';
import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_CHUNK_BYTES,
  attachmentBlobBytes,
  largestAttachment,
  decodeAttachmentDescriptor,
  decryptAttachment,
  encodeAttachmentDescriptor,
  encryptAttachment,
} from '../src/index';
import { bytes, expectCode, flipArbitrary, flipByte, outcome } from './helpers';

const H = (data: Uint8Array) => sodium.crypto_generichash(32, data, null);
const plaintextOf = (size: number) =>
  Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff);
const fixed = { fileKey: bytes(32, 0x33), header: bytes(24, 0x44) };

/** A stream written with libsodium directly, for tag and chunking arrangements the library never makes. */
function rawStream(chunks: [Uint8Array, number][]): Uint8Array {
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(fixed.fileKey);
  const parts = [
    header,
    ...chunks.map(([data, tag]) =>
      sodium.crypto_secretstream_xchacha20poly1305_push(state, data, null, tag),
    ),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
const MESSAGE = 0;
const PUSH = 1;
const FINAL = 3;

describe('attachments', () => {
  it('round-trips, with floor(size / 64 KiB) + 1 chunks', () => {
    for (const size of [0, 1, 1000, 65535, 65536, 65537, 2 * 65536, 200_000]) {
      const plaintext = plaintextOf(size);
      const encrypted = encryptAttachment(plaintext);
      const chunks = Math.floor(size / ATTACHMENT_CHUNK_BYTES) + 1;
      expect(encrypted.size).toBe(size);
      expect(encrypted.blob.length).toBe(24 + size + 17 * chunks);
      expect(encrypted.hash).toEqual(H(encrypted.blob));
      expect(decryptAttachment(encrypted.blob, encrypted.fileKey, encrypted.hash, size)).toEqual(
        plaintext,
      );
    }
  });

  it('is a standard libsodium secretstream: the last chunk is TAG_FINAL, the others TAG_MESSAGE', () => {
    const { blob, fileKey } = encryptAttachment(plaintextOf(65536));
    const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(
      blob.subarray(0, 24),
      fileKey,
    );
    const first = sodium.crypto_secretstream_xchacha20poly1305_pull(
      state,
      blob.subarray(24, 24 + 65553),
      null,
    );
    const last = sodium.crypto_secretstream_xchacha20poly1305_pull(
      state,
      blob.subarray(24 + 65553),
      null,
    );
    expect(first && first.tag).toBe(MESSAGE);
    expect(last && [last.tag, last.message.length]).toEqual([FINAL, 0]);
  });

  it('uses a fresh key and header, fixed only by the test-only parameter', () => {
    expect(encryptAttachment(bytes(10, 1)).fileKey).not.toEqual(
      encryptAttachment(bytes(10, 1)).fileKey,
    );
    const one = encryptAttachment(bytes(10, 1), fixed);
    expect(encryptAttachment(bytes(10, 1), fixed)).toEqual(one);
    expect(one.blob.subarray(0, 24)).toEqual(fixed.header);
  });

  it('accepts streams written by libsodium itself', () => {
    const blob = rawStream([
      [bytes(65536, 1), MESSAGE],
      [bytes(5, 2), FINAL],
    ]);
    expect(decryptAttachment(blob, fixed.fileKey, H(blob), 65541)).toEqual(
      new Uint8Array([...bytes(65536, 1), ...bytes(5, 2)]),
    );
  });

  it('rejects each failure of §8 with its code', () => {
    const size = 150_000;
    const { blob, fileKey, hash } = encryptAttachment(plaintextOf(size));
    const withHash = (changed: Uint8Array) => () =>
      decryptAttachment(changed, fileKey, H(changed), size);
    expectCode(
      () => decryptAttachment(blob, fileKey, bytes(32, 0), size),
      'ATTACHMENT_HASH_MISMATCH',
    );
    expectCode(withHash(blob.subarray(0, 23)), 'ATTACHMENT_MALFORMED');
    expectCode(withHash(blob.subarray(0, 24)), 'ATTACHMENT_TRUNCATED');
    expectCode(withHash(blob.subarray(0, 24 + 65553)), 'ATTACHMENT_TRUNCATED'); // cut at a chunk boundary
    expectCode(withHash(blob.subarray(0, 24 + 65553 + 100)), 'ATTACHMENT_DECRYPT_FAILED'); // cut inside a chunk
    expectCode(withHash(blob.subarray(0, blob.length - 1)), 'ATTACHMENT_DECRYPT_FAILED');
    expectCode(withHash(new Uint8Array([...blob, 1, 2, 3])), 'ATTACHMENT_DECRYPT_FAILED'); // trailing bytes in the last chunk
    expectCode(
      () => decryptAttachment(blob, bytes(32, 9), hash, size),
      'ATTACHMENT_DECRYPT_FAILED',
    );
    expectCode(() => decryptAttachment(blob, fileKey, hash, size - 1), 'ATTACHMENT_MALFORMED');
    // Chunks swapped: the second decrypts under the first's counter only if the stream is broken.
    const swapped = new Uint8Array([
      ...blob.subarray(0, 24),
      ...blob.subarray(24 + 65553, 24 + 2 * 65553),
      ...blob.subarray(24, 24 + 65553),
      ...blob.subarray(24 + 2 * 65553),
    ]);
    expectCode(withHash(swapped), 'ATTACHMENT_DECRYPT_FAILED');
  });

  it('rejects data after the final chunk, a missing final tag, and other tags', () => {
    // Chunks are read 65553 bytes at a time, so a final chunk can be followed only when it is full.
    const afterFinal = rawStream([
      [bytes(65536, 1), FINAL],
      [bytes(10, 2), FINAL],
    ]);
    expectCode(
      () => decryptAttachment(afterFinal, fixed.fileKey, H(afterFinal), 65546),
      'ATTACHMENT_TRUNCATED',
    );
    const fullFinal = rawStream([[bytes(65536, 1), FINAL]]);
    expect(decryptAttachment(fullFinal, fixed.fileKey, H(fullFinal), 65536)).toEqual(
      bytes(65536, 1),
    );
    const noFinal = rawStream([[bytes(10, 1), MESSAGE]]);
    expectCode(
      () => decryptAttachment(noFinal, fixed.fileKey, H(noFinal), 10),
      'ATTACHMENT_TRUNCATED',
    );
    const pushTag = rawStream([[bytes(10, 1), PUSH]]);
    expectCode(
      () => decryptAttachment(pushTag, fixed.fileKey, H(pushTag), 10),
      'ATTACHMENT_MALFORMED',
    );
    const tiny = new Uint8Array([...rawStream([[bytes(10, 1), FINAL]]).subarray(0, 24), 1, 2, 3]);
    expectCode(
      () => decryptAttachment(tiny, fixed.fileKey, H(tiny), 0),
      'ATTACHMENT_DECRYPT_FAILED',
    );
  });

  it('rejects every flipped byte: by hash, and behind a matching hash by decryption', () => {
    const { blob, fileKey, hash } = encryptAttachment(plaintextOf(300), fixed);
    fc.assert(
      fc.property(flipArbitrary(blob.length), ({ index, mask }) => {
        const tampered = flipByte(blob, index, mask);
        expect(outcome(() => decryptAttachment(tampered, fileKey, hash, 300))).toBe(
          'ATTACHMENT_HASH_MISMATCH',
        );
        expect(outcome(() => decryptAttachment(tampered, fileKey, H(tampered), 300))).toBe(
          'ATTACHMENT_DECRYPT_FAILED',
        );
      }),
      { numRuns: 200 },
    );
  });

  it('validates arguments', () => {
    const { blob, fileKey, hash } = encryptAttachment(bytes(3, 0));
    expectCode(() => decryptAttachment(blob, fileKey.subarray(1), hash, 3), 'INVALID_ARGUMENT');
    expectCode(() => decryptAttachment(blob, fileKey, hash, -1), 'INVALID_ARGUMENT');
    expectCode(() => encryptAttachment([1, 2] as unknown as Uint8Array), 'INVALID_ARGUMENT');
    expectCode(
      () => encryptAttachment(bytes(1, 0), { fileKey: bytes(31, 0), header: bytes(24, 0) }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('attachment descriptors', () => {
  const descriptor = {
    blobId: 'b_0123-xyz',
    fileKey: bytes(32, 1),
    hash: bytes(32, 2),
    size: 77,
    mediaType: 'text/plain',
    name: 'notes ✓.txt',
  };

  it('round-trip', () => {
    expect(decodeAttachmentDescriptor(encodeAttachmentDescriptor(descriptor))).toEqual(descriptor);
  });

  it('refuse non-printable blob ids and bad lengths', () => {
    expectCode(
      () => encodeAttachmentDescriptor({ ...descriptor, blobId: 'a\u00e9' }),
      'INVALID_ARGUMENT',
    );
    expectCode(
      () => encodeAttachmentDescriptor({ ...descriptor, hash: bytes(3, 0) }),
      'INVALID_ARGUMENT',
    );
    const encoded = encodeAttachmentDescriptor(descriptor);
    expectCode(() => decodeAttachmentDescriptor(encoded.subarray(1)), 'MESSAGE_MALFORMED_PAYLOAD');
  });
});

describe('attachment sizes', () => {
  it('attachmentBlobBytes is the length of the blob encryptAttachment makes', () => {
    for (const size of [
      0,
      1,
      ATTACHMENT_CHUNK_BYTES - 1,
      ATTACHMENT_CHUNK_BYTES,
      3 * ATTACHMENT_CHUNK_BYTES + 5,
    ]) {
      expect(attachmentBlobBytes(size)).toBe(encryptAttachment(plaintextOf(size)).blob.length);
    }
  });

  it('largestAttachment is the largest file whose blob fits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 * 1024 * 1024 }), (limit) => {
        const size = largestAttachment(limit);
        if (attachmentBlobBytes(0) > limit) return size === 0;
        return attachmentBlobBytes(size) <= limit && attachmentBlobBytes(size + 1) > limit;
      }),
    );
    expect(largestAttachment(10 * 1024 * 1024)).toBe(10 * 1024 * 1024 - 24 - 17 * 160);
  });
});
