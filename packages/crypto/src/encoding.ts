// Canonical encoding (PROTOCOL.md §2): lp(x) = u32(len(x)) || x and
// canon(label, f1..fn) = lp(ascii(label)) || lp(f1) || ... || lp(fn), with a strict decoder, plus
// the integer, hex, base64url and UTF-8 helpers every other module uses at its boundary.
import { CryptoError, type CryptoErrorCode } from './errors';
import {
  fromBase64Url as sodiumFromBase64Url,
  fromHex as sodiumFromHex,
  toBase64Url as sodiumBase64Url,
  toHex as sodiumHex,
} from './sodium';

/** u64 fields hold integers below 2^53 so that JavaScript numbers represent them exactly. */
export const U64_LIMIT = 2 ** 53;
export const ID_BYTES = 16;

export function lp(field: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + field.length);
  new DataView(out.buffer).setUint32(0, field.length);
  out.set(field, 4);
  return out;
}

export function canon(label: string, fields: readonly Uint8Array[]): Uint8Array {
  const labelBytes = labelOf(label);
  let total = 4 + labelBytes.length;
  for (const field of fields) total += 4 + field.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, labelBytes.length);
  out.set(labelBytes, 4);
  let offset = 4 + labelBytes.length;
  for (const field of fields) {
    view.setUint32(offset, field.length);
    out.set(field, offset + 4);
    offset += 4 + field.length;
  }
  return out;
}

/**
 * Decodes canon(label, f1..fn) with exactly `fieldCount` fields. Anything else (another label, a
 * different count, a prefix running past the end, bytes left over) throws `code`. The fields are
 * copies, so callers may keep them without holding on to the input.
 */
export function decodeCanon<N extends number>(
  bytes: Uint8Array,
  label: string,
  fieldCount: N,
  code: CryptoErrorCode,
  operation: string,
): CanonFields<N> {
  const parts = splitPrefixed(bytes, code, operation);
  const [first, ...fields] = parts;
  if (first === undefined || !bytesEqual(first, labelOf(label))) {
    throw new CryptoError(code, operation, `expected label ${label}`);
  }
  if (fields.length !== fieldCount) {
    throw new CryptoError(
      code,
      operation,
      `${label} has ${fieldCount} fields, found ${fields.length}`,
    );
  }
  return fields as CanonFields<N>;
}

/**
 * The fields decodeCanon returns: a tuple of `N` when the count is a literal, so callers
 * destructure them without restating the count as a cast.
 */
export type CanonFields<N extends number, Fields extends Uint8Array[] = []> = number extends N
  ? Uint8Array[]
  : Fields['length'] extends N
    ? Fields
    : CanonFields<N, [...Fields, Uint8Array]>;

/** A list field (§2.2): lp(item1) || lp(item2) || ...; the empty list is the empty string. */
export function encodeList(items: readonly Uint8Array[]): Uint8Array {
  return concatBytes(items.map(lp));
}

export function decodeList(
  field: Uint8Array,
  code: CryptoErrorCode,
  operation: string,
): Uint8Array[] {
  return splitPrefixed(field, code, operation);
}

export function u64(value: number): Uint8Array {
  if (!isU64(value)) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      'u64',
      `expected an integer in [0, 2^53), got ${String(value)}`,
    );
  }
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(value / 2 ** 32));
  view.setUint32(4, value % 2 ** 32);
  return out;
}

/** Reads a u64 field: exactly 8 bytes, big-endian, below 2^53; anything else throws `code`. */
export function readU64(
  field: Uint8Array,
  code: CryptoErrorCode,
  operation: string,
  name: string,
): number {
  if (field.length !== 8) {
    throw new CryptoError(code, operation, `${name}: expected 8 bytes, got ${field.length}`);
  }
  const view = new DataView(field.buffer, field.byteOffset, 8);
  const value = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
  if (value >= U64_LIMIT) throw new CryptoError(code, operation, `${name}: not below 2^53`);
  return value;
}

export function isU64(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A fixed-length field of received data: a wrong length throws `code`. */
export function expectLength(
  field: Uint8Array,
  lengths: number | readonly number[],
  code: CryptoErrorCode,
  operation: string,
  name: string,
): Uint8Array {
  const allowed = typeof lengths === 'number' ? [lengths] : lengths;
  if (!allowed.includes(field.length)) {
    throw new CryptoError(
      code,
      operation,
      `${name}: expected ${allowed.join(' or ')} bytes, got ${field.length}`,
    );
  }
  return field;
}

/** A caller-supplied byte string: wrong type or length is INVALID_ARGUMENT. */
export function assertBytes(
  value: unknown,
  operation: string,
  name: string,
  length?: number | readonly number[],
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      operation,
      `${name}: expected a Uint8Array, got ${describe(value)}`,
    );
  }
  if (length !== undefined) {
    const allowed = typeof length === 'number' ? [length] : length;
    if (!allowed.includes(value.length)) {
      throw new CryptoError(
        'INVALID_ARGUMENT',
        operation,
        `${name}: expected ${allowed.join(' or ')} bytes, got ${value.length}`,
      );
    }
  }
  return value;
}

export function assertU64(value: unknown, operation: string, name: string, minimum = 0): number {
  if (!isU64(value) || value < minimum) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      operation,
      `${name}: expected an integer in [${minimum}, 2^53), got ${describe(value)}`,
    );
  }
  return value;
}

export function assertString(value: unknown, operation: string, name: string): string {
  if (typeof value !== 'string') {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      operation,
      `${name}: expected a string, got ${describe(value)}`,
    );
  }
  return value;
}

export function assertOneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  operation: string,
  name: string,
): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      operation,
      `${name}: expected one of ${allowed.join(', ')}`,
    );
  }
  return value as T;
}

/** A fresh random 16-byte identifier (room and message ids). */
export function generateId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(ID_BYTES));
}

const HEX = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  return sodiumHex(bytes);
}

/** Strict: lowercase, even length (identifiers in JSON and URLs are lowercase hex, §2.1). */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || !HEX.test(hex)) {
    throw new CryptoError('INVALID_ARGUMENT', 'fromHex', 'expected lowercase hex of even length');
  }
  return sodiumFromHex(hex);
}

/** Unpadded base64url, the form blobs take in JSON (§2.3). */
export function toBase64Url(bytes: Uint8Array): string {
  return sodiumBase64Url(bytes);
}

/** Strict: URL-safe alphabet only, no padding, no stray low bits (one encoding per value). */
export function fromBase64Url(text: string): Uint8Array {
  const bytes = typeof text === 'string' ? sodiumFromBase64Url(text) : undefined;
  if (bytes === undefined) {
    throw new CryptoError('INVALID_ARGUMENT', 'fromBase64Url', 'expected unpadded base64url');
  }
  return bytes;
}

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, never U+FFFD; ignoreBOM: a leading U+FEFF stays a character,
// so that decoding and re-encoding give back the same bytes.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function readUtf8(
  bytes: Uint8Array,
  code: CryptoErrorCode,
  operation: string,
  name: string,
): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CryptoError(code, operation, `${name}: invalid UTF-8`);
  }
}

export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new CryptoError('INVALID_ARGUMENT', 'ascii', 'expected ASCII text');
    out[i] = code;
  }
  return out;
}

export function readAscii(bytes: Uint8Array): string | undefined {
  let out = '';
  for (const byte of bytes) {
    if (byte > 0x7f) return undefined;
    out += String.fromCharCode(byte);
  }
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Plain equality for public values (labels, ids); secrets go through constantTimeEqual. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Labels are a handful of constants; encoding each once keeps canon() a pure copy loop.
const labels = new Map<string, Uint8Array>();

function labelOf(label: string): Uint8Array {
  let bytes = labels.get(label);
  if (bytes === undefined) {
    bytes = ascii(label);
    labels.set(label, bytes);
  }
  return bytes;
}

function splitPrefixed(bytes: Uint8Array, code: CryptoErrorCode, operation: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 4)
      throw new CryptoError(code, operation, 'truncated length prefix');
    const length = view.getUint32(offset);
    offset += 4;
    if (length > bytes.length - offset) {
      throw new CryptoError(code, operation, `length prefix ${length} runs past the end`);
    }
    parts.push(bytes.slice(offset, offset + length));
    offset += length;
  }
  return parts;
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  return typeof value;
}
