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
