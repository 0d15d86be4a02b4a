import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { browserContext } from './browser-context.js';
import type { Deps } from '../deps.js';
import { SOCIAL_ATTEMPT_MINUTES, finishSocial, startSocial, type SocialMode } from '../flows/social-sign-in.js';
import { AppError } from '../kernel/errors.js';
import { SocialError, type SocialFailure, type SocialProvider } from '../social/provider.js';
import { socialErrorPage } from '../ui/pages.js';
import { takeContinue } from './continue-to.js';
import { requestLang, requestMeta } from './request.js';
import { assertCsrfToken } from './security.js';
import { redirectSignIn } from './sign-in-outcome.js';

/** The sealed attempt (state, nonce, PKCE verifier) waits in a cookie only the callback path receives. */
const ATTEMPT_COOKIE = 'lk_social';
const ATTEMPT_PATH = '/auth';

const FAILURE_STATUS: Record<SocialFailure, number> = {
  cancelled: 400,
  provider_unreachable: 503,
  provider_error: 502,
  state_mismatch: 400,
  nonce_mismatch: 400,
  expired: 400,
  identity_taken: 409,
  email_taken: 409,
  no_subject: 502,
  account_inactive: 403,
};

/**
 * Social sign-in (SPEC §3, seed C6): `GET /auth/<id>` starts a sign-in, `POST /auth/<id>/link` (signed in,
 * CSRF-checked) starts linking, `GET /auth/<id>/callback` finishes either. Failures get a page that says
 * what happened in the visitor's language and are logged with their reason code only.
 */
export async function socialRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secure = deps.config.publicUrl.protocol === 'https:';

  // A signed-in person who must change the password links nothing first.
  browserContext(app, deps, { originRequired: true, passwordCurrent: true });

  const providerOf = (id: string): SocialProvider => {
    const provider = deps.social.get(id);
    if (!provider) throw new AppError('not_found');
    return provider;
  };

  const failed = (request: FastifyRequest, reply: FastifyReply, provider: SocialProvider, error: unknown, mode: SocialMode) => {
    if (!(error instanceof SocialError)) throw error;
    request.log.warn({ provider: provider.id, reason: error.reason, detail: error.detail }, 'social sign-in failed');
    deps.metrics.socialSignIns.inc({ provider: provider.id, outcome: error.reason });
    const retry = mode === 'link' ? '/account#methods' : `/auth/${provider.id}`;
    return reply
      .status(FAILURE_STATUS[error.reason])
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(socialErrorPage(requestLang(request), provider.title, error.reason, retry));
  };

  const start = async (request: FastifyRequest, reply: FastifyReply, provider: SocialProvider, mode: SocialMode) => {
    try {
      const { redirectTo, sealedAttempt } = await startSocial(deps, provider, { mode, ...(mode === 'link' && request.auth ? { accountId: request.auth.account.id } : {}) });
      reply.setCookie(ATTEMPT_COOKIE, sealedAttempt, { path: ATTEMPT_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: SOCIAL_ATTEMPT_MINUTES * 60 });
      return reply.header('cache-control', 'no-store').redirect(redirectTo.toString(), 303);
    } catch (error) {
      return failed(request, reply, provider, error, mode);
    }
  };

  app.get<{ Params: { provider: string } }>('/auth/:provider', async (request, reply) => start(request, reply, providerOf(request.params.provider), 'sign_in'));

  app.post<{ Params: { provider: string } }>('/auth/:provider/link', async (request, reply) => {
    const provider = providerOf(request.params.provider);
    if (!request.auth) return reply.redirect('/login', 303);
    assertCsrfToken(deps.secretKey, request.auth.idHash, (request.body as Record<string, unknown> | undefined)?._csrf);
    return start(request, reply, provider, 'link');
  });

  app.get<{ Params: { provider: string } }>('/auth/:provider/callback', async (request, reply) => {
    const provider = providerOf(request.params.provider);
    const sealedAttempt = request.cookies[ATTEMPT_COOKIE];
    // One attempt, one callback: a replayed callback finds no attempt.
    reply.clearCookie(ATTEMPT_COOKIE, { path: ATTEMPT_PATH, httpOnly: true, sameSite: 'lax', secure });
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    const mode: SocialMode = request.auth ? 'link' : 'sign_in';
    let outcome;
    try {
      outcome = await finishSocial(
        deps,
        provider,
        {
          sealedAttempt,
          // PUBLIC_URL, never the Host header (SPEC §7 rule 11): it is also the redirect_uri the code was issued for.
          callbackUrl: new URL(request.url, deps.config.publicUrl),
          signedInAccountId: request.auth?.account.id,
          lang: requestLang(request),
        },
        requestMeta(request),
      );
    } catch (error) {
      return failed(request, reply, provider, error, mode);
    }
    if (outcome.kind === 'linked') {
      deps.metrics.socialSignIns.inc({ provider: provider.id, outcome: 'linked' });
      return reply.redirect('/account?done=linked#methods', 303);
    }
    deps.metrics.socialSignIns.inc({ provider: provider.id, outcome: outcome.created ? 'created' : 'signed_in' });
    return redirectSignIn(deps, request, reply, outcome.outcome, takeContinue(request, reply, '/portals'));
  });
}
