import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import { loadSession, requirePasswordCurrent } from './auth.js';
import { rememberLang } from './request.js';
import { redirectToSignIn } from './return-path.js';
import { assertCsrfToken, assertSameOrigin } from './security.js';

export interface BrowserContextOptions {
  /** Resolve the session cookie into `request.auth` (default on; the box's public forms need none). */
  session?: boolean;
  /** Signed-out visitors are sent to /login. */
  signedIn?: boolean;
  /** A signed-in person's POSTs carry the per-session CSRF token (every form of a signed-in page). */
  csrf?: boolean;
  /** A POST must name our origin even without a session cookie. */
  originRequired?: boolean;
  /** While an admin's "must change at next sign-in" stands, only the password form (src/http/auth.ts). */
  passwordCurrent?: boolean;
}

/**
 * The one browser context every page plugin opens with (issue 11's structure item): session, remembered
 * language, origin and CSRF checks, run before body validation so a signed-out visitor is redirected first.
 */
export function browserContext(app: FastifyInstance, deps: Deps, options: BrowserContextOptions = {}): void {
  const publicOrigin = deps.config.publicUrl.origin;
  if (options.session !== false) app.addHook('preValidation', loadSession(deps));
  app.addHook('preValidation', async (request, reply) => {
    rememberLang(request, reply);
    if (options.signedIn && !request.auth) return redirectToSignIn(request, reply);
    if (request.method === 'POST') {
      assertSameOrigin(request, publicOrigin, options.originRequired ?? false);
      if (options.csrf && request.auth) assertCsrfToken(deps.secretKey, request.auth.idHash, (request.body as Record<string, unknown> | undefined)?._csrf);
    }
    return undefined;
  });
  if (options.passwordCurrent) app.addHook('preValidation', requirePasswordCurrent);
}
