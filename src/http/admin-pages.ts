import { suspendSecondFactor } from '../flows/second-factor-suspension.js';
import { secondFactorStatus } from '../flows/second-factor.js';
import { findPortalPolicy } from '../store/portals.repo.js';
import { findLiveSuspension } from '../store/second-factor-suspensions.repo.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { browserContext } from './browser-context.js';
import type { Deps } from '../deps.js';
import { requireMember, requirePortalAdmin } from '../flows/admin-access.js';
import { endMemberSessions, renameMember, setMemberRole, setMemberStatus } from '../flows/admin-members.js';
import { sendAdminRecovery } from '../flows/admin-recovery.js';
import { setPasswordByAdmin } from '../flows/admin-set-password.js';
import { inviteEmployee, listInvitations, revokeInvitation } from '../flows/invite-employee.js';
import { isAppError } from '../kernel/errors.js';
import { listAdminPortals, listAuditEvents, searchMembers, type AuditRow } from '../store/admin.repo.js';
import * as adminPages from '../ui/admin-pages.js';
import { translator } from '../ui/i18n.js';
import { weakPasswordMessages } from '../ui/pages.js';
import { rateLimitedMessage } from '../ui/wait.js';
import { AUDIT_EXPORT_MAX, AUDIT_PAGE_SIZE, PAGE_SIZE, auditCsv, auditCsvName, auditFilterOf, auditQuerySchema, memberFilterOf, memberFilterSchema, type AuditQuery } from './admin-api.js';
import { authOf } from './auth.js';
import { requestLang } from './request.js';
import { csrfToken } from './security.js';
import { sendError } from './errors.js';

const field = (max: number) => ({ type: 'string', maxLength: max }) as const;

/** The signed-in person is no active admin of the portal in the address (or their session is held to another one). */
class NotPortalAdmin extends Error {
  constructor(
    readonly slug: string,
    readonly heldElsewhere: boolean,
    cause: unknown,
  ) {
    super('not an admin of this portal', { cause });
  }
}

/** The admin console pages (issue 4): a guarded context of its own; every action goes through the flows. */
export async function adminPageRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;

  browserContext(app, deps, { signedIn: true, csrf: true, passwordCurrent: true });

  const nav = (request: FastifyRequest) => {
    const auth = authOf(request);
    return { login: auth.account.login, csrf: csrfToken(deps.secretKey, auth.idHash) };
  };
  const send = (reply: FastifyReply, body: string, status = 200) => reply.status(status).type('text/html; charset=utf-8').send(body);
  // Someone signed in who is not an admin of the portal in the address gets a page saying so, with the way
  // back to their portals (issue 14 item 4), instead of "something went wrong". It names only the slug they
  // typed, so it tells nothing about whether such a portal exists.
  const actorOf = async (request: FastifyRequest<{ Params: { slug: string } }>) => {
    const auth = authOf(request);
    try {
      return await requirePortalAdmin(deps, auth.account, request.params.slug, request.ip, auth.onlyPortalId);
    } catch (error) {
      if (isAppError(error) && error.code === 'forbidden') throw new NotPortalAdmin(request.params.slug, auth.onlyPortalId !== null, error);
      throw error;
    }
  };
  app.setErrorHandler((error, request, reply) => {
    if (!(error instanceof NotPortalAdmin)) return sendError(error, request, reply);
    request.log.info({ code: 'forbidden', detail: error.cause instanceof Error ? error.cause.message : undefined }, 'request refused');
    return send(reply, adminPages.notAdminPage(requestLang(request), nav(request), error.slug, error.heldElsewhere), 403);
  });

  app.get('/admin', async (request, reply) => {
    const portals = await listAdminPortals(deps.store.db, authOf(request).account.id);
    if (portals.length === 1 && portals[0]) return reply.redirect(`/admin/${portals[0].slug}/users`, 303);
    if (portals.length === 0) return send(reply, adminPages.notAdminPage(requestLang(request), nav(request), undefined, false), 403);
    return send(reply, adminPages.adminPortalsPage(requestLang(request), nav(request), portals));
  });

  app.get<{ Params: { slug: string }; Querystring: { query?: string; page?: string; role?: string; status?: string } }>(
    '/admin/:slug/users',
    { schema: { querystring: { type: 'object', properties: { query: field(200), page: { type: 'string', pattern: '^[0-9]{1,6}$' }, ...memberFilterSchema } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      const query = request.query.query ?? '';
      const page = Math.max(1, Number(request.query.page ?? '1'));
      const filter = memberFilterOf(request.query);
      const { members, total } = await searchMembers(deps.store.db, actor.portal.id, query, (page - 1) * PAGE_SIZE, PAGE_SIZE, filter);
      const policy = await findPortalPolicy(deps.store.db, actor.portal.slug);
      return send(reply, adminPages.employeesPage(requestLang(request), nav(request), actor.portal, { query, page, pages: Math.ceil(total / PAGE_SIZE), total, filter, members, policy }));
    },
  );

  const profile = async (request: FastifyRequest<{ Params: { slug: string; id: string } }>, reply: FastifyReply, state: adminPages.ProfileState = {}, status = 200) => {
    const actor = await actorOf(request);
    const member = await requireMember(deps, actor, request.params.id, { fired: true });
    const now = deps.clock.now().toISOString();
    const factor = await secondFactorStatus(deps.store.db, member.id, now);
    const pause = factor.suspended ? await findLiveSuspension(deps.store.db, member.id, now) : undefined;
    const twoFactor = { enabled: factor.enabled, suspendedUntil: pause?.expires_at ?? null };
    return send(reply, adminPages.employeePage(requestLang(request), nav(request), actor.portal, member, deps.config.edition, deps.settings.smsEnabled, { twoFactor, ...state }), status);
  };

  app.get<{ Params: { slug: string; id: string }; Querystring: { sent?: string; at?: string; set?: string; done?: string; replaced?: string } }>('/admin/:slug/users/:id', async (request, reply) => {
    const { sent, at, set, done, replaced } = request.query;
    const state: adminPages.ProfileState = {};
    if (done === 'roleChanged' || done === 'renamed') state.edit = { done };
    if (done === 'sessionsEnded' || done === 'fired' || done === 'reactivated' || done === 'suspended') state.done = done;
    if ((sent === 'email' || sent === 'phone') && at && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(at)) state.sent = { channel: sent, at, replaced: replaced === '1' };
    if (set === '1') state.passwordSet = true;
    return profile(request, reply, state);
  });

  app.post<{ Params: { slug: string; id: string }; Body: { channel: string } }>(
    '/admin/:slug/users/:id/recovery',
    { schema: { body: { type: 'object', required: ['channel'], properties: { channel: { type: 'string', enum: ['email', 'phone'] }, _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      const channel = request.body.channel === 'phone' ? 'phone' : 'email';
      try {
        const { sentAt, replacedEarlierLink } = await sendAdminRecovery(deps, actor, request.params.id, channel);
        return reply.redirect(`/admin/${actor.portal.slug}/users/${request.params.id}?sent=${channel}&at=${encodeURIComponent(sentAt)}${replacedEarlierLink ? '&replaced=1' : ''}`, 303);
      } catch (error) {
        if (isAppError(error) && error.code === 'rate_limited') {
          reply.header('retry-after', String(error.extras.retryAfter ?? 60));
          return profile(request, reply, { errors: [rateLimitedMessage(requestLang(request), error.extras.retryAfter)] }, 429);
        }
        // The SMS guard's country list (rule 19): the admin is told rather than shown an error page.
        if (isAppError(error) && error.code === 'invalid_request' && error.extras.field === 'phone') {
          return profile(request, reply, { errors: [translator(requestLang(request))('admin.smsCountry')] }, 400);
        }
        throw error;
      }
    },
  );

  app.post<{ Params: { slug: string; id: string }; Body: { password: string; passwordConfirm: string; mustChange?: string } }>(
    '/admin/:slug/users/:id/password',
    { schema: { body: { type: 'object', required: ['password', 'passwordConfirm'], properties: { password: field(2048), passwordConfirm: field(2048), mustChange: field(10), username: field(200), _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      const lang = requestLang(request);
      try {
        await setPasswordByAdmin(deps, actor, request.params.id, { ...request.body, mustChange: request.body.mustChange === '1' });
        return reply.redirect(`/admin/${actor.portal.slug}/users/${request.params.id}?set=1`, 303);
      } catch (error) {
        if (!isAppError(error)) throw error;
        if (error.code === 'weak_password') return profile(request, reply, { errors: weakPasswordMessages(lang, error.extras.reasons ?? []) }, 422);
        if (error.code === 'invalid_request' && error.extras.field === 'passwordConfirm') return profile(request, reply, { errors: [translator(lang)('admin.mismatch')] }, 400);
        throw error;
      }
    },
  );

  // Issue 11: a lost phone; the second factor is paused for the hours chosen, held to this portal.
  app.post<{ Params: { slug: string; id: string }; Body: { hours: string } }>(
    '/admin/:slug/users/:id/2fa/suspend',
    { schema: { body: { type: 'object', required: ['hours'], properties: { hours: { type: 'string', pattern: '^[0-9]{1,3}$' }, _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      try {
        await suspendSecondFactor(deps, actor, request.params.id, Number(request.body.hours));
      } catch (error) {
        if (isAppError(error) && error.code === 'rate_limited') {
          reply.header('retry-after', String(error.extras.retryAfter ?? 60));
          return profile(request, reply, { accessErrors: [rateLimitedMessage(requestLang(request), error.extras.retryAfter)] }, 429);
        }
        throw error;
      }
      return reply.redirect(`/admin/${actor.portal.slug}/users/${request.params.id}?done=suspended`, 303);
    },
  );

  // Issue 13: end every session of the member's passport; fire or re-activate them.
  app.post<{ Params: { slug: string; id: string } }>(
    '/admin/:slug/users/:id/sessions/end',
    { schema: { body: { type: 'object', properties: { _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      await endMemberSessions(deps, actor, request.params.id);
      return reply.redirect(`/admin/${actor.portal.slug}/users/${request.params.id}?done=sessionsEnded`, 303);
    },
  );

  app.post<{ Params: { slug: string; id: string }; Body: { status: 'fired' | 'active' } }>(
    '/admin/:slug/users/:id/status',
    { schema: { body: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['fired', 'active'] }, _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      const t = translator(requestLang(request));
      try {
        await setMemberStatus(deps, actor, request.params.id, request.body.status);
      } catch (error) {
        if (isAppError(error) && error.code === 'last_admin') return profile(request, reply, { accessErrors: [t('admin.error.lastAdmin')] }, 409);
        if (isAppError(error) && error.code === 'cannot_fire_self') return profile(request, reply, { accessErrors: [t('admin.error.self')] }, 409);
        throw error;
      }
      const done = request.body.status === 'fired' ? 'fired' : 'reactivated';
      return reply.redirect(`/admin/${actor.portal.slug}/users/${request.params.id}?done=${done}`, 303);
    },
  );

  // Issue 14, item 10: employee ↔ administrator (never the last active one) and the person's name.
  app.post<{ Params: { slug: string; id: string }; Body: { role: 'admin' | 'employee' } }>(
    '/admin/:slug/users/:id/role',
    { schema: { body: { type: 'object', required: ['role'], properties: { role: { type: 'string', enum: ['admin', 'employee'] }, _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      try {
        await setMemberRole(deps, actor, request.params.id, request.body.role);
      } catch (error) {
        if (isAppError(error) && error.code === 'last_admin') return profile(request, reply, { edit: { errors: [translator(requestLang(request))('console.error.lastAdmin')] } }, 409);
        throw error;
      }
      // An admin who stepped down administers this portal no more: back to their portals.
      if (request.params.id === actor.account.id && request.body.role === 'employee') return reply.redirect('/portals', 303);
      return reply.redirect(`/admin/${actor.portal.slug}/users/${request.params.id}?done=roleChanged`, 303);
    },
  );

  app.post<{ Params: { slug: string; id: string }; Body: { name: string } }>(
    '/admin/:slug/users/:id/name',
    { schema: { body: { type: 'object', required: ['name'], properties: { name: field(1000), _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      try {
        await renameMember(deps, actor, request.params.id, request.body.name);
      } catch (error) {
        if (isAppError(error) && error.code === 'invalid_request') return profile(request, reply, { edit: { errors: [translator(requestLang(request))('console.error.name')], name: request.body.name } }, 400);
        throw error;
      }
      return reply.redirect(`/admin/${actor.portal.slug}/users/${request.params.id}?done=renamed`, 303);
    },
  );

  const invitePage = async (request: FastifyRequest<{ Params: { slug: string } }>, reply: FastifyReply, state: adminPages.InvitePageState = {}, status = 200) => {
    const actor = await actorOf(request);
    return send(reply, adminPages.invitePage(requestLang(request), nav(request), actor.portal, { ...state, invitations: await listInvitations(deps, actor) }), status);
  };

  app.get<{ Params: { slug: string } }>('/admin/:slug/invite', async (request, reply) => invitePage(request, reply));

  app.post<{ Params: { slug: string }; Body: Record<string, string> }>(
    '/admin/:slug/invite',
    { schema: { body: { type: 'object', properties: { email: field(254), phone: field(40), name: field(200), role: field(10), _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      const lang = requestLang(request);
      const t = translator(lang);
      const { email, phone, name, role } = request.body;
      try {
        // The same page for every contact: "sent to what you typed" (SPEC §5, rule 22).
        const invitation = await inviteEmployee(deps, actor, { email, phone, name, role: role === 'admin' ? 'admin' : 'employee', locale: lang });
        return await invitePage(request, reply, { sent: invitation.contact });
      } catch (error) {
        if (!isAppError(error)) throw error;
        if (error.code === 'rate_limited') {
          reply.header('retry-after', String(error.extras.retryAfter ?? 60));
          return invitePage(request, reply, { errors: [rateLimitedMessage(lang, error.extras.retryAfter)], values: request.body }, 429);
        }
        if (error.code !== 'invalid_request') throw error;
        const message = !email?.trim() && !phone?.trim()
          ? t('admin.invite.needContact')
          : email?.trim() && phone?.trim()
            ? t('admin.invite.oneContact')
            : error.detail === 'no SMS gateway'
              ? t('admin.invite.noSms')
              : t('error.invalid_request');
        return invitePage(request, reply, { errors: [message], values: request.body }, 400);
      }
    },
  );

  app.post<{ Params: { slug: string; id: string } }>(
    '/admin/:slug/invitations/:id/revoke',
    { schema: { body: { type: 'object', properties: { _csrf: field(200) } } } },
    async (request, reply) => {
      const actor = await actorOf(request);
      const revoked = await revokeInvitation(deps, actor, request.params.id);
      return invitePage(request, reply, { revoked: revoked.contact });
    },
  );

  app.get<{ Params: { slug: string }; Querystring: AuditQuery }>('/admin/:slug/audit', { schema: { querystring: auditQuerySchema } }, async (request, reply) => {
    const actor = await actorOf(request);
    const lang = requestLang(request);
    const { action = '', login = '', from = '', to = '' } = request.query;
    const page = Math.max(1, Number(request.query.page ?? '1'));
    const view = { action, login, from, to, page, more: false, events: [] as AuditRow[] };
    let filter;
    try {
      filter = auditFilterOf(request.query);
    } catch (error) {
      // A hand-typed day that does not exist: the form again, with the message.
      if (!isAppError(error) || error.code !== 'invalid_request') throw error;
      return send(reply, adminPages.auditPage(lang, nav(request), actor.portal, { ...view, errors: [translator(lang)('console.audit.badDate')] }), 400);
    }
    // One row more than a page tells whether a next page exists.
    const rows = await listAuditEvents(deps.store.db, actor.portal.id, filter, (page - 1) * AUDIT_PAGE_SIZE, AUDIT_PAGE_SIZE + 1);
    return send(reply, adminPages.auditPage(lang, nav(request), actor.portal, { ...view, more: rows.length > AUDIT_PAGE_SIZE, events: rows.slice(0, AUDIT_PAGE_SIZE) }));
  });

  // The CSV export of the same filters (a download, so a plain GET under the signed-in page context).
  app.get<{ Params: { slug: string }; Querystring: AuditQuery }>('/admin/:slug/audit.csv', { schema: { querystring: auditQuerySchema } }, async (request, reply) => {
    const actor = await actorOf(request);
    const events = await listAuditEvents(deps.store.db, actor.portal.id, auditFilterOf(request.query), 0, AUDIT_EXPORT_MAX);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${auditCsvName(actor.portal.slug, deps.clock.now())}"`)
      .send(auditCsv(events));
  });
}
