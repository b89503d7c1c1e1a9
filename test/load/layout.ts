// Where the message id sits inside a base64url message envelope. Every field before it has a
// fixed length (PROTOCOL.md §6.1, §6.4), so the baseline server can name the message in its ack
// and the load generator can tell which message arrived without decoding or parsing anything.

/** Byte offset of the header's messageId in an envelope. */
export const MESSAGE_ID_OFFSET = 142;

/**
 * The base64url characters covering the message id: base64 encodes 3 bytes as 4 characters, so
 * bytes 141..158 are characters 188..211, and the id is bytes 1..16 of what they decode to.
 */
export const MESSAGE_ID_CHARS = { start: 188, end: 212, skip: 1 } as const;

/** The message id (16 bytes) of a base64url envelope, decoded from its fixed place. */
export function messageIdBytes(envelope: string, from = 0): Buffer {
  const bytes = Buffer.from(
    envelope.slice(from + MESSAGE_ID_CHARS.start, from + MESSAGE_ID_CHARS.end),
    'base64url',
  );
  return bytes.subarray(MESSAGE_ID_CHARS.skip, MESSAGE_ID_CHARS.skip + 16);
}

/**
 * The generator writes a message's global number into the last four bytes of its (otherwise
 * random) message id, so a receiver finds the send time of whatever arrives.
 */
export function messageNumberOf(messageId: Uint8Array): number {
  return new DataView(messageId.buffer, messageId.byteOffset + 12, 4).getUint32(0);
}
