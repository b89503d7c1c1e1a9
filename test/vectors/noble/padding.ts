// ISO/IEC 7816-4 padding (sodium_pad / sodium_unpad) and the payload size buckets of
// docs/PROTOCOL.md §6.3, so that a message length leaks only its bucket.

const SMALLEST_BUCKET = 256;
const LARGEST_POWER_BUCKET = 65536;

/** bucket(n): 256 up to 256; the next power of two up to 65536; then multiples of 65536. */
export function bucket(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`bucket: invalid length ${n}`);
  if (n <= SMALLEST_BUCKET) return SMALLEST_BUCKET;
  if (n <= LARGEST_POWER_BUCKET) {
    let size = SMALLEST_BUCKET;
    while (size < n) size *= 2;
    return size;
  }
  return Math.ceil(n / LARGEST_POWER_BUCKET) * LARGEST_POWER_BUCKET;
}

/** Pad(payload, bucket(len + 1)): payload || 0x80 || zeros, exactly bucket(len + 1) bytes long. */
export function padPayload(payload: Uint8Array): Uint8Array {
  const padded = new Uint8Array(bucket(payload.length + 1));
  padded.set(payload);
  padded[payload.length] = 0x80;
  return padded;
}

/**
 * Strips the padding; null unless the input ends in 0x80 followed only by zeros and its length is
 * exactly the bucket of what it carries (a sender following §6.3 produces nothing else).
 */
export function unpadPayload(padded: Uint8Array): Uint8Array | null {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0x00) end--;
  if (end < 0 || padded[end] !== 0x80) return null;
  if (padded.length !== bucket(end + 1)) return null;
  return padded.subarray(0, end);
}
