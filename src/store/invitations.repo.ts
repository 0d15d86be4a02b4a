import type { ExpressionBuilder, Insertable } from 'kysely';
import type { Executor } from './db.js';
import type { Database, Invitation, InvitationsTable, Membership } from './schema.js';

/** What a portal admin may see of an invitation: what they typed, the role and the times; never the account. */
export type PendingInvitationRow = Pick<Invitation, 'id' | 'contact_kind' | 'contact' | 'role' | 'created_at' | 'expires_at'>;

export async function insertInvitation(db: Executor, row: Insertable<InvitationsTable>): Promise<void> {
  await db.insertInto('invitations').values(row).execute();
}

export async function findInvitation(db: Executor, id: string): Promise<Invitation | undefined> {
  return db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
}

/** An invitation still waiting for an answer: not accepted, declined, revoked or expired. */
function pending(now: string) {
  return (eb: ExpressionBuilder<Database, 'invitations'>) =>
    eb.and([eb('accepted_at', 'is', null), eb('declined_at', 'is', null), eb('revoked_at', 'is', null), eb('expires_at', '>', now)]);
}

export async function findPendingInvitation(db: Executor, id: string, now: string): Promise<Invitation | undefined> {
  return db.selectFrom('invitations').selectAll().where('id', '=', id).where(pending(now)).executeTakeFirst();
}

export async function findPendingInvitationByToken(db: Executor, tokenHash: string, now: string): Promise<Invitation | undefined> {
  return db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).where(pending(now)).executeTakeFirst();
}

/** Pending invitations of a portal to one contact (re-inviting replaces them). */
export async function findPendingInvitationsTo(db: Executor, portalId: string, kind: Invitation['contact_kind'], contact: string, now: string): Promise<Invitation[]> {
  return db
    .selectFrom('invitations')
    .selectAll()
    .where('portal_id', '=', portalId)
    .where('contact_kind', '=', kind)
    .where('contact', '=', contact)
    .where(pending(now))
    .execute();
}

/** The admin's list: pending invitations, newest first, with nothing the admin did not type. */
export async function listPendingInvitations(db: Executor, portalId: string, now: string, limit: number): Promise<PendingInvitationRow[]> {
  return db
    .selectFrom('invitations')
    .select(['id', 'contact_kind', 'contact', 'role', 'created_at', 'expires_at'])
    .where('portal_id', '=', portalId)
    .where(pending(now))
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** The worker's resolution: whom the contact belongs to and, for an accept link, its token's hash. */
export async function resolveInvitation(db: Executor, id: string, accountId: string, tokenHash: string | null): Promise<void> {
  await db.updateTable('invitations').set({ account_id: accountId, token_hash: tokenHash }).where('id', '=', id).execute();
}

export async function revokeInvitationRow(db: Executor, id: string, now: string): Promise<Invitation | undefined> {
  return db.updateTable('invitations').set({ revoked_at: now }).where('id', '=', id).where(pending(now)).returningAll().executeTakeFirst();
}

/**
 * Answers an invitation by its link in one atomic statement: of any number of concurrent answers exactly
 * one gets the row, so a link is used once.
 */
export async function consumeInvitation(db: Executor, tokenHash: string, now: string, answer: 'accepted' | 'declined'): Promise<Invitation | undefined> {
  return db
    .updateTable('invitations')
    .set(answer === 'accepted' ? { accepted_at: now } : { declined_at: now })
    .where('token_hash', '=', tokenHash)
    .where(pending(now))
    .returningAll()
    .executeTakeFirst();
}

/** An invitation answered by setting the first password (the account it created): marked accepted. */
export async function acceptInvitationsOf(db: Executor, portalId: string, accountId: string, now: string): Promise<Invitation[]> {
  return db
    .updateTable('invitations')
    .set({ accepted_at: now })
    .where('portal_id', '=', portalId)
    .where('account_id', '=', accountId)
    .where(pending(now))
    .returningAll()
    .execute();
}

/**
 * Takes back what an invitation's delivery granted an account created for it: the `invited` membership and
 * the unused set-password link of that portal. An active membership is never touched.
 */
export async function withdrawInvitationGrants(db: Executor, invitation: Invitation, now: string): Promise<void> {
  if (!invitation.account_id) return;
  await db
    .updateTable('recovery_tokens')
    .set({ revoked_at: now })
    .where('account_id', '=', invitation.account_id)
    .where('portal_id', '=', invitation.portal_id)
    .where('purpose', '=', 'invitation')
    .where('consumed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
  await db.deleteFrom('memberships').where('account_id', '=', invitation.account_id).where('portal_id', '=', invitation.portal_id).where('status', '=', 'invited').execute();
}

/** What the invitation page and messages name: the portal and the inviting admin. */
export interface InvitationFacts {
  portal_slug: string;
  portal_title: string;
  inviter_login: string | null;
  portal_color: string | null;
  inviter_name: string | null;
}

export async function findInvitationFacts(db: Executor, invitation: Invitation): Promise<InvitationFacts | undefined> {
  const portal = await db.selectFrom('portals').select(['slug', 'title', 'color']).where('id', '=', invitation.portal_id).executeTakeFirst();
  if (!portal) return undefined;
  const inviter = invitation.invited_by ? await db.selectFrom('accounts').select(['login', 'name']).where('id', '=', invitation.invited_by).executeTakeFirst() : undefined;
  return { portal_slug: portal.slug, portal_title: portal.title, portal_color: portal.color, inviter_login: inviter?.login ?? null, inviter_name: inviter?.name ?? null };
}

/** The account's membership status in a portal, whatever it is (invited, active, fired), if any. */
export async function membershipStatus(db: Executor, accountId: string, portalId: string): Promise<Membership['status'] | undefined> {
  const row = await db.selectFrom('memberships').select('status').where('account_id', '=', accountId).where('portal_id', '=', portalId).executeTakeFirst();
  return row?.status;
}
