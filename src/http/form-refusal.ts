import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAppError, type ErrorCode } from '../kernel/errors.js';
import { translator, type MessageKey } from '../ui/i18n.js';
import { weakPasswordMessages } from '../ui/pages.js';
import { rateLimitedMessage } from '../ui/wait.js';
import { errorRow } from './error-table.js';
import { requestLang } from './request.js';

/** The sentence a form shows for a refusal, for the codes a page words its own way (else the error table's). */
export type Wording = Partial<Record<ErrorCode, MessageKey>>;

/**
 * What a person reads in a form for an expected refusal, in their language: the page's wording of the code,
 * else the error table's `form` (a sentence, a weak password's reasons, or "try again in N minutes" with
 * `Retry-After`). A refusal that neither words is rethrown for the error handler.
 */
export function formRefusal(request: FastifyRequest, reply: FastifyReply, error: unknown, wording: Wording = {}): { status: number; messages: string[] } {
  if (!isAppError(error)) throw error;
  const row = errorRow(error.code);
  const said = wording[error.code] ?? row.form;
  if (said === false) throw error;
  const lang = requestLang(request);
  if (said === 'weak-password') return { status: row.status, messages: weakPasswordMessages(lang, error.extras.reasons ?? []) };
  if (said === 'wait') {
    const seconds = error.extras.retryAfter ?? 60;
    reply.header('retry-after', String(seconds));
    return { status: row.status, messages: [rateLimitedMessage(lang, seconds)] };
  }
  return { status: row.status, messages: [translator(lang)(said)] };
}
