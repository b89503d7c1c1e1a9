import { Type, type Static } from '@sinclair/typebox';
import { errorCodes } from './errors';

/** A 16-byte identifier as 32 lowercase hex characters (PROTOCOL.md §2.1). */
export const Id = Type.String({
  pattern: '^[0-9a-f]{32}$',
  minLength: 32,
  maxLength: 32,
  description: '16 bytes as 32 lowercase hex characters',
});
export type Id = Static<typeof Id>;

/**
 * Text without control characters, of `minLength` to `maxLength` characters: names, topics,
 * statuses and search terms are shown in lists and notifications.
 */
export function PrintableText(maxLength: number, minLength = 0) {
  return Type.String({
    minLength,
    maxLength,
    pattern: minLength > 0 ? '^[^\\u0000-\\u001f\\u007f]+$' : '^[^\\u0000-\\u001f\\u007f]*$',
  });
}

/** Unpadded base64url of exactly `bytes` bytes (PROTOCOL.md §2.3: blobs travel as base64url). */
export function Base64UrlBytes(bytes: number, description?: string) {
  const length = Math.ceil((bytes * 4) / 3);
  return Type.String({
    pattern: `^[A-Za-z0-9_-]{${length}}$`,
    minLength: length,
    maxLength: length,
    description: description ?? `${bytes} bytes as unpadded base64url`,
  });
}

/** Unpadded base64url of at most `maxBytes` bytes. */
export function Base64UrlBlob(maxBytes: number, description?: string) {
  return Type.String({
    pattern: '^[A-Za-z0-9_-]*$',
    maxLength: Math.ceil((maxBytes * 4) / 3),
    description: description ?? `up to ${maxBytes} bytes as unpadded base64url`,
  });
}

/** Every error answer: `{ "error": { "code", "message" } }`. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.Union(errorCodes.map((code) => Type.Literal(code))),
        message: Type.String(),
      },
      { additionalProperties: false },
    ),
  },
  { $id: 'ErrorResponse', additionalProperties: false },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

/** An opaque cursor for keyset pagination; absent on the last page. */
export const Cursor = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' });

export const PageLimit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });
