// Every failure of @parley/crypto is a CryptoError with one of the stable codes of PROTOCOL.md §9,
// so that callers (and the UI) switch on the code and never on the message.

export const CRYPTO_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_READY',
  'IDENTITY_MALFORMED',
  'IDENTITY_BAD_SIGNATURE',
  'SAFETY_NUMBER_MISMATCH',
  'ENVELOPE_MALFORMED',
  'ENVELOPE_WRONG_ROOM',
  'ENVELOPE_WRONG_EPOCH',
  'ENVELOPE_WRONG_RECIPIENT',
  'ENVELOPE_BAD_SIGNATURE',
  'ENVELOPE_UNAUTHORISED_DISTRIBUTOR',
  'ENVELOPE_DECRYPT_FAILED',
  'CHAIN_MALFORMED',
  'CHAIN_UNKNOWN_ENTRY_TYPE',
  'CHAIN_FORK',
  'CHAIN_BROKEN_LINK',
  'CHAIN_BAD_GENESIS',
  'CHAIN_UNKNOWN_ACTOR',
  'CHAIN_BAD_SIGNATURE',
  'CHAIN_ACTOR_NOT_ALLOWED',
  'MESSAGE_MALFORMED',
  'MESSAGE_UNSUPPORTED_VERSION',
  'MESSAGE_WRONG_ROOM',
  'MESSAGE_BAD_SIGNATURE',
  'MESSAGE_SENDER_NOT_MEMBER',
  'MESSAGE_UNKNOWN_EPOCH',
  'MESSAGE_DECRYPT_FAILED',
  'MESSAGE_BAD_PADDING',
  'MESSAGE_MALFORMED_PAYLOAD',
  'BACKUP_MALFORMED',
  'BACKUP_UNSUPPORTED_VERSION',
  'BACKUP_WRONG_USER',
  'BACKUP_PARAMS_TOO_WEAK',
  'BACKUP_PARAMS_TOO_HIGH',
  'BACKUP_DECRYPT_FAILED',
  'ATTACHMENT_MALFORMED',
  'ATTACHMENT_HASH_MISMATCH',
  'ATTACHMENT_DECRYPT_FAILED',
  'ATTACHMENT_TRUNCATED',
  'DEVICE_SEAL_MALFORMED',
  'DEVICE_SEAL_DECRYPT_FAILED',
] as const;

export type CryptoErrorCode = (typeof CRYPTO_ERROR_CODES)[number];

export interface CryptoErrorOptions {
  /** For membership chains: the index of the first entry that failed. */
  position?: number;
  cause?: unknown;
}

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;
  readonly position: number | undefined;

  /** `operation` is the public function that raised it; the message starts with its name. */
  constructor(
    code: CryptoErrorCode,
    operation: string,
    detail: string,
    options?: CryptoErrorOptions,
  ) {
    super(
      `${operation}: ${detail}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.position = options?.position;
  }
}

export function isCryptoError(value: unknown, code?: CryptoErrorCode): value is CryptoError {
  return value instanceof CryptoError && (code === undefined || value.code === code);
}

/** Re-raises a CryptoError from an inner step under the public operation's name, keeping its code. */
export function withOperation(error: unknown, operation: string): unknown {
  if (!(error instanceof CryptoError)) return error;
  const detail = error.message.replace(/^[^:]*: /, '');
  return new CryptoError(error.code, operation, detail, { position: error.position, cause: error });
}
