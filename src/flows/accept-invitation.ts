import { iso } from '../kernel/clock.js';
import { sha256 } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { consumeInvitation, findInvitationFacts, findPendingInvitationByToken, membershipStatus } from '../store/invitations.repo.js';
import { upsertMembership } from '../store/portals.repo.js';
import type { Account, Invitation } from '../store/schema.js';
import { recordAudit } from './audit.js';
import type { FlowContext, RequestMeta } from './context.js';
import { ownsContact } from './deliver-invitation.js';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,100}$/;

/** What the invitation page shows: where, as what, invited by whom. */
export interface OpenInvitation {
  invitation: Invitation;
  portal: { slug: string; title: string };
  inviter: string;
}

/** Opening an invitation link: says what it is, changes nothing (mail scanners open links, SPEC §7 rule 3). */
export async function inspectInvitation(ctx: Pick<FlowContext, 'store' | 'clock'>, token: string): Promise<OpenInvitation | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const invitation = await findPendingInvitationByToken(ctx.store.db, sha256(token), iso(ctx.clock.now()));
  if (!invitation) return undefined;
  const facts = await findInvitationFacts(ctx.store.db, invitation);
  if (!facts) return undefined;
  return { invitation, portal: { slug: facts.portal_slug, title: facts.portal_title }, inviter: facts.inviter_name ?? facts.inviter_login ?? facts.portal_title };
}

/** Only the passport that proved the invited contact may answer (rule 22); anyone else is `forbidden`. */
export function mayAnswer(account: Account, open: OpenInvitation): boolean {
  return ownsContact(account, open.invitation);
}

/**
 * Accepts an invitation while signed in (SPEC §5, rule 22): the signed-in passport must own the invited
 * contact; the link is used up atomically with the membership becoming active with the invitation's role.
 * An active membership stays as it is (an invitation never lowers a role).
 */
export async function acceptInvitation(ctx: FlowContext, account: Account, token: string, meta: RequestMeta): Promise<{ slug: string; title: string }> {
  return answer(ctx, account, token, meta, 'accepted');
}

/** Declines it: the link is used up, nothing else changes. */
export async function declineInvitation(ctx: FlowContext, account: Account, token: string, meta: RequestMeta): Promise<{ slug: string; title: string }> {
  return answer(ctx, account, token, meta, 'declined');
}

async function answer(ctx: FlowContext, account: Account, token: string, meta: RequestMeta, outcome: 'accepted' | 'declined'): Promise<{ slug: string; title: string }> {
  const open = await inspectInvitation(ctx, token);
  if (!open) throw new AppError('invalid_token');
  if (!mayAnswer(account, open)) throw new AppError('forbidden', {}, 'the invitation is for another account');
  const now = ctx.clock.now();
  await ctx.store.db.transaction().execute(async (tx) => {
    const used = await consumeInvitation(tx, sha256(token), iso(now), outcome);
    if (!used) throw new AppError('invalid_token');
    if (outcome === 'accepted' && (await membershipStatus(tx, account.id, used.portal_id)) !== 'active') {
      await upsertMembership(tx, { account_id: account.id, portal_id: used.portal_id, role: used.role, status: 'active', created_at: iso(now) });
    }
    await recordAudit(ctx, tx, {
      action: outcome === 'accepted' ? 'member.joined' : 'member.invitation_declined',
      actorKind: 'self',
      // The portal's admins read this log: who declined stays theirs to know only if they join.
      actorAccountId: outcome === 'accepted' ? account.id : null,
      targetAccountId: outcome === 'accepted' ? account.id : null,
      portalId: used.portal_id,
      ip: meta.ip,
      detail: used.id,
      at: now,
    });
  });
  return open.portal;
}
