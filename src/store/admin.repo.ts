import { sql } from 'kysely';
import type { Executor } from './db.js';
import type { Membership, Portal } from './schema.js';

export interface MemberRow {
  id: string;
  login: string;
  name: string | null;
  email: string | null;
  email_verified_at: string | null;
  phone: string | null;
  phone_verified_at: string | null;
  status: string;
  role: Membership['role'];
  membership: Membership['status'];
}

const memberColumns = [
  'accounts.id',
  'accounts.login',
  'accounts.name',
  'accounts.email',
  'accounts.email_verified_at',
  'accounts.phone',
  'accounts.phone_verified_at',
  'accounts.status',
  'memberships.role',
  'memberships.status as membership',
] as const;

/** The membership through which someone administers a portal, if any. */
export async function findMembership(db: Executor, accountId: string, slug: string): Promise<(Membership & { portal: Portal }) | undefined> {
  const row = await db
    .selectFrom('memberships')
    .innerJoin('portals', 'portals.id', 'memberships.portal_id')
    .selectAll('memberships')
    .select(['portals.slug', 'portals.title', 'portals.url', 'portals.support_contact', 'portals.created_at as portal_created_at', 'portals.color'])
    .where('memberships.account_id', '=', accountId)
    .where('portals.slug', '=', slug)
    .executeTakeFirst();
  if (!row) return undefined;
  const { slug: s, title, url, support_contact, portal_created_at, color, ...membership } = row;
  return { ...membership, portal: { id: membership.portal_id, slug: s, title, url, support_contact, created_at: portal_created_at, color } };
}

export async function listAdminPortals(db: Executor, accountId: string): Promise<Portal[]> {
  return db
    .selectFrom('memberships')
    .innerJoin('portals', 'portals.id', 'memberships.portal_id')
    .selectAll('portals')
    .where('memberships.account_id', '=', accountId)
    .where('memberships.role', '=', 'admin')
    .where('memberships.status', '=', 'active')
    .orderBy('portals.title')
    .execute();
}

/**
 * Who has joined a portal (SPEC §5, rule 22): people only invited are not members, so no admin list, search
 * or action reaches them. Fired members are listed (issue 13), so an admin can re-activate them.
 */
const JOINED: Array<Membership['status']> = ['active', 'fired'];

/** The console's list filters (issue 14, item 10): by role, by membership status; unset = any. */
export interface MemberFilter {
  role?: Membership['role'] | undefined;
  status?: 'active' | 'fired' | undefined;
}

/** Members of a portal who have joined, searched by name, login, e-mail or phone, filtered, a page at a time. */
export async function searchMembers(db: Executor, portalId: string, query: string, offset: number, limit: number, filter: MemberFilter = {}): Promise<{ members: MemberRow[]; total: number }> {
  let base = db
    .selectFrom('memberships')
    .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
    .where('memberships.portal_id', '=', portalId)
    .where('memberships.status', 'in', filter.status ? [filter.status] : JOINED);
  if (filter.role) base = base.where('memberships.role', '=', filter.role);
  const text = query.trim().toLowerCase();
  if (text !== '') {
    // Plain substring match (LIKE metacharacters escaped); lower() works alike on both databases.
    const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const digits = text.replace(/\D/g, '');
    base = base.where((eb) =>
      eb.or([
        eb(sql`lower(accounts.login)`, 'like', sql`${pattern} escape '\\'`),
        eb(sql`lower(coalesce(accounts.name, ''))`, 'like', sql`${pattern} escape '\\'`),
        eb(sql`coalesce(accounts.email_key, '')`, 'like', sql`${pattern} escape '\\'`),
        ...(digits.length >= 3 ? [eb(sql`coalesce(accounts.phone, '')`, 'like', `%${digits}%`)] : []),
      ]),
    );
  }
  const totalRow = await base.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  const members = await base.select(memberColumns).orderBy('accounts.login').offset(offset).limit(limit).execute();
  return { members, total: Number(totalRow.n) };
}

export async function findMember(db: Executor, portalId: string, accountId: string): Promise<MemberRow | undefined> {
  return db
    .selectFrom('memberships')
    .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
    .select(memberColumns)
    .where('memberships.portal_id', '=', portalId)
    .where('memberships.account_id', '=', accountId)
    .where('memberships.status', 'in', JOINED)
    .executeTakeFirst();
}

export async function activateMembership(db: Executor, accountId: string, portalId: string): Promise<void> {
  await db.updateTable('memberships').set({ status: 'active' }).where('account_id', '=', accountId).where('portal_id', '=', portalId).where('status', '=', 'invited').execute();
}

/** Sets a joined member's status (fire or re-activate); returns whether the membership changed. */
export async function setMembershipStatus(db: Executor, portalId: string, accountId: string, from: Membership['status'], to: Membership['status']): Promise<boolean> {
  const result = await db
    .updateTable('memberships')
    .set({ status: to })
    .where('portal_id', '=', portalId)
    .where('account_id', '=', accountId)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Sets a joined member's role; returns whether the membership changed. */
export async function setMembershipRole(db: Executor, portalId: string, accountId: string, from: Membership['role'], to: Membership['role']): Promise<boolean> {
  const result = await db
    .updateTable('memberships')
    .set({ role: to })
    .where('portal_id', '=', portalId)
    .where('account_id', '=', accountId)
    .where('role', '=', from)
    .where('status', 'in', JOINED)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Takes the portal's row lock for the rest of the transaction (a no-op write: both databases lock the row). */
export async function lockPortal(db: Executor, portalId: string): Promise<void> {
  await db.updateTable('portals').set((eb) => ({ title: eb.ref('title') })).where('id', '=', portalId).execute();
}

/** Active admins of a portal whose passports are active too: the people who can still administer it. */
export async function countActiveAdmins(db: Executor, portalId: string): Promise<number> {
  const row = await db
    .selectFrom('memberships')
    .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('memberships.portal_id', '=', portalId)
    .where('memberships.role', '=', 'admin')
    .where('memberships.status', '=', 'active')
    .where('accounts.status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface AuditRow {
  id: string;
  at: string;
  action: string;
  actor_kind: string;
  actor_login: string | null;
  target_login: string | null;
  ip: string | null;
  detail: string | null;
}

/**
 * Self-service security events (issue 14, item 10) are recorded without a portal: they belong to the passport.
 * A portal's log shows these of its joined members beside the portal's own events; other passport events
 * (recovery requests, SMS refusals, operator actions) stay out of every portal's log.
 */
export const SELF_SERVICE_ACTIONS = [
  'signin.succeeded',
  'signin.failed',
  'signin.second_factor_passed',
  'social.signed_in',
  'password.changed',
  'login.changed',
  'session.revoked_others',
  '2fa.enabled',
  '2fa.disabled',
  '2fa.codes_renewed',
  '2fa.code_used',
] as const;

export interface AuditFilter {
  action?: string | undefined;
  /** A login of the actor or the target. */
  login?: string | undefined;
  /** UTC days, `YYYY-MM-DD`, both included. */
  from?: string | undefined;
  to?: string | undefined;
}

/** The day after a `YYYY-MM-DD` day, as the same string (UTC). */
function nextDay(day: string): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

/**
 * A portal's audit log, newest first: the portal's own events and its joined members' self-service events,
 * filtered by action, by a login of the actor or the target and by a range of UTC days.
 */
export async function listAuditEvents(db: Executor, portalId: string, filter: AuditFilter, offset: number, limit: number): Promise<AuditRow[]> {
  let query = db
    .selectFrom('audit_events')
    .leftJoin('accounts as actor', 'actor.id', 'audit_events.actor_account_id')
    .leftJoin('accounts as target', 'target.id', 'audit_events.target_account_id')
    .select([
      'audit_events.id',
      'audit_events.at',
      'audit_events.action',
      'audit_events.actor_kind',
      'actor.login as actor_login',
      'target.login as target_login',
      'audit_events.ip',
      'audit_events.detail',
    ])
    .where((eb) =>
      eb.or([
        eb('audit_events.portal_id', '=', portalId),
        eb.and([
          eb('audit_events.portal_id', 'is', null),
          eb('audit_events.action', 'in', SELF_SERVICE_ACTIONS),
          eb(
            'audit_events.target_account_id',
            'in',
            eb.selectFrom('memberships').select('memberships.account_id').where('memberships.portal_id', '=', portalId).where('memberships.status', 'in', JOINED),
          ),
        ]),
      ]),
    );
  if (filter.action) query = query.where('audit_events.action', '=', filter.action);
  if (filter.login) {
    const key = filter.login.trim().toLowerCase();
    query = query.where((eb) => eb.or([eb('actor.login_key', '=', key), eb('target.login_key', '=', key)]));
  }
  // `at` is an ISO string on both databases, so day bounds compare as text.
  if (filter.from) query = query.where('audit_events.at', '>=', `${filter.from}T00:00:00`);
  if (filter.to) query = query.where('audit_events.at', '<', `${nextDay(filter.to)}T00:00:00`);
  return query.orderBy('audit_events.at', 'desc').orderBy('audit_events.id').offset(offset).limit(limit).execute();
}

export interface PortalAdminContact {
  portal_id: string;
  portal_title: string;
  portal_slug: string;
  admin_id: string;
  admin_login: string;
  admin_email: string | null;
  admin_email_verified_at: string | null;
  admin_locale: 'ru' | 'en';
}

/**
 * The active admins of every portal the account is an active member of (the account itself left out), with
 * where to write to them: whom "this wasn't me" tells (SPEC §7 rule 23). One row per portal and admin.
 */
export async function listAdminsOfMemberPortals(db: Executor, accountId: string): Promise<PortalAdminContact[]> {
  return db
    .selectFrom('memberships as member')
    .innerJoin('portals', 'portals.id', 'member.portal_id')
    .innerJoin('memberships as admin', 'admin.portal_id', 'member.portal_id')
    .innerJoin('accounts', 'accounts.id', 'admin.account_id')
    .select([
      'portals.id as portal_id',
      'portals.title as portal_title',
      'portals.slug as portal_slug',
      'accounts.id as admin_id',
      'accounts.login as admin_login',
      'accounts.email as admin_email',
      'accounts.email_verified_at as admin_email_verified_at',
      'accounts.locale as admin_locale',
    ])
    .where('member.account_id', '=', accountId)
    .where('member.status', '=', 'active')
    .where('admin.role', '=', 'admin')
    .where('admin.status', '=', 'active')
    .where('admin.account_id', '!=', accountId)
    .where('accounts.status', '=', 'active')
    .orderBy('portals.title')
    .orderBy('accounts.login')
    .execute();
}

/** The portals the account is an active member of (whose audit logs an account-wide event goes to). */
export async function listMemberPortalIds(db: Executor, accountId: string): Promise<string[]> {
  const rows = await db.selectFrom('memberships').select('portal_id').where('account_id', '=', accountId).where('status', '=', 'active').execute();
  return rows.map((r) => r.portal_id);
}
