import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Deps } from '../deps.js';
import { inspectNotMe, reportNotMe, UNLOCK_LINK_HOURS } from '../flows/not-me.js';
import { hmac, safeEqual, sha256 } from '../kernel/crypto.js';
import { AppError, isAppError } from '../kernel/errors.js';
import * as pages from '../ui/not-me-pages.js';
import { browserContext } from './browser-context.js';
import { requestLang, requestMeta } from './request.js';
import { SESSION_COOKIE, assertSameOrigin, clearSessionCookie, requireJsonBody, tokenPageHeaders } from './security.js';

const NOT_ME_COOKIE = 'lk_not_me';
/** The confirm page's own address holds no token (rule 11): the token waits in a cookie scoped to it. */
const NOT_ME_PATH = '/account/not-me';
const token = { type: 'string', minLength: 1, maxLength: 200 } as const;

/**
 * The form token of the confirm page: an HMAC of the link's token hash, so only a page that was shown the
 * link can post it (there is no session to key a CSRF token on: the person may be signed out or locked out).
 */
function notMeCsrf(secretKey: Buffer, linkToken: string): string {
  return hmac(secretKey, `not-me:${sha256(linkToken)}`);
}

/** `/account/not-me/<token>` (SPEC §5, §11): GET and HEAD show a confirm page and change nothing; its POST locks. */
export async function notMePageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secure = deps.config.publicUrl.protocol === 'https:';
  // No session is needed (the owner may be locked out), but a POST must name our origin.
  browserContext(app, deps, { session: false, originRequired: true });
  const htmlReply = (reply: FastifyReply, body: string, status = 200) => reply.status(status).type('text/html; charset=utf-8').send(body);

  // The link from the notice: moves the token into a cookie scoped to the confirm page and off the address bar.
  app.get<{ Params: { token: string } }>(`${NOT_ME_PATH}/:token`, async (request, reply) => {
    tokenPageHeaders(reply);
    const view = await inspectNotMe(deps, request.params.token);
    if (!view) return htmlReply(reply, pages.notMeInvalidPage(requestLang(request)), 400);
    reply.setCookie(NOT_ME_COOKIE, request.params.token, { path: NOT_ME_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge: 3600 });
    return reply.redirect(NOT_ME_PATH, 303);
  });

  app.get(NOT_ME_PATH, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const linkToken = request.cookies[NOT_ME_COOKIE] ?? '';
    const view = await inspectNotMe(deps, linkToken);
    if (!view) return htmlReply(reply, pages.notMeInvalidPage(requestLang(request)), 400);
    return htmlReply(reply, pages.notMeConfirmPage(requestLang(request), view, notMeCsrf(deps.secretKey, linkToken)));
  });

  app.post<{ Body: { _csrf?: string } }>(
    NOT_ME_PATH,
    { schema: { body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } } } },
    async (request, reply) => {
      const lang = requestLang(request);
      const linkToken = request.cookies[NOT_ME_COOKIE] ?? '';
      if (linkToken === '') return htmlReply(reply, pages.notMeInvalidPage(lang), 400);
      const submitted = request.body?._csrf;
      if (typeof submitted !== 'string' || !safeEqual(submitted, notMeCsrf(deps.secretKey, linkToken))) throw new AppError('forbidden', {}, 'bad not-me form token');
      try {
        const view = await reportNotMe(deps, linkToken, requestMeta(request));
        reply.clearCookie(NOT_ME_COOKIE, { path: NOT_ME_PATH });
        // This browser's session (if any) died with the others; forget its cookie too.
        if (request.cookies[SESSION_COOKIE]) clearSessionCookie(reply, secure);
        return htmlReply(reply, pages.notMeDonePage(lang, view, UNLOCK_LINK_HOURS));
      } catch (error) {
        if (isAppError(error) && error.code === 'invalid_token') return htmlReply(reply, pages.notMeInvalidPage(lang), 400);
        throw error;
      }
    },
  );
}

/** API twin: `POST /api/v1/not-me/<token>` → `202 {}`; no session needed, a foreign Origin is refused. */
export async function notMeApiRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const publicOrigin = deps.config.publicUrl.origin;
  app.addHook('onRequest', requireJsonBody);
  app.post<{ Params: { token: string } }>('/not-me/:token', { schema: { params: { type: 'object', properties: { token } } } }, async (request, reply) => {
    assertSameOrigin(request, publicOrigin, false);
    await reportNotMe(deps, request.params.token, requestMeta(request));
    return reply.status(202).send({});
  });
}
