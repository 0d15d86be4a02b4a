import type { InvitationJob, SmsPayload } from '../delivery/outbox.js';
import { loginKey } from '../domain/identifiers.js';
import { iso } from '../kernel/clock.js';
import { newId, newSecretToken, sha256 } from '../kernel/crypto.js';
import { findAccountByIdentifier, findFreeLogin, insertAccount } from '../store/accounts.repo.js';
import type { Executor } from '../store/db.js';
import { findInvitationFacts, findPendingInvitation, membershipStatus, resolveInvitation } from '../store/invitations.repo.js';
import { upsertMembership } from '../store/portals.repo.js';
import type { Account, Invitation } from '../store/schema.js';
import { listLinkedProviders } from '../store/social-identities.repo.js';
import { invitationLetter, invitationSms, newAccountInvitationLetter, type InvitationFacts } from '../ui/invitation-letters.js';
import { adminLink } from './admin-recovery.js';
import type { FlowContext } from './context.js';
import { sendText } from './text-guard.js';
import { issueToken } from './tokens.js';

type WorkerCtx = Pick<FlowContext, 'clock' | 'random' | 'outbox' | 'settings' | 'store' | 'limiter' | 'smsRefusals'>;

/** The accept link of an invitation to an existing passport (SPEC §5). */
export function invitationLink(publicUrl: URL, token: string): string {
  return new URL(`/invitations/${token}`, publicUrl).toString();
}

/**
 * Worker side of an invitation (SPEC §5, rule 22), in the worker's transaction. The contact resolves to:
 * - a passport that verified it: an "accept while signed in" link (`/invitations/<token>`), nothing else;
 * - nobody, or an account the invitations themselves created and nobody has claimed yet: that account
 *   (created now, without a password, the contact unverified) with an `invited` membership and a 24-hour
 *   link to set its first password, which is how that person accepts;
 * - an account that has the contact but never proved it: nothing at all. Its owner cannot accept by it
 *   anyway, and the contact may be someone else's typo: no letter to a stranger, no squatting.
 * An active member gets nothing either. Never `active` here: joining is the person's own step.
 */
export async function deliverInvitation(ctx: WorkerCtx, tx: Executor, job: InvitationJob): Promise<'accept' | 'set_password' | 'nothing'> {
  const now = ctx.clock.now();
  const invitation = await findPendingInvitation(tx, job.invitationId, iso(now));
  if (!invitation) return 'nothing';
  const facts = await findInvitationFacts(tx, invitation);
  if (!facts) return 'nothing';
  const account = await findAccountByIdentifier(tx, { kind: invitation.contact_kind, key: invitation.contact });
  const message = (login: string, link: string, name: string | null): InvitationFacts => ({
    portal: facts.portal_title,
    color: facts.portal_color,
    name,
    inviter: facts.inviter_name ?? facts.inviter_login ?? facts.portal_title,
    role: invitation.role,
    login,
    link,
  });

  if (account && ownsContact(account, invitation)) {
    if ((await membershipStatus(tx, account.id, invitation.portal_id)) === 'active') return 'nothing';
    const token = newSecretToken(ctx.random);
    await resolveInvitation(tx, invitation.id, account.id, sha256(token));
    await send(ctx, tx, account, invitation, message(account.login, invitationLink(ctx.settings.publicUrl, token), account.name), true);
    return 'accept';
  }
  if (account && !(await isUnclaimed(tx, account))) return 'nothing';

  const invitee = account ?? (await createInvitedAccount(ctx, tx, invitation, job));
  await upsertMembership(tx, { account_id: invitee.id, portal_id: invitation.portal_id, role: invitation.role, status: 'invited', created_at: iso(now) });
  const token = await issueToken(ctx, tx, {
    accountId: invitee.id,
    purpose: 'invitation',
    lifetimeMs: Date.parse(invitation.expires_at) - now.getTime(),
    portalId: invitation.portal_id,
    channel: invitation.contact_kind,
  });
  await resolveInvitation(tx, invitation.id, invitee.id, null);
  await send(ctx, tx, invitee, invitation, message(invitee.login, adminLink(ctx.settings.publicUrl, token), invitee.name), false);
  return 'set_password';
}

/** The account proved this contact (a verified e-mail or phone), so a message there reaches its owner. */
export function ownsContact(account: Account, invitation: Pick<Invitation, 'contact_kind' | 'contact'>): boolean {
  if (account.status !== 'active') return false;
  return invitation.contact_kind === 'email'
    ? account.email_key === invitation.contact && account.email_verified_at !== null
    : account.phone === invitation.contact && account.phone_verified_at !== null;
}

/**
 * An account an earlier invitation created that nobody has taken up: no password, no social sign-in, no
 * proven contact. Whoever reads the contact is the only one who can ever use it, so a new invitation there
 * gives nothing away.
 */
async function isUnclaimed(tx: Executor, account: Account): Promise<boolean> {
  if (account.status !== 'active' || account.password_hash !== null || account.email_verified_at !== null || account.phone_verified_at !== null) return false;
  return (await listLinkedProviders(tx, account.id)).length === 0;
}

async function createInvitedAccount(ctx: WorkerCtx, tx: Executor, invitation: Invitation, job: InvitationJob): Promise<Account> {
  const at = iso(ctx.clock.now());
  const email = invitation.contact_kind === 'email' ? invitation.contact : null;
  const phone = invitation.contact_kind === 'phone' ? invitation.contact : null;
  const login = await findFreeLogin(tx, email ? (email.split('@')[0] ?? 'user') : `user${(phone ?? '').slice(-4)}`);
  const account: Account = {
    id: newId(ctx.random),
    login,
    login_key: loginKey(login),
    name: invitation.name,
    email,
    email_key: email,
    // Unverified until the person follows the link that was sent there.
    email_verified_at: null,
    phone,
    phone_verified_at: null,
    password_hash: null,
    password_changed_at: null,
    status: 'active',
    locale: job.locale,
    created_at: at,
    updated_at: at,
    must_change_password: 0,
    failures_reset_at: null,
  };
  await insertAccount(tx, account);
  return account;
}

/** Queues the letter or the text, in the account's language. */
async function send(ctx: WorkerCtx, tx: Executor, account: Account, invitation: Invitation, facts: InvitationFacts, existing: boolean): Promise<void> {
  const kind = existing ? 'invitation' : 'invitation.new';
  if (invitation.contact_kind === 'email') {
    const letter = existing ? invitationLetter(account.locale, facts) : newAccountInvitationLetter(account.locale, facts);
    await ctx.outbox.enqueueEmail(tx, `${kind}.email`, { to: invitation.contact, ...letter });
  } else {
    await queueInvitationText(ctx, tx, `${kind}.sms`, { to: invitation.contact, text: invitationSms(account.locale, facts, existing) });
  }
}

/**
 * The one place invitations queue a text (SPEC §7 rule 19): the admin's request already passed `guardText`;
 * here the country list and today's budget are checked again, and a refusal is audited, not retried.
 */
async function queueInvitationText(ctx: WorkerCtx, tx: Executor, kind: string, payload: SmsPayload): Promise<void> {
  await sendText(ctx, tx, { kind, ...payload });
}
