import type { Executor } from '../store/db.js';
import { findPortalPolicy } from '../store/portals.repo.js';
import { hasActiveSecondFactor } from '../store/second-factor.repo.js';
import type { FlowContext } from './context.js';

/**
 * May this session enter this portal (its landing page or an application of it)? `limited`: the session was
 * opened without the second factor during an admin's pause and is held to another portal (issue 11, item 5);
 * `enrol_first`: the portal requires a second factor and the person has none (item 6).
 */
export type PortalEntry = 'ok' | 'limited' | 'enrol_first';

export async function portalEntry(ctx: Pick<FlowContext, 'store'>, session: { account: { id: string }; onlyPortalId: string | null }, slug: string): Promise<PortalEntry> {
  const policy = await findPortalPolicy(ctx.store.db, slug);
  if (!policy) return 'ok';
  return entryByPolicy(ctx.store.db, session.account.id, session.onlyPortalId, policy);
}

export async function entryByPolicy(db: Executor, accountId: string, onlyPortalId: string | null, policy: { id: string; require_2fa: number }): Promise<PortalEntry> {
  if (onlyPortalId !== null && onlyPortalId !== policy.id) return 'limited';
  if (Number(policy.require_2fa) === 1 && !(await hasActiveSecondFactor(db, accountId))) return 'enrol_first';
  return 'ok';
}

/** 1 when the portal requires a second factor of its members. */
export async function requiresSecondFactor(ctx: Pick<FlowContext, 'store'>, portalId: string): Promise<number> {
  const row = await ctx.store.db.selectFrom('portals').select('require_2fa').where('id', '=', portalId).executeTakeFirst();
  return Number(row?.require_2fa ?? 0);
}
