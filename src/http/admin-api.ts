import type { FastifyInstance, FastifyRequest } from 'fastify';
import { signedInApi } from './api-context.js';
import type { Deps } from '../deps.js';
import { requireMember, requirePortalAdmin } from '../flows/admin-access.js';
import { endMemberSessions, setMemberStatus } from '../flows/admin-members.js';
import { sendAdminRecovery } from '../flows/admin-recovery.js';
import { setPasswordByAdmin } from '../flows/admin-set-password.js';
import { suspendSecondFactor } from '../flows/second-factor-suspension.js';
import { inviteEmployee, listInvitations, revokeInvitation } from '../flows/invite-employee.js';
import { listAuditEvents, searchMembers, type MemberRow } from '../store/admin.repo.js';
import { authOf, loadSession } from './auth.js';
import { requireJsonBody } from './security.js';

export const PAGE_SIZE = 25;

const text = (max: number) => ({ type: 'string', maxLength: max, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }) as const;

/** What an admin may see of an employee: identity, contacts, role and status; never a password or a link. */
export function memberView(member: MemberRow) {
  return {
    id: member.id,
    login: member.login,
    name: member.name,
    email: member.email,
    emailVerified: member.email_verified_at !== null,
    phone: member.phone,
    phoneVerified: member.phone_verified_at !== null,
    role: member.role,
    status: member.membership,
  };
}

/**
 * Portal administration API (SPEC §5, issue 4) under /api/v1/portals/<slug>. Its own context: a session is
 * required (401), the caller must be an active admin of that portal (403), and targets must be its
 * members (404). State changes ride on the session cookie, so they need our Origin.
 */
export async function adminApiRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;

  app.addHook('onRequest', requireJsonBody);
  app.addHook('preValidation', loadSession(deps));
  signedInApi(app, deps, { origin: true });
  const admin = (request: FastifyRequest<{ Params: { slug: string } }>) => requirePortalAdmin(deps, authOf(request).account, request.params.slug, request.ip, authOf(request).onlyPortalId);

  app.get<{ Params: { slug: string }; Querystring: { query?: string; page?: string } }>(
    '/portals/:slug/users',
    { schema: { querystring: { type: 'object', properties: { query: text(200), page: { type: 'string', pattern: '^[0-9]{1,6}$' } } } } },
    async (request) => {
      const actor = await admin(request);
      const page = Math.max(1, Number(request.query.page ?? '1'));
      const { members, total } = await searchMembers(deps.store.db, actor.portal.id, request.query.query ?? '', (page - 1) * PAGE_SIZE, PAGE_SIZE);
      return { users: members.map(memberView), page, pageSize: PAGE_SIZE, total };
    },
  );

  app.get<{ Params: { slug: string; id: string } }>('/portals/:slug/users/:id', async (request) => {
    const actor = await admin(request);
    return { user: memberView(await requireMember(deps, actor, request.params.id, { fired: true })) };
  });

  // Fire or re-activate a member (issue 13): never oneself, never the last active admin.
  app.patch<{ Params: { slug: string; id: string }; Body: { status: 'fired' | 'active' } }>(
    '/portals/:slug/users/:id',
    { schema: { body: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['fired', 'active'] } } } } },
    async (request) => {
      const actor = await admin(request);
      return { user: memberView(await setMemberStatus(deps, actor, request.params.id, request.body.status)) };
    },
  );

  // Ends every session of the member's passport, on every portal (issue 13).
  app.delete<{ Params: { slug: string; id: string } }>('/portals/:slug/users/:id/sessions', async (request, reply) => {
    const actor = await admin(request);
    await endMemberSessions(deps, actor, request.params.id);
    return reply.status(204).send();
  });

  // The same 202 and the same body for every contact, known or not (SPEC §5, rule 22).
  app.post<{ Params: { slug: string }; Body: { email?: string; phone?: string; name?: string; role?: 'admin' | 'employee' } }>(
    '/portals/:slug/users',
    {
      schema: {
        body: {
          type: 'object',
          properties: { email: text(254), phone: text(40), name: text(200), role: { type: 'string', enum: ['admin', 'employee'] } },
        },
      },
    },
    async (request, reply) => {
      const actor = await admin(request);
      const invitation = await inviteEmployee(deps, actor, request.body);
      return reply.status(202).send({ invitation });
    },
  );

  app.get<{ Params: { slug: string } }>('/portals/:slug/invitations', async (request) => {
    const actor = await admin(request);
    return { invitations: await listInvitations(deps, actor) };
  });

  app.delete<{ Params: { slug: string; id: string } }>('/portals/:slug/invitations/:id', async (request, reply) => {
    const actor = await admin(request);
    await revokeInvitation(deps, actor, request.params.id);
    return reply.status(204).send();
  });

  app.post<{ Params: { slug: string; id: string }; Body: { channel: 'email' | 'phone' } }>(
    '/portals/:slug/users/:id/recovery',
    { schema: { body: { type: 'object', required: ['channel'], properties: { channel: { type: 'string', enum: ['email', 'phone'] } } } } },
    async (request, reply) => {
      const actor = await admin(request);
      const { sentAt } = await sendAdminRecovery(deps, actor, request.params.id, request.body.channel);
      return reply.status(202).send({ sentAt });
    },
  );

  app.put<{ Params: { slug: string; id: string }; Body: { password: string; passwordConfirm?: string; mustChange?: boolean } }>(
    '/portals/:slug/users/:id/password',
    {
      schema: {
        body: {
          type: 'object',
          required: ['password'],
          properties: { password: { type: 'string', minLength: 1, maxLength: 2048 }, passwordConfirm: { type: 'string', maxLength: 2048 }, mustChange: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      const actor = await admin(request);
      await setPasswordByAdmin(deps, actor, request.params.id, request.body);
      return reply.status(204).send();
    },
  );

  // A lost phone (issue 11, item 5): the member's second factor is paused for 1–168 hours, held to this portal.
  // `hours` is checked by the flow, so a wrong one is `invalid_request` with field `hours`, like SPEC §5 says.
  app.post<{ Params: { slug: string; id: string }; Body: { hours?: unknown } }>(
    '/portals/:slug/users/:id/2fa/suspend',
    { schema: { body: { type: 'object', properties: { hours: {} } } } },
    async (request, reply) => {
      const actor = await admin(request);
      await suspendSecondFactor(deps, actor, request.params.id, request.body.hours);
      return reply.status(202).send({});
    },
  );

  app.get<{ Params: { slug: string }; Querystring: { action?: string; login?: string; page?: string } }>(
    '/portals/:slug/audit',
    { schema: { querystring: { type: 'object', properties: { action: text(64), login: text(64), page: { type: 'string', pattern: '^[0-9]{1,6}$' } } } } },
    async (request) => {
      const actor = await admin(request);
      const page = Math.max(1, Number(request.query.page ?? '1'));
      const filter = { ...(request.query.action ? { action: request.query.action } : {}), ...(request.query.login ? { login: request.query.login } : {}) };
      return { events: await listAuditEvents(deps.store.db, actor.portal.id, filter, (page - 1) * 50, 50), page };
    },
  );
}
