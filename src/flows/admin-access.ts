import { AppError } from '../kernel/errors.js';
import { findMember, findMembership, type MemberRow } from '../store/admin.repo.js';
import type { Account, Portal } from '../store/schema.js';
import type { FlowContext } from './context.js';

export interface AdminActor {
  account: Account;
  portal: Portal;
  ip: string;
}

/**
 * SPEC §7 rule 13: only an active admin of the portal may act in it (anyone else: `forbidden`), and only
 * on that portal's members: a question about anybody else is `not_found`, whether or not they exist.
 */
export async function requirePortalAdmin(ctx: Pick<FlowContext, 'store'>, account: Account, slug: string, ip: string, onlyPortalId: string | null = null): Promise<AdminActor> {
  const membership = await findMembership(ctx.store.db, account.id, slug);
  if (!membership || membership.role !== 'admin' || membership.status !== 'active') throw new AppError('forbidden', {}, `not an admin of ${slug.slice(0, 64)}`);
  // A session opened without the second factor during another portal's pause administers nothing else (issue 11).
  if (onlyPortalId !== null && onlyPortalId !== membership.portal.id) throw new AppError('forbidden', {}, 'this session may enter only another portal');
  return { account, portal: membership.portal, ip };
}

/**
 * A member of the actor's portal. Fired members are reached only where `fired` says so (their profile, ending
 * their sessions, re-activating them); every other action treats them as gone (issue 13).
 */
export async function requireMember(ctx: Pick<FlowContext, 'store'>, actor: AdminActor, accountId: string, options: { fired?: boolean } = {}): Promise<MemberRow> {
  const member = accountId.length <= 64 ? await findMember(ctx.store.db, actor.portal.id, accountId) : undefined;
  if (!member || (member.membership === 'fired' && !options.fired)) throw new AppError('not_found');
  return member;
}
