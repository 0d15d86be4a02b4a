import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { browserContext } from './browser-context.js';
import type { Deps } from '../deps.js';
import { acceptInvitation, declineInvitation, inspectInvitation, mayAnswer } from '../flows/accept-invitation.js';
import { AppError, isAppError } from '../kernel/errors.js';
import { INVITATION_PATH, invalidInvitationPage, invitationDeclinedPage, invitationPage } from '../ui/invitation-pages.js';
import { authOf, loadSession } from './auth.js';
import { requestLang, requestMeta } from './request.js';
import { assertSameOrigin, csrfToken, requireJsonBody, tokenPageHeaders } from './security.js';

const INVITATION_COOKIE = 'lk_invitation';

/**
 * The invitation link (SPEC §5, rule 22). Opening it changes nothing: the token moves into a cookie scoped
 * to /invitations and off the address bar (rule 11); every page here is `no-store`, and the page says who invites where. Only the
 * passport that proved the invited contact, signed in, may accept or decline, by a form with a CSRF token.
 */
export async function invitationPageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secure = deps.config.publicUrl.protocol === 'https:';

  browserContext(app, deps, { csrf: true });

  const navOf = (request: FastifyRequest) => (request.auth ? { login: request.auth.account.login, csrf: csrfToken(deps.secretKey, request.auth.idHash) } : undefined);
  const send = (reply: FastifyReply, body: string, status = 200) => reply.status(status).type('text/html; charset=utf-8').send(body);
  const tokenOf = (request: FastifyRequest) => request.cookies[INVITATION_COOKIE] ?? '';
  const invalid = (request: FastifyRequest, reply: FastifyReply) => {
    reply.clearCookie(INVITATION_COOKIE, { path: INVITATION_PATH });
    return send(reply, invalidInvitationPage(requestLang(request), navOf(request)), 400);
  };

  // Only this address holds the token: no Referer from it. The page it leads to keeps the default policy,
  // under which browsers still send our Origin with its forms (no-referrer would make it `null`).
  app.get<{ Params: { token: string } }>(`${INVITATION_PATH}/:token`, async (request, reply) => {
    tokenPageHeaders(reply);
    const open = await inspectInvitation(deps, request.params.token);
    if (!open) return invalid(request, reply);
    const maxAge = Math.max(1, Math.floor((Date.parse(open.invitation.expires_at) - deps.clock.now().getTime()) / 1000));
    reply.setCookie(INVITATION_COOKIE, request.params.token, { path: INVITATION_PATH, httpOnly: true, sameSite: 'lax', secure, maxAge });
    return reply.redirect(INVITATION_PATH, 303);
  });

  app.get(INVITATION_PATH, async (request, reply) => {
    const open = await inspectInvitation(deps, tokenOf(request));
    if (!open) return invalid(request, reply);
    const nav = navOf(request);
    const state = !request.auth ? 'sign_in' : mayAnswer(request.auth.account, open) ? 'answer' : 'wrong_account';
    const page = invitationPage(requestLang(request), nav, { portal: open.portal.title, inviter: open.inviter, role: open.invitation.role, state });
    return send(reply, page, state === 'wrong_account' ? 403 : 200);
  });

  for (const answer of ['accept', 'decline'] as const) {
    app.post(`${INVITATION_PATH}/${answer}`, { schema: { body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } } } }, async (request, reply) => {
      if (!request.auth) return reply.redirect(`/login?next=${encodeURIComponent(INVITATION_PATH)}`, 303);
      const account = authOf(request).account;
      try {
        const portal = await (answer === 'accept' ? acceptInvitation : declineInvitation)(deps, account, tokenOf(request), requestMeta(request));
        reply.clearCookie(INVITATION_COOKIE, { path: INVITATION_PATH });
        if (answer === 'accept') return reply.redirect('/portals', 303);
        return send(reply, invitationDeclinedPage(requestLang(request), { login: account.login, csrf: csrfToken(deps.secretKey, authOf(request).idHash) }, portal.title));
      } catch (error) {
        if (!isAppError(error)) throw error;
        if (error.code === 'invalid_token') return invalid(request, reply);
        if (error.code === 'forbidden') {
          const open = await inspectInvitation(deps, tokenOf(request));
          if (!open) return invalid(request, reply);
          const page = invitationPage(requestLang(request), navOf(request), { portal: open.portal.title, inviter: open.inviter, role: open.invitation.role, state: 'wrong_account' });
          return send(reply, page, 403);
        }
        throw error;
      }
    });
  }
}

/** `POST /api/v1/invitations/<token>/accept` and `/decline`: signed in, our Origin, the invited account only. */
export async function invitationApiRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const publicOrigin = deps.config.publicUrl.origin;

  app.addHook('onRequest', requireJsonBody);
  app.addHook('preValidation', loadSession(deps));
  app.addHook('preValidation', async (request, reply) => {
    tokenPageHeaders(reply);
    if (!request.auth) throw new AppError('unauthorized');
    assertSameOrigin(request, publicOrigin, true);
  });

  for (const answer of ['accept', 'decline'] as const) {
    app.post<{ Params: { token: string } }>(`/invitations/:token/${answer}`, async (request) => {
      const flow = answer === 'accept' ? acceptInvitation : declineInvitation;
      const portal = await flow(deps, authOf(request).account, request.params.token, requestMeta(request));
      return { portal };
    });
  }
}
