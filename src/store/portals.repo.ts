import type { Executor } from './db.js';
import type { Membership, Portal } from './schema.js';

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

/** Every active membership of an account: the portal chooser (seed C9). */
export async function listActivePortals(db: Executor, accountId: string): Promise<PortalEntry[]> {
  return db
    .selectFrom('memberships')
    .innerJoin('portals', 'portals.id', 'memberships.portal_id')
    .select(['portals.slug', 'portals.title', 'portals.url', 'memberships.role'])
    .where('memberships.account_id', '=', accountId)
    .where('memberships.status', '=', 'active')
    .orderBy('portals.title')
    .execute();
}
