import createError, { type FastifyErrorConstructor } from '@fastify/error';
import { errorTable, type ErrorCode } from '@parley/wire';

/**
 * The server's error registry: one constructor per code of @parley/wire's table, made with
 * `createError(code, message, status)`. Throw `parleyError(code)` anywhere in a request; the
 * error plugin turns it into `{ "error": { "code", "message" } }` with the table's status.
 */
export function parleyError(code: ErrorCode, message?: string, cause?: unknown): ParleyError {
  const error = new constructors[code](message ?? errorTable[code].message) as ParleyError;
  if (cause !== undefined) error.cause = cause;
  return error;
}

export interface ParleyError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
}

export function isParleyError(error: unknown): error is ParleyError {
  return (
    error instanceof Error &&
    Object.hasOwn(constructors, (error as { code?: unknown }).code as string) &&
    error instanceof constructors[(error as ParleyError).code]
  );
}

// The message is a format string filled at construction, so a thrower can be more specific.
const constructors = Object.fromEntries(
  Object.entries(errorTable).map(([code, { status }]) => [code, createError(code, '%s', status)]),
) as Record<ErrorCode, FastifyErrorConstructor>;
