// Attachments (PROTOCOL.md §8): a file encrypted under a fresh key with libsodium's secretstream in
// 64 KiB chunks, uploaded as an opaque blob; its key and hash travel in a descriptor inside an
// encrypted message payload.
import {
  assertBytes,
  assertString,
  assertU64,
  canon,
  concatBytes,
  decodeCanon,
  expectLength,
  readAscii,
  readU64,
  readUtf8,
  ascii,
  u64,
  utf8,
} from './encoding';
import { CryptoError } from './errors';
import {
  HASH_BYTES,
  STREAM_CHUNK_OVERHEAD,
  STREAM_HEADER_BYTES,
  STREAM_KEY_BYTES,
  STREAM_TAG_FINAL,
  STREAM_TAG_MESSAGE,
  constantTimeEqual,
  hash,
  memzero,
  randomBytes,
  streamPull,
  streamPush,
  streamPushState,
  streamState,
} from './sodium';

export const ATTACHMENT_CHUNK_BYTES = 65536;
export const LABEL_ATTACHMENT = 'parley/v1/attachment';

export interface AttachmentDescriptor {
  /** The server's identifier of the uploaded blob, printable ASCII. */
  blobId: string;
  fileKey: Uint8Array;
  /** H(blob). */
  hash: Uint8Array;
  /** Plaintext length in bytes. */
  size: number;
  mediaType: string;
  name: string;
}

export interface EncryptedAttachment {
  blob: Uint8Array;
  fileKey: Uint8Array;
  hash: Uint8Array;
  size: number;
}

/** The size of the blob `encryptAttachment` makes of a file of `plaintextBytes` bytes. */
export function attachmentBlobBytes(plaintextBytes: number): number {
  const chunks = Math.floor(plaintextBytes / ATTACHMENT_CHUNK_BYTES) + 1;
  return STREAM_HEADER_BYTES + plaintextBytes + chunks * STREAM_CHUNK_OVERHEAD;
}

/** The largest file whose encrypted blob fits in `blobBytes` (0 when not even an empty one does). */
export function largestAttachment(blobBytes: number): number {
  let size = Math.max(0, blobBytes - STREAM_HEADER_BYTES - STREAM_CHUNK_OVERHEAD);
  // Each full chunk costs one more tag and MAC: step down until the chunks' overhead fits too.
  while (size > 0 && attachmentBlobBytes(size) > blobBytes) {
    size -= attachmentBlobBytes(size) - blobBytes;
  }
  // A step may drop a chunk and undershoot by its overhead: climb back to the exact largest.
  while (attachmentBlobBytes(size + 1) <= blobBytes) size++;
  return attachmentBlobBytes(size) <= blobBytes ? size : 0;
}

/**
 * Encrypts a file for upload. `dangerousTestOnlyRandomness` fixes the file key and stream header
 * so that test vectors are reproducible; never pass it otherwise.
 */
export function encryptAttachment(
  plaintext: Uint8Array,
  dangerousTestOnlyRandomness?: { fileKey: Uint8Array; header: Uint8Array },
): EncryptedAttachment {
  const operation = 'encryptAttachment';
  assertBytes(plaintext, operation, 'plaintext');
  const fileKey =
    dangerousTestOnlyRandomness === undefined
      ? randomBytes(STREAM_KEY_BYTES)
      : assertBytes(
          dangerousTestOnlyRandomness.fileKey,
          operation,
          'fileKey',
          STREAM_KEY_BYTES,
        ).slice();
  // Production lets libsodium draw the header (init_push); vectors fix it for byte-stability.
  const { state, header } =
    dangerousTestOnlyRandomness === undefined
      ? streamPushState(fileKey)
      : {
          header: assertBytes(
            dangerousTestOnlyRandomness.header,
            operation,
            'header',
            STREAM_HEADER_BYTES,
          ),
          state: streamState(dangerousTestOnlyRandomness.header, fileKey),
        };
  // floor(size / 64 KiB) + 1 chunks: the last is shorter, and empty when the size is a multiple.
  const chunkCount = Math.floor(plaintext.length / ATTACHMENT_CHUNK_BYTES) + 1;
  const parts: Uint8Array[] = [header];
  for (let index = 0; index < chunkCount; index++) {
    const start = index * ATTACHMENT_CHUNK_BYTES;
    const chunk = plaintext.subarray(
      start,
      Math.min(plaintext.length, start + ATTACHMENT_CHUNK_BYTES),
    );
    const tag = index === chunkCount - 1 ? STREAM_TAG_FINAL : STREAM_TAG_MESSAGE;
    parts.push(streamPush(state, chunk, tag));
  }
  const blob = concatBytes(parts);
  return { blob, fileKey, hash: hash(blob), size: plaintext.length };
}

/** Checks and decrypts a downloaded blob against its descriptor, in the order of §8. */
export function decryptAttachment(
  blob: Uint8Array,
  fileKey: Uint8Array,
  expectedHash: Uint8Array,
  size: number,
): Uint8Array {
  const operation = 'decryptAttachment';
  assertBytes(blob, operation, 'blob');
  assertBytes(fileKey, operation, 'fileKey', STREAM_KEY_BYTES);
  assertBytes(expectedHash, operation, 'expectedHash', HASH_BYTES);
  assertU64(size, operation, 'size');
  if (!constantTimeEqual(hash(blob), expectedHash)) {
    throw new CryptoError(
      'ATTACHMENT_HASH_MISMATCH',
      operation,
      'the blob is not the one the sender described',
    );
  }
  if (blob.length < STREAM_HEADER_BYTES) {
    throw new CryptoError(
      'ATTACHMENT_MALFORMED',
      operation,
      `blob of ${blob.length} bytes has no stream header`,
    );
  }
  const state = streamState(blob.subarray(0, STREAM_HEADER_BYTES), fileKey);
  const chunks: Uint8Array[] = [];
  const fail = (code: CryptoError['code'], detail: string): never => {
    for (const chunk of chunks) memzero(chunk);
    throw new CryptoError(code, operation, detail);
  };
  let offset = STREAM_HEADER_BYTES;
  let finished = false;
  while (offset < blob.length) {
    if (finished) fail('ATTACHMENT_TRUNCATED', 'data follows the final chunk');
    const end = Math.min(blob.length, offset + ATTACHMENT_CHUNK_BYTES + STREAM_CHUNK_OVERHEAD);
    const pulled = streamPull(state, blob.subarray(offset, end));
    if (pulled === undefined)
      fail('ATTACHMENT_DECRYPT_FAILED', `chunk at byte ${offset} does not decrypt`);
    if (pulled!.tag === STREAM_TAG_FINAL) finished = true;
    else if (pulled!.tag !== STREAM_TAG_MESSAGE)
      fail('ATTACHMENT_MALFORMED', `unexpected stream tag ${pulled!.tag}`);
    chunks.push(pulled!.message);
    offset = end;
  }
  if (!finished) fail('ATTACHMENT_TRUNCATED', 'the stream ends without its final chunk');
  const plaintext = concatBytes(chunks);
  for (const chunk of chunks) memzero(chunk);
  if (plaintext.length !== size) {
    memzero(plaintext);
    throw new CryptoError(
      'ATTACHMENT_MALFORMED',
      operation,
      `plaintext is ${plaintext.length} bytes, not ${size}`,
    );
  }
  return plaintext;
}

export function encodeAttachmentDescriptor(descriptor: AttachmentDescriptor): Uint8Array {
  const operation = 'encodeAttachmentDescriptor';
  const blobId = assertString(descriptor.blobId, operation, 'blobId');
  if (!PRINTABLE_ASCII.test(blobId)) {
    throw new CryptoError('INVALID_ARGUMENT', operation, 'blobId: expected printable ASCII');
  }
  assertBytes(descriptor.fileKey, operation, 'fileKey', STREAM_KEY_BYTES);
  assertBytes(descriptor.hash, operation, 'hash', HASH_BYTES);
  assertU64(descriptor.size, operation, 'size');
  return canon(LABEL_ATTACHMENT, [
    ascii(blobId),
    descriptor.fileKey,
    descriptor.hash,
    u64(descriptor.size),
    utf8(assertString(descriptor.mediaType, operation, 'mediaType')),
    utf8(assertString(descriptor.name, operation, 'name')),
  ]);
}

/** Descriptors only travel inside payloads, so a bad one is MESSAGE_MALFORMED_PAYLOAD. */
export function decodeAttachmentDescriptor(bytes: Uint8Array): AttachmentDescriptor {
  const operation = 'decodeAttachmentDescriptor';
  const code = 'MESSAGE_MALFORMED_PAYLOAD';
  assertBytes(bytes, operation, 'descriptor');
  const [blobId, fileKey, blobHash, size, mediaType, name] = decodeCanon(
    bytes,
    LABEL_ATTACHMENT,
    6,
    code,
    operation,
  );
  const blobIdText = readAscii(blobId);
  if (blobIdText === undefined || !PRINTABLE_ASCII.test(blobIdText)) {
    throw new CryptoError(code, operation, 'blobId: not printable ASCII');
  }
  return {
    blobId: blobIdText,
    fileKey: expectLength(fileKey, STREAM_KEY_BYTES, code, operation, 'fileKey'),
    hash: expectLength(blobHash, HASH_BYTES, code, operation, 'hash'),
    size: readU64(size, code, operation, 'size'),
    mediaType: readUtf8(mediaType, code, operation, 'mediaType'),
    name: readUtf8(name, code, operation, 'name'),
  };
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
