import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type {
  ConnectionError,
  FastifyBaseLogger,
  FastifyError,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
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

/**
 * Fastify's `frameworkErrors`: errors met while routing, before any handler (a path parameter
 * over maxParamLength, a malformed percent-encoding), in the same shape as every other.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const code: ErrorCode =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'URI_TOO_LONG' : 'BAD_REQUEST';
  request.log.warn({ code, reason: error.code }, 'request refused while routing');
  return sendError(reply, errorTable[code].status, code);
}

/**
 * Node's `clientError`: a request that cannot even be parsed (a request line or headers past
 * the 16 KiB limit, bytes that are not HTTP, a request that took too long). Answered in the
 * `{ error }` shape too; logged at warn without a stack, since the fault is the client's.
 */
export function clientErrorHandler(
  this: { log: FastifyBaseLogger },
  error: ConnectionError,
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = clientErrorCode(error);
  this.log.warn({ code, reason: error.code }, 'malformed request refused');
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { status, message } = errorTable[code];
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorResponse);
  // end, not destroy: a destroyed socket may drop the answer before it is written.
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
      `Content-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** A request line longer than this, of the 16 KiB that Node parses, is the URL's fault. */
const MAX_SHORT_REQUEST_LINE = 8 * 1024;

function clientErrorCode(error: ConnectionError): ErrorCode {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT';
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    // The limit counts the request line with the headers: past it before the line ended, the
    // URL is what is too long.
    const packet = (error as { rawPacket?: unknown }).rawPacket;
    const lineEnd = Buffer.isBuffer(packet) ? packet.indexOf('\r\n') : -1;
    return lineEnd === -1 || lineEnd > MAX_SHORT_REQUEST_LINE
      ? 'URI_TOO_LONG'
      : 'HEADERS_TOO_LARGE';
  }
  return 'BAD_REQUEST';
}

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
    const field = fieldCode(error);
    if (field !== undefined) return known(field);
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

/**
 * Fields a person types against a rule a client shows next to them: a failure of one of these has
 * a code of its own, so the client can point at the rule rather than at a schema.
 */
const FIELD_CODES: [path: RegExp, code: ErrorCode][] = [[/^\/tags?(\/\d+)?$/, 'TAG_INVALID']];

function fieldCode(error: FastifyError): ErrorCode | undefined {
  const path = error.validation?.[0]?.instancePath;
  if (path === undefined) return undefined;
  return FIELD_CODES.find(([pattern]) => pattern.test(path))?.[1];
}

function describeValidation(error: FastifyError): string {
  const first = error.validation?.[0];
  if (first === undefined) return error.message;
  const path = first.instancePath === '' ? '' : `${first.instancePath} `;
  return `${path}${first.message ?? 'is invalid'}`.slice(0, 300);
}
