import { iso } from '../kernel/clock.js';
import { AppError } from '../kernel/errors.js';
import { countActiveAdmins, findMember, lockPortal, setMembershipRole, setMembershipStatus, type MemberRow } from '../store/admin.repo.js';
import { setAccountName } from '../store/accounts.repo.js';
import { requireMember, type AdminActor } from './admin-access.js';
import { recordAudit } from './audit.js';
import type { FlowContext } from './context.js';
import { endSessions } from './end-sessions.js';

/**
 * A portal admin ends every session of a member's passport (issue 13, item 4): sessions belong to the passport,
 * not to a portal, so the person is signed out everywhere, which the console's button says. Audited.
 */
export async function endMemberSessions(ctx: Pick<FlowContext, 'store' | 'clock' | 'random' | 'outbox'>, actor: AdminActor, memberId: string): Promise<number> {
  const member = await requireMember(ctx, actor, memberId, { fired: true });
  const ended = await ctx.store.db.transaction().execute(async (tx) => {
    const count = await endSessions(ctx, tx, member.id, { kind: 'all' });
    await recordAudit(ctx, tx, {
      action: 'admin.member.sessions_ended',
      actorKind: 'admin',
      actorAccountId: actor.account.id,
      targetAccountId: member.id,
      portalId: actor.portal.id,
      ip: actor.ip,
      detail: String(count),
    });
    return count;
  });
  ctx.outbox.kick();
  return ended;
}

/**
 * Fires a member (they no longer see or enter the portal) or re-activates a fired one. Never the admin themself,
 * never the portal's last active admin; a member already in that status is left as is (no second audit row).
 */
export async function setMemberStatus(ctx: Pick<FlowContext, 'store' | 'clock' | 'random' | 'outbox'>, actor: AdminActor, memberId: string, status: 'fired' | 'active'): Promise<MemberRow> {
  const member = await requireMember(ctx, actor, memberId, { fired: true });
  if (member.membership === status) return member;
  await ctx.store.db.transaction().execute(async (tx) => {
    if (status === 'fired') {
      // Holds the portal's row, so two admins firing each other at once cannot leave it with none.
      await lockPortal(tx, actor.portal.id);
      if (member.role === 'admin' && (await countActiveAdmins(tx, actor.portal.id)) <= 1) throw new AppError('last_admin');
      if (member.id === actor.account.id) throw new AppError('cannot_fire_self');
    }
    const changed = await setMembershipStatus(tx, actor.portal.id, member.id, status === 'fired' ? 'active' : 'fired', status);
    if (!changed) return;
    // Fired: this portal's applications lose the person at once (grants, provider sessions, logout tokens).
    if (status === 'fired') await endSessions(ctx, tx, member.id, { kind: 'portal', portalId: actor.portal.id });
    await recordAudit(ctx, tx, {
      action: status === 'fired' ? 'admin.member.fired' : 'admin.member.reactivated',
      actorKind: 'admin',
      actorAccountId: actor.account.id,
      targetAccountId: member.id,
      portalId: actor.portal.id,
      ip: actor.ip,
    });
  });
  ctx.outbox.kick();
  const updated = await findMember(ctx.store.db, actor.portal.id, member.id);
  if (!updated) throw new AppError('not_found');
  return updated;
}

/**
 * Changes a member's role, employee ↔ admin (issue 14, item 10). Demoting is refused when the member is the
 * portal's last active admin (an admin may step down while another one remains). Fired members are not
 * reached (re-activate first); a member already in that role is left as is, with no audit row.
 */
export async function setMemberRole(ctx: Pick<FlowContext, 'store' | 'clock' | 'random'>, actor: AdminActor, memberId: string, role: 'admin' | 'employee'): Promise<MemberRow> {
  const member = await requireMember(ctx, actor, memberId);
  if (member.role === role) return member;
  await ctx.store.db.transaction().execute(async (tx) => {
    // Holds the portal's row, so two admins demoting each other at once cannot leave it with none.
    await lockPortal(tx, actor.portal.id);
    const counted = member.role === 'admin' && member.membership === 'active' && member.status === 'active';
    if (role === 'employee' && counted && (await countActiveAdmins(tx, actor.portal.id)) <= 1) throw new AppError('last_admin');
    if (!(await setMembershipRole(tx, actor.portal.id, member.id, member.role, role))) return;
    await recordAudit(ctx, tx, {
      action: 'admin.member.role_changed',
      actorKind: 'admin',
      actorAccountId: actor.account.id,
      targetAccountId: member.id,
      portalId: actor.portal.id,
      ip: actor.ip,
      detail: role,
    });
  });
  const updated = await findMember(ctx.store.db, actor.portal.id, member.id);
  if (!updated) throw new AppError('not_found');
  return updated;
}

export const NAME_MAX = 200;

/** A person's name as typed: trimmed, no control characters, at most 200 characters; empty = no name. */
export function cleanName(name: string): string | null {
  const text = name.normalize('NFC').trim();
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (text.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(text)) throw new AppError('invalid_request', { field: 'name' }, `name: at most ${NAME_MAX} characters, one line`);
  return text === '' ? null : text;
}

/**
 * Edits a member's name (issue 14, item 10). The name belongs to the passport, so every portal the person is
 * in shows the new one. Audited; the same name again changes nothing.
 */
export async function renameMember(ctx: Pick<FlowContext, 'store' | 'clock' | 'random'>, actor: AdminActor, memberId: string, name: string): Promise<MemberRow> {
  const member = await requireMember(ctx, actor, memberId);
  const clean = cleanName(name);
  if (clean === member.name) return member;
  await ctx.store.db.transaction().execute(async (tx) => {
    await setAccountName(tx, member.id, clean, iso(ctx.clock.now()));
    await recordAudit(ctx, tx, { action: 'admin.member.renamed', actorKind: 'admin', actorAccountId: actor.account.id, targetAccountId: member.id, portalId: actor.portal.id, ip: actor.ip });
  });
  const updated = await findMember(ctx.store.db, actor.portal.id, member.id);
  if (!updated) throw new AppError('not_found');
  return updated;
}
