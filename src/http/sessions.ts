import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signedInApi } from './api-context.js';
import { browserContext } from './browser-context.js';
import type { Deps } from '../deps.js';
import { listOwnSessions, publicSessionId, signOutOtherSessions, signOutOwnSession } from '../flows/account-sessions.js';
import { sessionsPage, type SessionsPageState } from '../ui/session-pages.js';
import { authOf, loadSession } from './auth.js';
import { requestLang, requestMeta } from './request.js';
import { clearSessionCookie, csrfToken, requireJsonBody } from './security.js';

const SESSION_ID = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** `GET/DELETE /api/v1/me/sessions…` (SPEC §5, §11): a signed-in context of its own; deletions need our Origin. */
export async function sessionApiRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const secure = deps.config.publicUrl.protocol === 'https:';

  app.addHook('onRequest', requireJsonBody);
  app.addHook('preValidation', loadSession(deps));
  signedInApi(app, deps, { origin: true });

  app.get('/me/sessions', async (request) => ({ sessions: await listOwnSessions(deps, authOf(request)) }));

  app.delete<{ Params: { id: string } }>('/me/sessions/:id', { schema: { params: { type: 'object', properties: { id: SESSION_ID } } } }, async (request, reply) => {
    const auth = authOf(request);
    await signOutOwnSession(deps, auth, request.params.id, requestMeta(request));
    // Signing out this very session is a sign-out: the cookie goes too.
    if (request.params.id === publicSessionId(deps.secretKey, auth.idHash)) clearSessionCookie(reply, secure);
    return reply.status(204).send();
  });

  app.delete('/me/sessions', async (request, reply) => {
    await signOutOtherSessions(deps, authOf(request), requestMeta(request));
    return reply.status(204).send();
  });
}

/** `/account/sessions` (SPEC §11): the list, and forms (with the session's CSRF token) to sign sessions out. */
export async function sessionPageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;

  browserContext(app, deps, { signedIn: true, csrf: true, passwordCurrent: true });

  const show = async (request: FastifyRequest, reply: FastifyReply, state: SessionsPageState = {}) => {
    const auth = authOf(request);
    const nav = { login: auth.account.login, csrf: csrfToken(deps.secretKey, auth.idHash) };
    return reply.type('text/html; charset=utf-8').send(sessionsPage(requestLang(request), nav, await listOwnSessions(deps, auth), state));
  };
  const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string', maxLength: 200 } } } as const;

  app.get<{ Querystring: { done?: string } }>('/account/sessions', async (request, reply) => {
    const done = request.query.done;
    return show(request, reply, done === 'one' || done === 'others' ? { notice: done } : {});
  });

  app.post<{ Params: { id: string } }>(
    '/account/sessions/:id/sign-out',
    { schema: { params: { type: 'object', properties: { id: SESSION_ID } }, body: csrfOnly } },
    async (request, reply) => {
      await signOutOwnSession(deps, authOf(request), request.params.id, requestMeta(request));
      return reply.redirect('/account/sessions?done=one', 303);
    },
  );

  app.post('/account/sessions/sign-out-others', { schema: { body: csrfOnly } }, async (request, reply) => {
    await signOutOtherSessions(deps, authOf(request), requestMeta(request));
    return reply.redirect('/account/sessions?done=others', 303);
  });
}
