import { emailKey, isValidEmail, normalizePhone } from '../domain/identifiers.js';
import type { Locale } from '../domain/locale.js';
import { addMs, iso } from '../kernel/clock.js';
import { newId } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import type { Limit } from '../kernel/rate-limiter.js';
import {
  findPendingInvitationsTo,
  insertInvitation,
  listPendingInvitations,
  revokeInvitationRow,
  withdrawInvitationGrants,
  type PendingInvitationRow,
} from '../store/invitations.repo.js';
import type { Invitation } from '../store/schema.js';
import type { AdminActor } from './admin-access.js';
import { ADMIN_LINK_HOURS } from './admin-recovery.js';
import { recordAudit } from './audit.js';
import type { FlowContext } from './context.js';
import { enforce } from './limits.js';
import { guardText } from './text-guard.js';

const perContact: Limit = { max: 5, windowMs: 3600_000 };
const perAdmin: Limit = { max: 100, windowMs: 3600_000 };

export interface InviteInput {
  email?: string | undefined;
  phone?: string | undefined;
  name?: string | undefined;
  role?: 'admin' | 'employee' | undefined;
  /** The language of a letter to someone without an account yet; the admin's own by default. */
  locale?: Locale | undefined;
}

/** All an admin ever sees of an invitation: what they typed, the role and the times (SPEC §5, rule 22). */
export interface InvitationView {
  id: string;
  contact: string;
  role: 'admin' | 'employee';
  status: 'invited';
}

export function invitationView(row: Pick<Invitation, 'id' | 'contact' | 'role'>): InvitationView {
  return { id: row.id, contact: row.contact, role: row.role, status: 'invited' };
}

/** The one contact an invitation goes to, normalised: an e-mail key or an E.164 number. */
function contactOf(ctx: Pick<FlowContext, 'settings'>, input: InviteInput): { kind: 'email' | 'phone'; contact: string } {
  const email = input.email?.trim() || undefined;
  const phoneText = input.phone?.trim() || undefined;
  if (!email && !phoneText) throw new AppError('invalid_request', { field: 'email' }, 'an e-mail or a phone is needed');
  if (email && phoneText) throw new AppError('invalid_request', { field: 'phone' }, 'one contact per invitation');
  if (email) {
    if (!isValidEmail(email)) throw new AppError('invalid_request', { field: 'email' }, 'not an e-mail');
    return { kind: 'email', contact: emailKey(email) };
  }
  const phone = normalizePhone(phoneText ?? '', ctx.settings.smsDefaultRegion);
  if (!phone) throw new AppError('invalid_request', { field: 'phone' }, 'not a phone number');
  if (!ctx.settings.smsEnabled) throw new AppError('invalid_request', { field: 'phone' }, 'no SMS gateway');
  return { kind: 'phone', contact: phone };
}

/**
 * Invites someone to the admin's portal by e-mail or phone (SPEC §5, rule 22). The request only records
 * the invitation and queues a job: the same work and the same answer whoever the contact belongs to, so the
 * admin learns nothing about existing passports. The worker resolves the contact (see
 * deliver-invitation.ts); nobody joins until they accept. Re-inviting a contact replaces its pending
 * invitation, whose link dies.
 */
export async function inviteEmployee(ctx: FlowContext, actor: AdminActor, input: InviteInput): Promise<InvitationView> {
  const { kind, contact } = contactOf(ctx, input);
  // Rule 19: an invitation by text passes the SMS guard in the admin's request, so the admin is told at once;
  // it counts the typed number, never whose it is (rule 22).
  if (kind === 'phone') await guardText(ctx, { to: contact, sender: { kind: 'admin', accountId: actor.account.id, ip: actor.ip, portalId: actor.portal.id } });
  await enforce(ctx, [
    ['invite:contact', `${actor.portal.id}:${contact}`, perContact],
    ['invite:admin', actor.account.id, perAdmin],
  ]);
  const now = ctx.clock.now();
  const invitation: Invitation = {
    id: newId(ctx.random),
    portal_id: actor.portal.id,
    contact_kind: kind,
    contact,
    role: input.role ?? 'employee',
    name: input.name?.trim() || null,
    invited_by: actor.account.id,
    account_id: null,
    token_hash: null,
    created_at: iso(now),
    expires_at: iso(addMs(now, ADMIN_LINK_HOURS * 3600_000)),
    accepted_at: null,
    declined_at: null,
    revoked_at: null,
  };
  await ctx.store.db.transaction().execute(async (tx) => {
    for (const older of await findPendingInvitationsTo(tx, actor.portal.id, kind, contact, iso(now))) {
      await revokeInvitationRow(tx, older.id, iso(now));
      await withdrawInvitationGrants(tx, older, iso(now));
    }
    await insertInvitation(tx, invitation);
    await ctx.outbox.enqueueJob(tx, 'invitation.deliver', { invitationId: invitation.id, locale: input.locale ?? actor.account.locale });
    // Never the account the contact resolves to: the audit log is readable by the portal's admins.
    await recordAudit(ctx, tx, { action: 'admin.member.invited', actorKind: 'admin', actorAccountId: actor.account.id, portalId: actor.portal.id, ip: actor.ip, detail: `${invitation.role} ${invitation.id}`, at: now });
  });
  ctx.outbox.kick();
  return invitationView(invitation);
}

export interface PendingInvitationView extends InvitationView {
  contactKind: 'email' | 'phone';
  createdAt: string;
  expiresAt: string;
}

export function pendingInvitationView(row: PendingInvitationRow): PendingInvitationView {
  return { ...invitationView(row), contactKind: row.contact_kind, createdAt: row.created_at, expiresAt: row.expires_at };
}

/** The admin's "pending invitations": only what the admin typed, never whom it resolved to. */
export async function listInvitations(ctx: Pick<FlowContext, 'store' | 'clock'>, actor: AdminActor, limit = 200): Promise<PendingInvitationView[]> {
  return (await listPendingInvitations(ctx.store.db, actor.portal.id, iso(ctx.clock.now()), limit)).map(pendingInvitationView);
}

/** Revokes a pending invitation of the admin's portal: its link dies; anything else is `not_found`. */
export async function revokeInvitation(ctx: FlowContext, actor: AdminActor, invitationId: string): Promise<InvitationView> {
  const now = ctx.clock.now();
  const revoked = await ctx.store.db.transaction().execute(async (tx) => {
    const row = invitationId.length <= 64 ? await revokeInvitationRow(tx, invitationId, iso(now)) : undefined;
    if (!row || row.portal_id !== actor.portal.id) throw new AppError('not_found');
    await withdrawInvitationGrants(tx, row, iso(now));
    await recordAudit(ctx, tx, { action: 'admin.invitation.revoked', actorKind: 'admin', actorAccountId: actor.account.id, portalId: actor.portal.id, ip: actor.ip, detail: row.id, at: now });
    return row;
  });
  return invitationView(revoked);
}
