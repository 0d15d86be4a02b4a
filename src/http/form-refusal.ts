import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAppError, type ErrorCode } from '../kernel/errors.js';
import { translator, type MessageKey } from '../ui/i18n.js';
import { weakPasswordMessages } from '../ui/pages.js';
import { rateLimitedMessage } from '../ui/wait.js';
import { requestLang } from './request.js';

/** The sentence a form shows for a refusal, for the codes a page words its own way. */
export type Wording = Partial<Record<ErrorCode, MessageKey>>;

/** What every form says unless it words a code itself. */
const DEFAULT_WORDING: Wording = { invalid_credentials: 'login.failed', account_locked: 'login.locked' };

/**
 * The one place that decides what a person reads in a form for an expected refusal, in their language: a weak
 * password's reasons, "try again in N seconds" (with `Retry-After`), or the page's (else the default) wording
 * of the code. Anything else is rethrown for the error handler.
 */
export function formRefusal(request: FastifyRequest, reply: FastifyReply, error: unknown, wording: Wording = {}): { status: number; messages: string[] } {
  if (!isAppError(error)) throw error;
  const lang = requestLang(request);
  const t = translator(lang);
  if (error.code === 'weak_password') return { status: error.status, messages: weakPasswordMessages(lang, error.extras.reasons ?? []) };
  if (error.code === 'rate_limited') {
    const seconds = error.extras.retryAfter ?? 60;
    reply.header('retry-after', String(seconds));
    return { status: error.status, messages: [rateLimitedMessage(lang, seconds)] };
  }
  const key = wording[error.code] ?? DEFAULT_WORDING[error.code];
  if (key === undefined) throw error;
  return { status: error.status, messages: [t(key)] };
}
