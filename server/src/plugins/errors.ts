import type { FastifyError, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { errorTable, isErrorCode, type ErrorCode, type ErrorResponse } from '@parley/wire';
import { isParleyError } from '../errors';

/**
 * Every error leaves as `{ "error": { "code", "message" } }` with a code from @parley/wire:
 * errors from the registry keep theirs; Fastify's own (validation, body size, content type, JSON
 * syntax) and 404s are mapped to stable codes; anything else is INTERNAL and its details stay in
 * the log.
 */
export const errorsPlugin = fp(
  async (app) => {
    app.setErrorHandler(async (error: FastifyError, request, reply) => {
      const { code, message, status } = classify(error);
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code, status }, 'request refused');
      return sendError(reply, status, code, message);
    });

    app.setNotFoundHandler(async (request, reply) =>
      sendError(
        reply,
        404,
        'NOT_FOUND',
        `No route for ${request.method} ${request.url.split('?')[0]}`,
      ),
    );
  },
  { name: 'parley-errors', fastify: '5.x' },
);

export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string = errorTable[code].message,
): FastifyReply {
  const body: ErrorResponse = { error: { code, message } };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

interface Classified {
  code: ErrorCode;
  message: string;
  status: number;
}

function classify(error: FastifyError): Classified {
  if (isParleyError(error)) {
    return { code: error.code, message: error.message, status: errorTable[error.code].status };
  }
  if (error.validation !== undefined) {
    const where = error.validationContext ?? 'request';
    return known('VALIDATION_FAILED', `${where}: ${describeValidation(error)}`);
  }
  const mapped = FASTIFY_CODES[error.code];
  if (mapped !== undefined) return known(mapped);
  if (isErrorCode(error.code)) return known(error.code, error.message);
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { code: 'BAD_REQUEST', message: error.message, status };
  return known('INTERNAL');
}

function known(code: ErrorCode, message?: string): Classified {
  const entry = errorTable[code];
  return { code, message: message ?? entry.message, status: entry.status };
}

// Fastify's and its plugins' own error codes, mapped to ours.
const FASTIFY_CODES: Record<string, ErrorCode | undefined> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
  FST_ERR_NOT_FOUND: 'NOT_FOUND',
};

function describeValidation(error: FastifyError): string {
  const first = error.validation?.[0];
  if (first === undefined) return error.message;
  const path = first.instancePath === '' ? '' : `${first.instancePath} `;
  return `${path}${first.message ?? 'is invalid'}`.slice(0, 300);
}
