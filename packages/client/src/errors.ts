// Every failure the client raises is a ClientError with a stable code, so that a UI switches on the
// code and never on the message. Codes are the client's own, the server's (@parley/wire), or
// @parley/crypto's (a verification failure surfaced by a call the user made).
import { CryptoError, type CryptoErrorCode } from '@parley/crypto';
import type { ErrorCode as ServerErrorCode } from '@parley/wire';

export const CLIENT_ERROR_CODES = [
  /** The key store file or database cannot be read as a Parley key store. */
  'KEY_STORE_CORRUPT',
  /** Another process holds the file key store. */
  'KEY_STORE_LOCKED',
  'KEY_STORE_CLOSED',
  /** A value the caller stored is not JSON (numbers must be finite, no undefined, no bytes). */
  'KEY_STORE_INVALID_VALUE',
  /** The operation needs an account on this device; sign up, log in with keys, or restore. */
  'NOT_SIGNED_IN',
  /** This key store already holds another account. */
  'ACCOUNT_MISMATCH',
  /** The server could not be reached. */
  'NETWORK_ERROR',
  /** The server answered something the client does not understand. */
  'BAD_RESPONSE',
  /** No answer in time. */
  'TIMEOUT',
  /** A contact's identity key changed and the change has not been accepted: nothing is sealed to it. */
  'KEY_CHANGE_PENDING',
  /** The user is not pinned yet; look them up first. */
  'UNKNOWN_CONTACT',
  'PASSPHRASE_TOO_WEAK',
  /** The backup passphrase must not be the login password: it never leaves the device, the password does. */
  'PASSPHRASE_IS_PASSWORD',
  'ROOM_NOT_FOUND',
  /** The verified membership chain does not make this user a member (or allow this change). */
  'NOT_A_MEMBER',
  'NOT_ALLOWED',
  /**
   * The server answered that a direct conversation with this person exists, yet no room whose
   * verified genesis entry names the two of them reached this device.
   */
  'DIRECT_ROOM_UNVERIFIED',
  /** No key for the room's current epoch has reached this device yet. */
  'EPOCH_KEY_MISSING',
  /** The client was closed. */
  'CLIENT_CLOSED',
  'INVALID_ARGUMENT',
] as const;

export type OwnErrorCode = (typeof CLIENT_ERROR_CODES)[number];
export type ClientErrorCode = OwnErrorCode | ServerErrorCode | CryptoErrorCode;

export interface ClientErrorOptions {
  /** The HTTP status, for errors answered by the server. */
  status?: number;
  cause?: unknown;
}

export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  readonly status: number | undefined;

  /** `operation` is the public method that raised it; the message starts with its name. */
  constructor(
    code: ClientErrorCode,
    operation: string,
    detail: string,
    options?: ClientErrorOptions,
  ) {
    super(
      `${operation}: ${detail}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.status = options?.status;
  }
}

export function isClientError(value: unknown, code?: ClientErrorCode): value is ClientError {
  return value instanceof ClientError && (code === undefined || value.code === code);
}

/** A CryptoError keeps its code as a ClientError under the client operation that ran into it. */
export function fromCryptoError(error: unknown, operation: string): unknown {
  if (!(error instanceof CryptoError)) return error;
  return new ClientError(error.code, operation, error.message, { cause: error });
}
