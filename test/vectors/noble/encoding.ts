// Canonical encoding of docs/PROTOCOL.md §2, written from the spec alone: every structure is
// lp(label) || lp(f1) || ... || lp(fn) with lp(x) = u32be(len(x)) || x. The decoder is strict, as
// §2.2 requires: wrong label, wrong field count, overrunning prefixes and trailing bytes all fail.

/** Thrown by the decoder; callers translate it into the failure code of the structure they read. */
export class EncodingError extends Error {
  override readonly name = 'EncodingError';
}

const textEncoder = new TextEncoder();
// fatal: reject invalid UTF-8 instead of substituting U+FFFD; ignoreBOM: keep a leading U+FEFF
// as text rather than silently dropping it, so decoding never changes the bytes' meaning.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Largest integer a u64 field may hold (§2.1: below 2^53). */
export const U64_LIMIT = 2 ** 53;

export function canon(label: string, ...fields: Uint8Array[]): Uint8Array {
  return concat(lp(ascii(label)), ...fields.map(lp));
}

/**
 * Decodes `canon(label, f1..fn)` with exactly `fieldCount` fields; returns the fields as views
 * into `bytes`.
 */
export function decodeCanon(bytes: Uint8Array, label: string, fieldCount: number): Uint8Array[] {
  const items = splitPrefixed(bytes);
  const [first, ...fields] = items;
  if (first === undefined || !equalBytes(first, ascii(label))) {
    throw new EncodingError(`decodeCanon: expected label ${label}`);
  }
  if (fields.length !== fieldCount) {
    throw new EncodingError(
      `decodeCanon: ${label} expects ${fieldCount} fields, found ${fields.length}`,
    );
  }
  return fields;
}

/** A list field (§2.2): lp(item1) || lp(item2) || ...; the empty string is the empty list. */
export function encodeList(items: Uint8Array[]): Uint8Array {
  return concat(...items.map(lp));
}

export function decodeList(field: Uint8Array): Uint8Array[] {
  return splitPrefixed(field);
}

export function u64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`u64: not a safe integer: ${n}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/** Reads a u64 field: exactly 8 bytes, big-endian, below 2^53. */
export function readU64(field: Uint8Array): number {
  if (field.length !== 8) throw new EncodingError(`readU64: expected 8 bytes, got ${field.length}`);
  const value = new DataView(field.buffer, field.byteOffset, 8).getBigUint64(0);
  if (value >= BigInt(U64_LIMIT)) throw new EncodingError('readU64: value not below 2^53');
  return Number(value);
}

/** Checks a fixed-length field (identifier, key, signature, nonce). */
export function fixed(field: Uint8Array, length: number, what: string): Uint8Array {
  if (field.length !== length) {
    throw new EncodingError(`${what}: expected ${length} bytes, got ${field.length}`);
  }
  return field;
}

/** A field that is either empty or of exactly `length` bytes (optional ids, prevHash). */
export function emptyOr(field: Uint8Array, length: number, what: string): Uint8Array {
  if (field.length !== 0 && field.length !== length) {
    throw new EncodingError(`${what}: expected 0 or ${length} bytes, got ${field.length}`);
  }
  return field;
}

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export function readUtf8(field: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(field);
  } catch {
    throw new EncodingError(`${what}: not valid UTF-8`);
  }
}

export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new RangeError(`ascii: non-ASCII character in ${JSON.stringify(text)}`);
    out[i] = code;
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Variable-time equality, for public values only; secrets go through `constantTimeEqual`. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Compares without an early exit, so the time taken does not reveal where inputs differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Bytewise lexicographic order, as §3.3 uses to order fingerprints. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Parses the vectors' lowercase hex; anything else is a broken vector file, not a protocol case. */
export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex))
    throw new TypeError('fromHex: not lowercase hex of even length');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian 32-bit words, the form noble's HSalsa20 and HChaCha20 cores take. */
export function toWordsLE(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(4 * i, true);
  return words;
}

export function fromWordsLE(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(4 * i, words[i]!, true);
  return out;
}

function lp(field: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + field.length);
  new DataView(out.buffer).setUint32(0, field.length);
  out.set(field, 4);
  return out;
}

function splitPrefixed(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 4) throw new EncodingError('decode: truncated length prefix');
    const length = view.getUint32(offset);
    offset += 4;
    if (length > bytes.length - offset) throw new EncodingError('decode: length runs past the end');
    items.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return items;
}
