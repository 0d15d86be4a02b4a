import { limits } from '../domain/limits.js';
import { addMs, iso } from '../kernel/clock.js';
import { newSecretToken, sha256 } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { findAccountById, setAccountStatus } from '../store/accounts.repo.js';
import { cancelContactChanges } from '../store/contact-changes.repo.js';
import { listAdminsOfMemberPortals, listMemberPortalIds } from '../store/admin.repo.js';
import type { Executor } from '../store/db.js';
import { consumeNotMeToken, insertNotMeToken, peekNotMeToken } from '../store/not-me-tokens.repo.js';
import type { Account } from '../store/schema.js';
import { closeAccountChallenges } from '../store/second-factor.repo.js';
import { notMeAdminLetter, unlockLetter, unlockSms } from '../ui/not-me-letters.js';
import { recordAudit } from './audit.js';
import type { FlowContext, RequestMeta } from './context.js';
import { endSessions } from './end-sessions.js';
import { countFailure } from './limits.js';
import { recoveryLink } from './recover-by-email.js';
import { sendText } from './text-guard.js';
import { issueToken } from './tokens.js';

/** "This wasn't me" (SPEC §6, §7 rule 23, §11): the link in every security notice lives 7 days. */
export const NOT_ME_DAYS = 7;
/** The unlock link it sends lives as long as an admin-sent link: the person may read it only the next day. */
export const UNLOCK_LINK_HOURS = 24;

export type NoticeChannel = 'email' | 'phone';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,100}$/;

/**
 * Issues the "this wasn't me" link of one security notice, inside the caller's transaction, and returns it
 * (`PUBLIC_URL/account/not-me/<token>`). Only the token's sha256 is stored (rule 1), bound to the account and
 * to the contact the notice goes to: pressing it sends the fresh recovery link back there. Every notice sender
 * calls this for the letter or text it queues; the token is in that message only.
 */
export async function notMeLink(
  ctx: Pick<FlowContext, 'clock' | 'random' | 'settings'>,
  tx: Executor,
  input: { accountId: string; channel: NoticeChannel; contact: string; notice: string },
): Promise<string> {
  const now = ctx.clock.now();
  const token = newSecretToken(ctx.random);
  await insertNotMeToken(tx, {
    token_hash: sha256(token),
    account_id: input.accountId,
    channel: input.channel,
    contact: input.contact,
    notice: input.notice,
    created_at: iso(now),
    expires_at: iso(addMs(now, NOT_ME_DAYS * 24 * 3600_000)),
    consumed_at: null,
  });
  return new URL(`/account/not-me/${token}`, ctx.settings.publicUrl).toString();
}

/** What the confirm and done pages show: whose account, and where the recovery link goes (partly hidden). */
export interface NotMeView {
  login: string;
  channel: NoticeChannel;
  contact: string;
}

/** Hides most of a contact: enough for its owner to recognise it, not enough to read it off a shared screen. */
export function maskContact(channel: NoticeChannel, contact: string): string {
  if (channel === 'phone') return `${contact.slice(0, 2)}•••••${contact.slice(-2)}`;
  const at = contact.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${contact.slice(0, Math.min(2, at))}•••${contact.slice(at)}`;
}

function viewOf(account: Account, row: { channel: string; contact: string }): NotMeView {
  const channel: NoticeChannel = row.channel === 'phone' ? 'phone' : 'email';
  return { login: account.login, channel, contact: maskContact(channel, row.contact) };
}

/** Opening the link (GET, HEAD): says whose it is and changes nothing, so a mail scanner locks nobody out. */
export async function inspectNotMe(ctx: Pick<FlowContext, 'store' | 'clock'>, token: string): Promise<NotMeView | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  const row = await peekNotMeToken(ctx.store.db, sha256(token), iso(ctx.clock.now()));
  if (!row) return undefined;
  const account = await findAccountById(ctx.store.db, row.account_id);
  // A disabled account is the operator's business: its link does nothing, as an unknown one.
  if (!account || account.status === 'disabled') return undefined;
  return viewOf(account, row);
}

/**
 * The POST (SPEC §7 rule 23), in one transaction: the link is used up atomically (once), the account is locked
 * (no sign-in, no other recovery), every session, pending second-factor step, recovery token, open phone flow,
 * OIDC grant, code and refresh token dies, the portals' admins are told, and a fresh unlock link goes to the
 * contact that got the notice. Completing that recovery unlocks the account (flows/complete-recovery.ts).
 */
export async function reportNotMe(ctx: FlowContext, token: string, meta: RequestMeta): Promise<NotMeView> {
  const refuse = async (): Promise<never> => {
    // Only wrong links count, per client (a wrong link names no account), as for recovery links.
    const refusal = await countFailure(ctx, [['not-me:ip', meta.ip, limits.completePerIp]]);
    throw refusal ?? new AppError('invalid_token');
  };
  if (!TOKEN_SHAPE.test(token)) return refuse();
  const view = await ctx.store.db.transaction().execute(async (tx) => {
    const now = ctx.clock.now();
    const at = iso(now);
    const row = await consumeNotMeToken(tx, sha256(token), at);
    if (!row) return undefined;
    const account = await findAccountById(tx, row.account_id);
    if (!account || !(await setAccountStatus(tx, account.id, ['active', 'locked'], 'locked', at))) return undefined;
    // Every session ends, with the applications signed in through them (grants, tokens, back-channel logout).
    const sessions = await endSessions(ctx, tx, account.id, { kind: 'all' });
    await closeAccountChallenges(tx, account.id, at);
    await cancelContactChanges(tx, account.id, at);
    // A fresh link: issuing it kills every older token and open phone flow of the account first (rule 5).
    const unlock = await issueToken(ctx, tx, { accountId: account.id, purpose: 'unlock', lifetimeMs: UNLOCK_LINK_HOURS * 3600_000 });
    const sentBy = await sendUnlockLink(ctx, tx, account, row, recoveryLink(ctx.settings.publicUrl, unlock));
    await tellAdmins(ctx, tx, account, now);
    const detail = `notice=${row.notice} sent=${sentBy} sessions=${sessions}`;
    const portals = await listMemberPortalIds(tx, account.id);
    for (const portalId of portals.length > 0 ? portals : [null]) {
      await recordAudit(ctx, tx, { action: 'account.not_me', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, portalId, ip: meta.ip, detail });
    }
    return viewOf(account, row);
  });
  if (!view) return refuse();
  ctx.outbox.kick();
  return view;
}

/**
 * Back to the contact that got the notice. A text the SMS guard refuses (budget, country) falls back to the
 * account's verified e-mail, so the person is never left locked without a way in; returns what was used.
 */
async function sendUnlockLink(ctx: FlowContext, tx: Executor, account: Account, row: { channel: string; contact: string }, link: string): Promise<string> {
  if (row.channel === 'phone') {
    const refused = await sendText(ctx, tx, { kind: 'not_me.unlock.sms', to: row.contact, text: unlockSms(account.locale, account.login, link), targetAccountId: account.id });
    if (!refused) return 'phone';
    if (!account.email || !account.email_verified_at) return `none:${refused}`;
    await ctx.outbox.enqueueEmail(tx, 'not_me.unlock', { to: account.email, ...unlockLetter(account.locale, account.login, link, UNLOCK_LINK_HOURS) });
    return 'email';
  }
  await ctx.outbox.enqueueEmail(tx, 'not_me.unlock', { to: row.contact, ...unlockLetter(account.locale, account.login, link, UNLOCK_LINK_HOURS) });
  return 'email';
}

/** One letter per admin and portal, in the admin's language, with that portal's audit log. */
async function tellAdmins(ctx: FlowContext, tx: Executor, account: Account, now: Date): Promise<void> {
  for (const admin of await listAdminsOfMemberPortals(tx, account.id)) {
    if (!admin.admin_email || !admin.admin_email_verified_at) continue;
    const auditUrl = new URL(`/admin/${admin.portal_slug}/audit`, ctx.settings.publicUrl).toString();
    const letter = notMeAdminLetter(admin.admin_locale, { adminLogin: admin.admin_login, login: account.login, portal: admin.portal_title, when: now, auditUrl });
    await ctx.outbox.enqueueEmail(tx, 'not_me.admin', { to: admin.admin_email, ...letter });
  }
}
