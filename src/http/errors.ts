import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Locale } from '../domain/locale.js';
import { AppError, isAppError, type ErrorCode } from '../kernel/errors.js';
import { redactSecrets } from '../kernel/logger.js';
import { translator } from '../ui/i18n.js';
import { errorPage } from '../ui/pages.js';
import { rateLimitedMessage } from '../ui/wait.js';
import { errorRow } from './error-table.js';
import { requestLang } from './request.js';

/**
 * Errors from the database driver that mean "try again later", not "bug": the server refused, reset or timed
 * out the connection; PostgreSQL is shutting down, restarting or not yet accepting connections (57P01-57P03),
 * or the connection failed (class 08); too many connections (53300); SQLite is locked by another writer.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'SQLITE_BUSY',
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_LOCKED',
]);
const UNAVAILABLE_MESSAGES =
  /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error and is not queryable|Cannot use a pool after calling end|database is locked/i;

/** Errors Fastify raises before any route runs (see `frameworkErrors` in src/app.ts). */
const FRAMEWORK_CODES: Record<string, AppError['code']> = {
  FST_ERR_BAD_URL: 'invalid_request',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
  FST_ERR_ASYNC_CONSTRAINT: 'invalid_request',
};

/** Turns anything thrown into the one public error type; the single place that decides what a client sees. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const e = error as Partial<FastifyError> & { code?: string; message?: string };
  if (e.validation) {
    const first = e.validation[0];
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const field = missing ?? first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') ?? undefined;
    return new AppError('invalid_request', field ? { field } : {}, e.message, { cause: error });
  }
  // Their messages quote the raw URL, token and all (SPEC §7 rule 14): only the code is kept.
  if (typeof e.code === 'string' && Object.hasOwn(FRAMEWORK_CODES, e.code)) return new AppError(FRAMEWORK_CODES[e.code] ?? 'invalid_request', {}, e.code);
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AppError('payload_too_large', {}, e.message);
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AppError('unsupported_media_type', {}, e.message);
  // PostgreSQL refusing a character it cannot store (NUL, bad encoding) is the input's fault.
  if (e.code === '22021' || e.code === '22P05') return new AppError('invalid_request', {}, e.message, { cause: error });
  if (typeof e.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return new AppError('unavailable', {}, e.message, { cause: error });
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return new AppError('unavailable', {}, e.message, { cause: error });
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status === 404) return new AppError('not_found', {}, e.message);
  if (status >= 400 && status < 500) return new AppError('invalid_request', {}, e.message, { cause: error });
  return new AppError('internal', {}, e.message, { cause: error });
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  field?: string;
  reasons?: string[];
}

/** The problem body; its title (the error table's) in the asker's language (English when nothing says otherwise). */
export function problemBody(error: AppError, lang: Locale = 'en'): ProblemBody {
  const row = errorRow(error.code);
  return {
    type: 'about:blank',
    title: translator(lang)(row.title),
    status: row.status,
    code: error.code,
    ...(error.extras.field ? { field: error.extras.field } : {}),
    ...(error.extras.reasons ? { reasons: error.extras.reasons } : {}),
  };
}

function wantsJson(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/') || !(request.headers.accept ?? '').includes('text/html');
}

/** Fastify's error handler: RFC 9457 problem+json for the API, a page in the visitor's language otherwise. */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // The client hung up while sending its body (Node's "aborted", code ECONNRESET): its fault, not the
  // database's, whose resets share that code. Nobody is left to read the answer; log it as a refusal.
  const clientGone = request.raw.destroyed && !request.raw.complete;
  const appError = clientGone ? new AppError('invalid_request', {}, 'the client closed the request', { cause: error }) : toAppError(error);
  const row = errorRow(appError.code);
  if (row.status >= 500) request.log.error({ err: error, code: appError.code }, 'request failed');
  else request.log.info({ code: appError.code, detail: appError.detail === undefined ? undefined : redactSecrets(appError.detail) }, 'request refused');
  if (appError.extras.retryAfter !== undefined) reply.header('retry-after', String(appError.extras.retryAfter));
  reply.status(row.status);
  const lang = requestLang(request);
  if (wantsJson(request)) return reply.type('application/problem+json').send(problemBody(appError, lang));
  const message = row.page === 'wait' ? rateLimitedMessage(lang, appError.extras.retryAfter) : translator(lang)(row.page);
  return reply.type('text/html; charset=utf-8').send(errorPage(lang, message));
}

/** Node's own codes for the malformed requests that have a code of ours; any other is `invalid_request`. */
const CLIENT_ERROR_CODES = new Map<string, ErrorCode>([
  ['ERR_HTTP_REQUEST_TIMEOUT', 'request_timeout'],
  ['HPE_HEADER_OVERFLOW', 'headers_too_large'],
]);

/**
 * Node's `clientError` (src/app.ts `clientErrorHandler`): a request too malformed to reach Fastify (bad
 * request line, control bytes in the path, oversized headers, a body that never finishes arriving). The
 * answer is a problem body like every other refusal, then the connection closes.
 */
export function clientErrorHandler(this: { log: FastifyRequest['log'] }, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appError = new AppError(CLIENT_ERROR_CODES.get(error.code ?? '') ?? 'invalid_request', {}, error.message);
  this.log.info({ code: appError.code, detail: error.code }, 'client error');
  if (socket.writable) {
    const problem = problemBody(appError);
    const body = JSON.stringify(problem);
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Bad Request'}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
