import type { Executor } from './db.js';
import type { Membership, Portal, PortalPolicy } from './schema.js';

export async function insertPortal(db: Executor, portal: Portal): Promise<void> {
  await db.insertInto('portals').values(portal).execute();
}

export async function findPortalBySlug(db: Executor, slug: string): Promise<Portal | undefined> {
  return db.selectFrom('portals').selectAll().where('slug', '=', slug).executeTakeFirst();
}

/** Adds a member, or updates the role and status of an existing membership. */
export async function upsertMembership(db: Executor, membership: Membership): Promise<void> {
  await db
    .insertInto('memberships')
    .values(membership)
    .onConflict((oc) =>
      oc.columns(['account_id', 'portal_id']).doUpdateSet({ role: membership.role, status: membership.status }),
    )
    .execute();
}

export interface PortalEntry {
  slug: string;
  title: string;
  url: string;
  role: Membership['role'];
}

/**
 * Every active membership of an account: the portal chooser (seed C9). `onlyPortalId` is a session held to
 * one portal while an admin paused the person's second factor (issue 11, item 5): the others are not listed.
 */
export async function listActivePortals(db: Executor, accountId: string, onlyPortalId: string | null = null): Promise<PortalEntry[]> {
  let query = db
    .selectFrom('memberships')
    .innerJoin('portals', 'portals.id', 'memberships.portal_id')
    .select(['portals.slug', 'portals.title', 'portals.url', 'memberships.role'])
    .where('memberships.account_id', '=', accountId)
    .where('memberships.status', '=', 'active');
  if (onlyPortalId !== null) query = query.where('portals.id', '=', onlyPortalId);
  return query.orderBy('portals.title').execute();
}

export async function findPortalById(db: Executor, id: string): Promise<Portal | undefined> {
  return db.selectFrom('portals').select(['id', 'slug', 'title', 'url', 'support_contact', 'created_at', 'color']).where('id', '=', id).executeTakeFirst();
}

/** A portal's policy (issue 11, item 6). */
export async function findPortalPolicy(db: Executor, slug: string): Promise<(PortalPolicy & { id: string }) | undefined> {
  return db.selectFrom('portals').select(['id', 'require_2fa', 'recovery_channels', 'min_password_length']).where('slug', '=', slug).executeTakeFirst();
}

/** The policies of every portal where the account is an active member (the strictest one wins where they differ). */
export async function listMemberPolicies(db: Executor, accountId: string): Promise<PortalPolicy[]> {
  return db
    .selectFrom('memberships')
    .innerJoin('portals', 'portals.id', 'memberships.portal_id')
    .select(['portals.require_2fa', 'portals.recovery_channels', 'portals.min_password_length'])
    .where('memberships.account_id', '=', accountId)
    .where('memberships.status', '=', 'active')
    .execute();
}

export async function updatePortal(db: Executor, slug: string, changes: Partial<Omit<Portal, 'id' | 'slug' | 'created_at'> & PortalPolicy>): Promise<void> {
  await db.updateTable('portals').set(changes).where('slug', '=', slug).execute();
}

/**
 * May a recovery message of this channel go to the account (issue 11, item 6)? Not when every portal it is an
 * active member of turned the channel off; an account with no portal keeps every channel.
 */
export async function recoveryChannelAllowed(db: Executor, accountId: string, channel: 'email' | 'phone' | 'admin'): Promise<boolean> {
  const policies = await listMemberPolicies(db, accountId);
  return policies.length === 0 || policies.some((p) => p.recovery_channels.split(',').includes(channel));
}
