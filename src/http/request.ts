import type { FastifyReply, FastifyRequest } from 'fastify';
import '@fastify/cookie';
import { isLocale, localeFromAcceptLanguage, type Locale } from '../domain/locale.js';
import type { RequestMeta } from '../flows/context.js';
import { deviceIdOf } from './device-cookie.js';

export const LANG_COOKIE = 'lk_lang';

/** `?lang=` first, then the remembered choice, then Accept-Language; English when nothing matches. */
export function requestLang(request: FastifyRequest): Locale {
  const query = (request.query as Record<string, unknown> | undefined)?.lang;
  if (isLocale(query)) return query;
  const cookie = request.cookies?.[LANG_COOKIE];
  if (isLocale(cookie)) return cookie;
  return localeFromAcceptLanguage(request.headers['accept-language']);
}

/** Remembers an explicit `?lang=` choice for the next pages. */
export function rememberLang(request: FastifyRequest, reply: FastifyReply): void {
  const query = (request.query as Record<string, unknown> | undefined)?.lang;
  if (isLocale(query)) reply.setCookie(LANG_COOKIE, query, { path: '/', maxAge: 365 * 24 * 3600, sameSite: 'lax', httpOnly: true });
}

export function requestMeta(request: FastifyRequest): RequestMeta {
  return { ip: request.ip, userAgent: request.headers['user-agent'], knownAccounts: request.knownAccounts ?? new Set(), deviceId: deviceIdOf(request) };
}
