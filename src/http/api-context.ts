import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import { AppError } from '../kernel/errors.js';
import { requirePasswordCurrent } from './auth.js';
import { assertSameOrigin } from './security.js';

/**
 * The guard every signed-in API context opens with (the session is loaded by then): 401 without a session,
 * the "must change password" guard, and with `origin`, our Origin on every state-changing request (SPEC §5).
 */
export function signedInApi(app: FastifyInstance, deps: Deps, options: { origin?: boolean } = {}): void {
  const publicOrigin = deps.config.publicUrl.origin;
  // The OpenAPI document marks these routes as needing a session (src/http/openapi.ts).
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, signedIn: true } as typeof route.config;
  });
  app.addHook('preValidation', async (request) => {
    if (!request.auth) throw new AppError('unauthorized');
    if (options.origin && request.method !== 'GET' && request.method !== 'HEAD') assertSameOrigin(request, publicOrigin, true);
  });
  app.addHook('preValidation', requirePasswordCurrent);
}
