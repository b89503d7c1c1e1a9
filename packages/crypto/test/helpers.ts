import fc from 'fast-check';
import { expect } from 'vitest';
import { CryptoError, type CryptoErrorCode } from '../src/index';

/** Runs `action` and asserts it throws a CryptoError with `code`; returns the error. */
export function expectCode(action: () => unknown, code: CryptoErrorCode): CryptoError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(CryptoError);
  const error = thrown as CryptoError;
  expect(error.code, error.message).toBe(code);
  return error;
}

/** The code a call fails with, or 'ok'; for property tests that compare many outcomes. */
export function outcome(action: () => unknown): CryptoErrorCode | 'ok' {
  try {
    action();
    return 'ok';
  } catch (error) {
    if (error instanceof CryptoError) return error.code;
    throw error;
  }
}

export function flipByte(bytes: Uint8Array, index: number, mask: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = copy[index]! ^ mask;
  return copy;
}

export function bytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

/** Where each part of canon(label, f1..fn) lies; parsed here independently of the library. */
export interface CanonLayout {
  /** Content ranges: index 0 is the label, then one per field. */
  parts: { start: number; end: number }[];
}

export function canonLayout(encoded: Uint8Array): CanonLayout {
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const parts: { start: number; end: number }[] = [];
  let offset = 0;
  while (offset < encoded.length) {
    const length = view.getUint32(offset);
    parts.push({ start: offset + 4, end: offset + 4 + length });
    offset += 4 + length;
  }
  return { parts };
}

/**
 * Which field of `encoded` byte `index` belongs to: -1 for a length prefix or the label (flipping
 * those breaks the structure), otherwise the field number from 0 and the offset inside it.
 */
export function locate(encoded: Uint8Array, index: number): { field: number; offset: number } {
  const { parts } = canonLayout(encoded);
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (index >= part.start && index < part.end)
      return { field: i - 1, offset: index - part.start };
  }
  return { field: -1, offset: -1 };
}

/** The u64 a flipped 8-byte field now holds, or undefined when it is not below 2^53. */
export function flippedU64(field: Uint8Array, offset: number, mask: number): number | undefined {
  const copy = flipByte(field, offset, mask);
  const view = new DataView(copy.buffer);
  const value = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
  return value >= 2 ** 53 ? undefined : value;
}

export function fieldOf(encoded: Uint8Array, field: number): Uint8Array {
  const part = canonLayout(encoded).parts[field + 1]!;
  return encoded.subarray(part.start, part.end);
}

/** fast-check arbitraries for "flip byte `index` of a buffer with a non-zero mask". */
export const flipArbitrary = (length: number) =>
  fc.record({
    index: fc.integer({ min: 0, max: length - 1 }),
    mask: fc.integer({ min: 1, max: 255 }),
  });

/**
 * Flips random single bytes of `encoded` (a non-zero mask each time) and asserts that `open`
 * refuses every result with the code `codeFor` predicts for that byte.
 */
export function expectEveryFlipRefused(
  encoded: Uint8Array,
  open: (tampered: Uint8Array) => unknown,
  codeFor: (index: number, mask: number) => string,
  numRuns: number,
): void {
  fc.assert(
    fc.property(flipArbitrary(encoded.length), ({ index, mask }) => {
      expect(outcome(() => open(flipByte(encoded, index, mask)))).toBe(codeFor(index, mask));
    }),
    { numRuns },
  );
}
