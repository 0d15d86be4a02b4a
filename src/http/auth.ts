import '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ActiveSession } from '../flows/session.js';
import { resolveSession } from '../flows/session.js';
import type { Deps } from '../deps.js';
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
