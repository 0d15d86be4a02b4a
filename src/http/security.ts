import type { FastifyReply, FastifyRequest } from 'fastify';
import { hmac, safeEqual } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import type { OpenedSession } from '../flows/session.js';
import { rememberDevice } from './device-cookie.js';

export const SESSION_COOKIE = 'lk_session';

/** `logoOrigin`: where LATCHKEY_BRAND_LOGO_URL lives, the one other place images may come from. */
function contentSecurityPolicy(logoOrigin: string | undefined): string {
  const images = logoOrigin ? `'self' data: ${logoOrigin}` : "'self' data:";
  return `default-src 'none'; script-src 'self'; style-src 'self'; img-src ${images}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;
}

/** Headers every response carries (SPEC §7 rule 12); token pages tighten the referrer policy themselves. */
export function securityHeaders(https: boolean, logoOrigin?: string) {
  const csp = contentSecurityPolicy(logoOrigin);
  return async (_request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    reply.header('content-security-policy', csp);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'same-origin');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (https) reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  };
}

/** Token pages: the token must not leak through Referer or caches (SPEC §7 rule 11). */
export function tokenPageHeaders(reply: FastifyReply): void {
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cache-control', 'no-store');
}

/**
 * CSRF by origin (SPEC §5): a foreign Origin is always refused; a request that rides on the session
 * cookie must name our origin. Fetch metadata (`Sec-Fetch-Site: cross-site`) is refused as well.
 */
export function assertSameOrigin(request: FastifyRequest, publicOrigin: string, usesSession: boolean): void {
  const origin = request.headers.origin;
  if (request.headers['sec-fetch-site'] === 'cross-site') throw new AppError('forbidden', {}, 'cross-site request');
  if (origin === undefined) {
    if (usesSession) throw new AppError('forbidden', {}, 'missing Origin on a cookie-authenticated request');
    return;
  }
  if (origin !== publicOrigin) throw new AppError('forbidden', {}, `foreign Origin ${origin.slice(0, 100)}`);
}

/** The per-session form token: an HMAC of the session id's hash, so nothing extra is stored. */
export function csrfToken(secretKey: Buffer, sessionHash: string): string {
  return hmac(secretKey, `csrf:${sessionHash}`);
}

export function assertCsrfToken(secretKey: Buffer, sessionHash: string, submitted: unknown): void {
  if (typeof submitted !== 'string' || !safeEqual(submitted, csrfToken(secretKey, sessionHash))) {
    throw new AppError('forbidden', {}, 'bad CSRF token');
  }
}

/**
 * Signs the browser in: the session cookie, and the device cookie that vouches for the account from now on
 * (SPEC §7 rule 20; it outlives sign-out). Every route that opens a session goes through here, so none
 * forgets the device.
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: OpenedSession, options: { secretKey: Buffer; secure: boolean }): void {
  const { secure } = options;
  reply.setCookie(SESSION_COOKIE, session.token, { path: '/', httpOnly: true, sameSite: 'lax', secure, expires: session.expiresAt });
  rememberDevice(request, reply, options.secretKey, session.accountId, secure);
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** Bodies of the JSON API are JSON (SPEC §5): the form parser registered for the pages does not serve it. */
export async function requireJsonBody(request: FastifyRequest): Promise<void> {
  const type = request.headers['content-type'];
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) throw new AppError('unsupported_media_type');
}
