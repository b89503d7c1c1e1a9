import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import {
  clientFrameSchemas,
  errorTable,
  type ClientFrame,
  type ClientFrameType,
  type ErrorCode,
} from '@parley/wire';

/** A client frame that failed to parse or validate: the error code and what was wrong. */
export interface FrameProblem {
  code: Extract<ErrorCode, 'MALFORMED_JSON' | 'VALIDATION_FAILED'>;
  message: string;
}

const checks = Object.fromEntries(
  Object.entries(clientFrameSchemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]),
) as unknown as Record<ClientFrameType, TypeCheck<(typeof clientFrameSchemas)[ClientFrameType]>>;

/**
 * Parses and validates a text frame against the schema of its `type` (@parley/wire), strictly:
 * unknown fields, wrong types and out-of-range values are refused, and the problem names the
 * first field at fault.
 */
export function parseClientFrame(text: string): ClientFrame | FrameProblem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { code: 'MALFORMED_JSON', message: 'The frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { code: 'VALIDATION_FAILED', message: 'A frame is a JSON object with a type' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(checks, type)) {
    return { code: 'VALIDATION_FAILED', message: 'Unknown frame type' };
  }
  const check = checks[type as ClientFrameType];
  if (check.Check(value)) return value as ClientFrame;
  const first = check.Errors(value).First();
  const path = first === undefined || first.path === '' ? '' : `${first.path} `;
  return {
    code: 'VALIDATION_FAILED',
    message: `${type}: ${path}${first?.message ?? 'is invalid'}`.slice(0, 300),
  };
}

export function isFrameProblem(value: ClientFrame | FrameProblem): value is FrameProblem {
  return 'code' in value && !('type' in value);
}

/** An `error` frame; `ref` names the message (hex id) or room the error is about. */
export function errorFrame(code: ErrorCode, message?: string, ref?: string): string {
  return JSON.stringify({
    type: 'error',
    code,
    message: message ?? errorTable[code].message,
    ...(ref === undefined ? {} : { ref }),
  });
}
