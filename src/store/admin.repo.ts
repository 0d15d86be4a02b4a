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

/** Members of a portal who have joined, searched by name, login, e-mail or phone, a page at a time. */
export async function searchMembers(db: Executor, portalId: string, query: string, offset: number, limit: number): Promise<{ members: MemberRow[]; total: number }> {
  let base = db
    .selectFrom('memberships')
    .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
    .where('memberships.portal_id', '=', portalId)
    .where('memberships.status', 'in', JOINED);
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

/** A portal's audit log, newest first, filtered by action and by a login of the actor or the target. */
export async function listAuditEvents(db: Executor, portalId: string, filter: { action?: string; login?: string }, offset: number, limit: number): Promise<AuditRow[]> {
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
    .where('audit_events.portal_id', '=', portalId);
  if (filter.action) query = query.where('audit_events.action', '=', filter.action);
  if (filter.login) {
    const key = filter.login.trim().toLowerCase();
    query = query.where((eb) => eb.or([eb('actor.login_key', '=', key), eb('target.login_key', '=', key)]));
  }
  return query.orderBy('audit_events.at', 'desc').orderBy('audit_events.id').offset(offset).limit(limit).execute();
}
