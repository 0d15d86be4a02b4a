import type { Executor } from './db.js';
import type { Account, Membership } from './schema.js';

/** The operator's views of accounts and portals (`latchkey user list|show`, `portal list|show`, issue 14 item 11). */

export interface MembershipOfAccount {
  account_id: string;
  slug: string;
  role: Membership['role'];
  status: Membership['status'];
}

/** Accounts by login, at most `limit`, optionally only the members (any status) of one portal. */
export async function listAccounts(db: Executor, options: { portalId?: string | undefined; limit: number }): Promise<{ accounts: Account[]; total: number }> {
  let base = db.selectFrom('accounts');
  if (options.portalId) {
    const portalId = options.portalId;
    base = base.where('accounts.id', 'in', db.selectFrom('memberships').select('account_id').where('portal_id', '=', portalId));
  }
  const totalRow = await base.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  const accounts = await base.selectAll('accounts').orderBy('accounts.login_key').limit(options.limit).execute();
  return { accounts, total: Number(totalRow.n) };
}

/** Every membership of the given accounts, by portal slug. */
export async function listMembershipsOf(db: Executor, accountIds: string[]): Promise<MembershipOfAccount[]> {
  if (accountIds.length === 0) return [];
  const rows: MembershipOfAccount[] = [];
  // In chunks, so neither database meets a parameter limit.
  for (let i = 0; i < accountIds.length; i += 500) {
    rows.push(
      ...(await db
        .selectFrom('memberships')
        .innerJoin('portals', 'portals.id', 'memberships.portal_id')
        .select(['memberships.account_id', 'portals.slug', 'memberships.role', 'memberships.status'])
        .where('memberships.account_id', 'in', accountIds.slice(i, i + 500))
        .orderBy('portals.slug')
        .execute()),
    );
  }
  return rows;
}

export interface PortalCounts {
  portal_id: string;
  active: number;
  fired: number;
  invited: number;
  admins: number;
}

/** Members of every portal by status, and active admins. */
export async function countPortalMembers(db: Executor): Promise<Map<string, PortalCounts>> {
  const rows = await db
    .selectFrom('memberships')
    .select(['portal_id', 'status', 'role', (eb) => eb.fn.countAll<string | number>().as('n')])
    .groupBy(['portal_id', 'status', 'role'])
    .execute();
  const counts = new Map<string, PortalCounts>();
  for (const row of rows) {
    const entry = counts.get(row.portal_id) ?? { portal_id: row.portal_id, active: 0, fired: 0, invited: 0, admins: 0 };
    entry[row.status] += Number(row.n);
    if (row.role === 'admin' && row.status === 'active') entry.admins += Number(row.n);
    counts.set(row.portal_id, entry);
  }
  return counts;
}

/** Logins of a portal's active admins. */
export async function listPortalAdmins(db: Executor, portalId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('memberships')
    .innerJoin('accounts', 'accounts.id', 'memberships.account_id')
    .select('accounts.login')
    .where('memberships.portal_id', '=', portalId)
    .where('memberships.role', '=', 'admin')
    .where('memberships.status', '=', 'active')
    .orderBy('accounts.login_key')
    .execute();
  return rows.map((r) => r.login);
}

export async function findMembershipRow(db: Executor, accountId: string, portalId: string): Promise<Membership | undefined> {
  return db.selectFrom('memberships').selectAll().where('account_id', '=', accountId).where('portal_id', '=', portalId).executeTakeFirst();
}

export async function deleteMembership(db: Executor, accountId: string, portalId: string): Promise<boolean> {
  const result = await db.deleteFrom('memberships').where('account_id', '=', accountId).where('portal_id', '=', portalId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** The operator's edit of an account's profile (name, contacts, locale); contacts the operator sets count as verified. */
export async function updateAccountProfile(
  db: Executor,
  accountId: string,
  changes: Partial<Pick<Account, 'name' | 'email' | 'email_key' | 'email_verified_at' | 'phone' | 'phone_verified_at' | 'locale'>>,
  at: string,
): Promise<void> {
  await db.updateTable('accounts').set({ ...changes, updated_at: at }).where('id', '=', accountId).execute();
}

/** `latchkey user unlock`: a locked account is active again and its failure budgets start afresh. */
export async function resetAccountFailures(db: Executor, accountId: string, at: string): Promise<{ wasLocked: boolean }> {
  const locked = await db.updateTable('accounts').set({ status: 'active' }).where('id', '=', accountId).where('status', '=', 'locked').executeTakeFirst();
  await db.updateTable('accounts').set({ failures_reset_at: at, updated_at: at }).where('id', '=', accountId).execute();
  return { wasLocked: Number(locked.numUpdatedRows) > 0 };
}
