import type { FastifyInstance, FastifyRequest } from 'fastify';
import { signedInApi } from './api-context.js';
import type { Deps } from '../deps.js';
import { requireMember, requirePortalAdmin } from '../flows/admin-access.js';
import { endMemberSessions, renameMember, setMemberRole, setMemberStatus } from '../flows/admin-members.js';
import { parseDay, toCsv } from '../domain/csv-write.js';
import { AppError } from '../kernel/errors.js';
import { sendAdminRecovery } from '../flows/admin-recovery.js';
import { setPasswordByAdmin } from '../flows/admin-set-password.js';
import { suspendSecondFactor } from '../flows/second-factor-suspension.js';
import { inviteEmployee, listInvitations, revokeInvitation } from '../flows/invite-employee.js';
import { listAuditEvents, searchMembers, type AuditFilter, type AuditRow, type MemberFilter, type MemberRow } from '../store/admin.repo.js';
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

/** The list's filters from a query string (already checked by its schema): role and membership status. */
export function memberFilterOf(query: { role?: string | undefined; status?: string | undefined }): MemberFilter {
  return {
    ...(query.role === 'admin' || query.role === 'employee' ? { role: query.role } : {}),
    ...(query.status === 'active' || query.status === 'fired' ? { status: query.status } : {}),
  };
}

export const memberFilterSchema = { role: { type: 'string', enum: ['', 'admin', 'employee'] }, status: { type: 'string', enum: ['', 'active', 'fired'] } } as const;

export interface AuditQuery {
  action?: string;
  login?: string;
  from?: string;
  to?: string;
  page?: string;
}

export const auditQuerySchema = {
  type: 'object',
  properties: {
    action: text(64),
    login: text(64),
    from: { type: 'string', maxLength: 10 },
    to: { type: 'string', maxLength: 10 },
    page: { type: 'string', pattern: '^[0-9]{1,6}$' },
  },
} as const;

/** The audit log's filters; a day that is not a real `YYYY-MM-DD` is `invalid_request` naming its field. */
export function auditFilterOf(query: AuditQuery): AuditFilter {
  const day = (field: 'from' | 'to') => {
    const value = query[field];
    if (value === undefined || value === '') return undefined;
    const parsed = parseDay(value);
    if (!parsed) throw new AppError('invalid_request', { field }, `${field}: a date, YYYY-MM-DD`);
    return parsed;
  };
  return { action: query.action || undefined, login: query.login || undefined, from: day('from'), to: day('to') };
}

export const AUDIT_PAGE_SIZE = 50;
/** The most rows one CSV export holds; narrow the filters for more. */
export const AUDIT_EXPORT_MAX = 10_000;

/** The audit log as CSV (issue 14, item 10): one row per event, the columns of the API's events. */
export function auditCsv(events: AuditRow[]): string {
  return toCsv([
    ['at', 'action', 'actor', 'target', 'ip', 'detail'],
    ...events.map((e) => [e.at, e.action, e.actor_login ?? e.actor_kind, e.target_login, e.ip, e.detail]),
  ]);
}

/** `audit-<slug>-<day>.csv`, the download's name. */
export function auditCsvName(slug: string, now: Date): string {
  return `audit-${slug}-${now.toISOString().slice(0, 10)}.csv`;
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

  app.get<{ Params: { slug: string }; Querystring: { query?: string; page?: string; role?: string; status?: string } }>(
    '/portals/:slug/users',
    { schema: { querystring: { type: 'object', properties: { query: text(200), page: { type: 'string', pattern: '^[0-9]{1,6}$' }, ...memberFilterSchema } } } },
    async (request) => {
      const actor = await admin(request);
      const page = Math.max(1, Number(request.query.page ?? '1'));
      const { members, total } = await searchMembers(deps.store.db, actor.portal.id, request.query.query ?? '', (page - 1) * PAGE_SIZE, PAGE_SIZE, memberFilterOf(request.query));
      return { users: members.map(memberView), page, pageSize: PAGE_SIZE, total };
    },
  );

  app.get<{ Params: { slug: string; id: string } }>('/portals/:slug/users/:id', async (request) => {
    const actor = await admin(request);
    return { user: memberView(await requireMember(deps, actor, request.params.id, { fired: true })) };
  });

  // Fire or re-activate a member (issue 13): never oneself, never the last active admin. Change the role
  // (never demote the last active admin) or the name (issue 14, item 10). Each change is audited on its own.
  app.patch<{ Params: { slug: string; id: string }; Body: { status?: 'fired' | 'active'; role?: 'admin' | 'employee'; name?: string } }>(
    '/portals/:slug/users/:id',
    {
      schema: {
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: { status: { type: 'string', enum: ['fired', 'active'] }, role: { type: 'string', enum: ['admin', 'employee'] }, name: { type: 'string', maxLength: 1000 } },
        },
      },
    },
    async (request) => {
      const actor = await admin(request);
      const { status, role, name } = request.body;
      // Re-activation first, so a fired member can be re-activated and renamed in one request; firing last.
      let member = await requireMember(deps, actor, request.params.id, { fired: true });
      if (status === 'active') member = await setMemberStatus(deps, actor, member.id, 'active');
      if (name !== undefined) member = await renameMember(deps, actor, member.id, name);
      if (role !== undefined) member = await setMemberRole(deps, actor, member.id, role);
      if (status === 'fired') member = await setMemberStatus(deps, actor, member.id, 'fired');
      return { user: memberView(member) };
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

  app.get<{ Params: { slug: string }; Querystring: AuditQuery }>('/portals/:slug/audit', { schema: { querystring: auditQuerySchema } }, async (request) => {
    const actor = await admin(request);
    const page = Math.max(1, Number(request.query.page ?? '1'));
    const filter = auditFilterOf(request.query);
    return { events: await listAuditEvents(deps.store.db, actor.portal.id, filter, (page - 1) * AUDIT_PAGE_SIZE, AUDIT_PAGE_SIZE), page, pageSize: AUDIT_PAGE_SIZE };
  });

  // The same filters, every matching event (up to AUDIT_EXPORT_MAX) as a CSV download.
  app.get<{ Params: { slug: string }; Querystring: AuditQuery }>('/portals/:slug/audit.csv', { schema: { querystring: auditQuerySchema } }, async (request, reply) => {
    const actor = await admin(request);
    const events = await listAuditEvents(deps.store.db, actor.portal.id, auditFilterOf(request.query), 0, AUDIT_EXPORT_MAX);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${auditCsvName(actor.portal.slug, deps.clock.now())}"`)
      .send(auditCsv(events));
  });
}
