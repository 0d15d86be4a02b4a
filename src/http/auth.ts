import '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ActiveSession } from '../flows/session.js';
import { resolveSession } from '../flows/session.js';
import type { Deps } from '../deps.js';
import { AppError } from '../kernel/errors.js';
import { SESSION_COOKIE } from './security.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in person, set by `loadSession`; null when nobody is. */
    auth: ActiveSession | null;
  }
}

/** A hook that resolves the session cookie for a route context. */
export function loadSession(deps: Deps) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    request.auth = (await resolveSession(deps, request.cookies[SESSION_COOKIE])) ?? null;
  };
}

/** The signed-in person inside a guarded context (the guard ran, so it is there). */
export function authOf(request: FastifyRequest): ActiveSession {
  if (!request.auth) throw new Error('authOf used outside a guarded context');
  return request.auth;
}

/** The page with the password form, where "must change at next sign-in" sends the person. */
export const PASSWORD_FORM = '/account?mustChange=1#password';

/** What still works while an admin's "must change at next sign-in" stands (SPEC §5): the password change and sign-out. */
const ALLOWED_WHILE_MUST_CHANGE: ReadonlySet<string> = new Set([
  'POST /api/v1/me/password',
  'DELETE /api/v1/session',
  'GET /account',
  'HEAD /account',
  'POST /account/password',
  'POST /logout',
]);

/**
 * The one place that enforces "must change password" (box B3), as a hook of every signed-in context after
 * its session guard: the API answers `403 password_change_required`, pages redirect to the password form.
 */
export async function requirePasswordCurrent(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.auth?.account.must_change_password !== 1) return undefined;
  if (ALLOWED_WHILE_MUST_CHANGE.has(`${request.method} ${request.routeOptions.url ?? ''}`)) return undefined;
  if (request.url.startsWith('/api/')) throw new AppError('password_change_required');
  return reply.redirect(PASSWORD_FORM, 303);
}
