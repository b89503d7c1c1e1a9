import { parleyError } from './errors';

/**
 * Strict unpadded base64url decoding (PROTOCOL.md §2.3). Buffer's decoder skips what it does not
 * understand; this one refuses anything that does not re-encode to the same text, so a value has
 * exactly one accepted spelling. Throws VALIDATION_FAILED naming `field`.
 */
export function fromBase64Url(value: string, field: string, expectedBytes?: number): Uint8Array {
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value) {
    throw parleyError('VALIDATION_FAILED', `${field}: not canonical unpadded base64url`);
  }
  if (expectedBytes !== undefined && bytes.length !== expectedBytes) {
    throw parleyError(
      'VALIDATION_FAILED',
      `${field}: expected ${expectedBytes} bytes, got ${bytes.length}`,
    );
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
