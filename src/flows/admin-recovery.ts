import { recoveryChannelAllowed } from '../store/portals.repo.js';
import { iso } from '../kernel/clock.js';
import { AppError } from '../kernel/errors.js';
import type { Limit } from '../kernel/rate-limiter.js';
import { findAccountById } from '../store/accounts.repo.js';
import { hasLivePortalToken } from '../store/recovery-tokens.repo.js';
import { recordAudit } from './audit.js';
import type { Executor } from '../store/db.js';
import type { Account } from '../store/schema.js';
import { adminLinkLetter, adminLinkSms, type AdminLinkKind } from '../ui/admin-letters.js';
import type { AdminActor } from './admin-access.js';
import { requireMember } from './admin-access.js';
import type { FlowContext } from './context.js';
import { assertEdition } from './edition.js';
import { enforce } from './limits.js';
import { guardText, sendTextOrThrow } from './text-guard.js';
import { issueToken } from './tokens.js';

export const ADMIN_LINK_HOURS = 24;
const perTarget: Limit = { max: 5, windowMs: 3600_000 };
const perAdmin: Limit = { max: 100, windowMs: 3600_000 };

export type Channel = 'email' | 'phone';

/** The link of an admin-sent recovery or an invitation; the token page is the one e-mailed links use. */
export function adminLink(publicUrl: URL, token: string): string {
  return new URL(`/recover/email/${token}`, publicUrl).toString();
}

/**
 * Issues a 24-hour single-use link for `account` and queues it by e-mail or SMS with the registration data
 * (seed C7). Kills the account's older links first (rule 5). Returns when it was queued; the admin never
 * sees the link. A text must have passed `guardText` in the admin's request first (rule 19).
 */
export async function issueAdminLink(
  ctx: Pick<FlowContext, 'clock' | 'random' | 'outbox' | 'settings' | 'store' | 'limiter' | 'smsRefusals'>,
  tx: Executor,
  input: { account: Account; portalId: string; portalTitle: string; portalColor?: string | null; channel: Channel; kind: AdminLinkKind },
): Promise<Date> {
  const { account, channel } = input;
  const now = ctx.clock.now();
  const token = await issueToken(ctx, tx, {
    accountId: account.id,
    purpose: input.kind === 'admin' ? 'admin_link' : 'invitation',
    lifetimeMs: ADMIN_LINK_HOURS * 3600_000,
    portalId: input.portalId,
    channel,
  });
  const link = adminLink(ctx.settings.publicUrl, token);
  if (channel === 'email' && account.email) {
    await ctx.outbox.enqueueEmail(tx, `admin.${input.kind}.email`, { to: account.email, ...adminLinkLetter(account.locale, input.kind, account.login, input.portalTitle, link, { name: account.name, color: input.portalColor }) });
  } else if (channel === 'phone' && account.phone) {
    // The caller passed `guardText` for this text before its transaction (rule 19).
    await sendTextOrThrow(ctx, tx, { kind: `admin.${input.kind}.sms`, to: account.phone, text: adminLinkSms(account.locale, input.kind, account.login, input.portalTitle, link), targetAccountId: account.id });
  } else {
    throw new AppError('invalid_request', { field: 'channel' }, `no ${channel} on the account`);
  }
  return now;
}

/**
 * "Recover password to e-mail / to phone" in an employee's profile (cloud, seed C7). A new link kills the one
 * sent before (rule 5); `replacedEarlierLink` tells the admin so when this portal's admins had sent one that
 * was still live (issue 14 item 8). Links of other portals' admins, or the person's own, are not mentioned.
 */
export async function sendAdminRecovery(ctx: FlowContext, actor: AdminActor, targetId: string, channel: Channel): Promise<{ sentAt: string; replacedEarlierLink: boolean }> {
  assertEdition(ctx, 'cloud');
  const member = await requireMember(ctx, actor, targetId);
  // Only to contacts known to be the employee's (SPEC §2): an unverified one is as good as none.
  const verified = channel === 'email' ? member.email && member.email_verified_at : member.phone && member.phone_verified_at;
  if (!verified) throw new AppError('invalid_request', { field: 'channel' }, `no verified ${channel}`);
  if (channel === 'phone' && !ctx.settings.smsEnabled) throw new AppError('invalid_request', { field: 'channel' }, 'no SMS gateway');
  // The admin is told plainly: the answer to an admin is not a secret about whether the person exists.
  if (!(await recoveryChannelAllowed(ctx.store.db, member.id, 'admin'))) throw new AppError('invalid_request', { field: 'channel' }, 'recovery by an admin is off for this person');
  await enforce(ctx, [
    ['admin-link:target', member.id, perTarget],
    ['admin-link:admin', actor.account.id, perAdmin],
  ]);
  const account = await findAccountById(ctx.store.db, member.id);
  if (!account || account.status !== 'active') throw new AppError('not_found');
  if (channel === 'phone' && account.phone) {
    await guardText(ctx, { to: account.phone, sender: { kind: 'admin', accountId: actor.account.id, ip: actor.ip, portalId: actor.portal.id }, targetAccountId: account.id });
  }
  const { sentAt, replacedEarlierLink } = await ctx.store.db.transaction().execute(async (tx) => {
    const replaced = await hasLivePortalToken(tx, account.id, 'admin_link', actor.portal.id, iso(ctx.clock.now()));
    const at = await issueAdminLink(ctx, tx, { account, portalId: actor.portal.id, portalTitle: actor.portal.title, portalColor: actor.portal.color, channel, kind: 'admin' });
    await recordAudit(ctx, tx, {
      action: 'admin.recovery_link.sent',
      actorKind: 'admin',
      actorAccountId: actor.account.id,
      targetAccountId: account.id,
      portalId: actor.portal.id,
      ip: actor.ip,
      detail: channel,
      at,
    });
    return { sentAt: at, replacedEarlierLink: replaced };
  });
  ctx.outbox.kick();
  return { sentAt: iso(sentAt), replacedEarlierLink };
}
