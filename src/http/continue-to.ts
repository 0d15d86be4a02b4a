import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';
import { safeReturnPath } from './return-path.js';

/**
 * Where a person who left /login (for "forgot password" or a social button) goes once they are signed in:
 * the `next` that /login was given, e.g. an application's pending sign-in (`/oidc/interaction/<uid>`).
 * Kept in a cookie for half an hour, a path on this site only, used once.
 */
export const CONTINUE_COOKIE = 'lk_continue';
const CONTINUE_SECONDS = 30 * 60;

export function rememberContinue(reply: FastifyReply, next: string, secure: boolean): void {
  reply.setCookie(CONTINUE_COOKIE, next, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: CONTINUE_SECONDS });
}

/** The remembered path (cleared now), else `fallback`. */
export function takeContinue(request: FastifyRequest, reply: FastifyReply, fallback: string): string {
  const remembered = request.cookies[CONTINUE_COOKIE];
  if (remembered === undefined) return fallback;
  forgetContinue(reply);
  return safeReturnPath(remembered) ?? fallback;
}

export function forgetContinue(reply: FastifyReply): void {
  reply.clearCookie(CONTINUE_COOKIE, { path: '/' });
}
