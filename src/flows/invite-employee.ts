import { emailKey, isValidEmail, isValidLogin, loginKey, normalizePhone } from '../domain/identifiers.js';
import { iso } from '../kernel/clock.js';
import { newId } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { findAccountByIdentifier, findFreeLogin, insertAccount } from '../store/accounts.repo.js';
import { recordAudit } from './audit.js';
import { findMember, type MemberRow } from '../store/admin.repo.js';
import { upsertMembership } from '../store/portals.repo.js';
import type { Locale } from '../domain/locale.js';
import type { Account } from '../store/schema.js';
import { addedToPortalLetter } from '../ui/admin-letters.js';
import type { AdminActor } from './admin-access.js';
import { issueAdminLink } from './admin-recovery.js';
import type { FlowContext } from './context.js';
import { guardText } from './text-guard.js';

export interface InviteInput {
  email?: string | undefined;
  phone?: string | undefined;
  name?: string | undefined;
  login?: string | undefined;
  role?: 'admin' | 'employee' | undefined;
  /** The language of the letter and of the new account; the admin's own by default. */
  locale?: Locale | undefined;
}

/**
 * Invites an employee by e-mail or phone (issue 4): a new person gets an account without a password, an
 * `invited` membership and a 24-hour link to set their first password; an existing passport (found by the
 * same e-mail or phone) becomes a member without its password being touched, and is told by e-mail.
 */
export async function inviteEmployee(ctx: FlowContext, actor: AdminActor, input: InviteInput): Promise<MemberRow> {
  const email = input.email?.trim() || undefined;
  const phoneText = input.phone?.trim() || undefined;
  if (!email && !phoneText) throw new AppError('invalid_request', { field: 'email' }, 'an e-mail or a phone is needed');
  if (email && !isValidEmail(email)) throw new AppError('invalid_request', { field: 'email' }, 'not an e-mail');
  const phone = phoneText ? normalizePhone(phoneText, ctx.settings.smsDefaultRegion) : undefined;
  if (phoneText && !phone) throw new AppError('invalid_request', { field: 'phone' }, 'not a phone number');
  if (input.login !== undefined && input.login.trim() !== '' && !isValidLogin(input.login.trim())) throw new AppError('invalid_request', { field: 'login' }, 'not a valid login');
  const role = input.role ?? 'employee';
  const now = ctx.clock.now();
  const at = iso(now);

  const byEmail = email ? await findAccountByIdentifier(ctx.store.db, { kind: 'email', key: emailKey(email) }) : undefined;
  const byPhone = phone ? await findAccountByIdentifier(ctx.store.db, { kind: 'phone', key: phone }) : undefined;
  if (byEmail && byPhone && byEmail.id !== byPhone.id) throw new AppError('invalid_request', { field: 'phone' }, 'the e-mail and the phone belong to different people');
  const existing = byEmail ?? byPhone;
  const existingMember = existing ? await findMember(ctx.store.db, actor.portal.id, existing.id) : undefined;
  // A contact nobody has proved is no way to recognise a person: it could be anyone's typo or squat.
  const provenOwner = existing && ((byEmail && byEmail.email_verified_at) || (byPhone && byPhone.phone_verified_at));
  if (existing && !provenOwner && existingMember?.membership !== 'invited') {
    throw new AppError('invalid_request', { field: email ? 'email' : 'phone' }, 'this contact belongs to an account that has not confirmed it');
  }
  if (existing && existingMember?.membership === 'active') return existingMember;

  // Rule 19: an invitation by text passes the SMS guard in the admin's request, so the admin sees a refusal.
  if (!email && phone && (!existing || existingMember?.membership === 'invited')) {
    await guardText(ctx, { to: phone, sender: { kind: 'admin', accountId: actor.account.id, ip: actor.ip, portalId: actor.portal.id }, ...(existing ? { targetAccountId: existing.id } : {}) });
  }
  await ctx.store.db.transaction().execute(async (tx) => {
    const audit = (action: string, target: string) =>
      recordAudit(ctx, tx, { action, actorKind: 'admin', actorAccountId: actor.account.id, targetAccountId: target, portalId: actor.portal.id, ip: actor.ip, detail: role, at: now });
    if (existing && existingMember?.membership === 'invited') {
      // Invited before and never came: a fresh link, the older one dies.
      await issueAdminLink(ctx, tx, { account: existing, portalId: actor.portal.id, portalTitle: actor.portal.title, channel: email ? 'email' : 'phone', kind: 'invite' });
      await audit('admin.member.invited', existing.id);
      return;
    }
    if (existing) {
      await upsertMembership(tx, { account_id: existing.id, portal_id: actor.portal.id, role, status: 'active', created_at: at });
      if (existing.email && existing.email_verified_at) {
        const signIn = new URL('/login', ctx.settings.publicUrl).toString();
        await ctx.outbox.enqueueEmail(tx, 'admin.member.added', { to: existing.email, ...addedToPortalLetter(existing.locale, existing.login, actor.portal.title, signIn) });
      }
      await audit('admin.member.added', existing.id);
      return;
    }
    const requested = input.login?.trim();
    if (requested && (await findAccountByIdentifier(tx, { kind: 'login', key: loginKey(requested) }))) throw new AppError('invalid_request', { field: 'login' }, 'login taken');
    const login = requested || (await findFreeLogin(tx, email ? (email.split('@')[0] ?? 'user') : `user${(phone ?? '').slice(-4)}`));
    const account: Account = {
      id: newId(ctx.random),
      login: login.normalize('NFKC'),
      login_key: loginKey(login),
      name: input.name?.trim() || null,
      email: email?.normalize('NFKC') ?? null,
      email_key: email ? emailKey(email) : null,
      // Unverified until the person follows the link that was sent there.
      email_verified_at: null,
      phone: phone ?? null,
      phone_verified_at: null,
      password_hash: null,
      password_changed_at: null,
      status: 'active',
      locale: input.locale ?? actor.account.locale,
      created_at: at,
      updated_at: at,
      must_change_password: 0,
    };
    await insertAccount(tx, account);
    await upsertMembership(tx, { account_id: account.id, portal_id: actor.portal.id, role, status: 'invited', created_at: at });
    await issueAdminLink(ctx, tx, { account, portalId: actor.portal.id, portalTitle: actor.portal.title, channel: email ? 'email' : 'phone', kind: 'invite' });
    await audit('admin.member.invited', account.id);
  });
  ctx.outbox.kick();
  const target = existing ?? (await findAccountByIdentifier(ctx.store.db, email ? { kind: 'email', key: emailKey(email) } : { kind: 'phone', key: phone ?? '' }));
  const member = target ? await findMember(ctx.store.db, actor.portal.id, target.id) : undefined;
  if (!member) throw new AppError('internal', {}, 'invited member vanished');
  return member;
}
