import { limits } from '../domain/limits.js';
import { iso } from '../kernel/clock.js';
import { sha256 } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { markEmailVerified, markPhoneVerified, setAccountStatus, type AccountForSignIn } from '../store/accounts.repo.js';
import { activateMembership, listMemberPortalIds } from '../store/admin.repo.js';
import { acceptInvitationsOf } from '../store/invitations.repo.js';
import { consumeRecoveryToken, findRecoveryToken, peekRecoveryTokenForSignIn } from '../store/recovery-tokens.repo.js';
import type { Account } from '../store/schema.js';
import { recordAudit } from './audit.js';
import type { FlowContext, RequestMeta } from './context.js';
import { countFailure } from './limits.js';
import { signInWithNewPassword, type FirstFactor } from './finish-sign-in.js';
import { hashNewPassword } from './password-change.js';
import type { SignInResult } from './sign-in.js';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,100}$/;
/** Tokens this step accepts; a box checkword goes only through its own form, which also checks the login. */
const LINK_PURPOSES: ReadonlySet<string> = new Set(['email_link', 'phone_reset', 'admin_link', 'invitation', 'unlock']);

/** Opening a link: says whose it is, consumes nothing (SPEC §7 rule 3). */
export async function inspectRecoveryToken(ctx: Pick<FlowContext, 'store' | 'clock'>, token: string): Promise<Account | undefined> {
  return (await liveToken(ctx, token))?.account;
}

/** As `inspectRecoveryToken`, and whether it is an invitation's first password, which its page words as joining. */
export async function inspectRecoveryLink(ctx: Pick<FlowContext, 'store' | 'clock'>, token: string): Promise<{ account: Account; invitation: boolean } | undefined> {
  const live = await liveToken(ctx, token);
  return live ? { account: live.account, invitation: live.firstFactor === 'invitation' } : undefined;
}

/**
 * Why a token no longer opens the form, for the page that says so (issue 14 item 5): `used` when it set the
 * password (Back or the link again after a completed recovery: "already changed, sign in"), else `dead`; and
 * the kind of secret it was, so a phone recovery speaks of a code, not of a link. Only the holder of the
 * token learns this about their own recovery. `unknown` when no such token was ever issued.
 */
export type DeadTokenReason = { state: 'used' | 'dead'; via: 'code' | 'link' | 'invitation' } | { state: 'unknown' };

export async function whyTokenIsDead(ctx: Pick<FlowContext, 'store'>, token: string): Promise<DeadTokenReason> {
  if (!TOKEN_SHAPE.test(token)) return { state: 'unknown' };
  const row = await findRecoveryToken(ctx.store.db, sha256(token));
  if (!row || !LINK_PURPOSES.has(row.purpose)) return { state: 'unknown' };
  const via = row.purpose === 'phone_reset' ? 'code' : row.purpose === 'invitation' ? 'invitation' : 'link';
  return { state: row.consumed_at !== null ? 'used' : 'dead', via };
}

/** A live link token of an active account (with its sign-in facts), with the kind of link it is (the first factor it proves). */
async function liveToken(
  ctx: Pick<FlowContext, 'store' | 'clock'>,
  token: string,
): Promise<{ account: AccountForSignIn; firstFactor: FirstFactor; channel: string | null; purpose: string } | undefined> {
  if (!TOKEN_SHAPE.test(token)) return undefined;
  // One statement: the token, its account and what the sign-in path decides on.
  const found = await peekRecoveryTokenForSignIn(ctx.store.db, sha256(token), iso(ctx.clock.now()));
  if (!found || !LINK_PURPOSES.has(found.token.purpose)) return undefined;
  const { account, token: row } = found;
  // A locked account ("this wasn't me") recovers only through the unlock link that locking it sent (rule 23).
  const usable = account.status === 'active' || (account.status === 'locked' && row.purpose === 'unlock');
  if (!usable) return undefined;
  return { account, firstFactor: row.purpose === 'checkword' ? 'email_link' : row.purpose, channel: row.channel, purpose: row.purpose };
}

/**
 * Seed C2, second half: set the new password with a recovery token. The token is consumed atomically
 * in the same transaction that sets the password, so of N parallel calls exactly one succeeds (rule 2).
 * A weak password is refused before the token is touched, so the person can try again. Only wrong
 * tokens are counted (SPEC §7 rule 20); past the client's budget they answer `rate_limited`.
 */
export async function completeRecovery(ctx: FlowContext, input: { token: string; password: string }, meta: RequestMeta): Promise<SignInResult> {
  const live = await liveToken(ctx, input.token);
  if (!live) {
    // Only wrong tokens count, per client (a wrong token names no account): a live link always works.
    const refusal = await countFailure(ctx, [['complete:ip', meta.ip, limits.completePerIp]]);
    throw refusal ?? new AppError('invalid_token');
  }
  const { account, firstFactor } = live;
  const hash = await hashNewPassword(ctx, input.password, account, { minLength: account.signIn.minPasswordLength, notCurrent: { hash: account.password_hash } });
  // Following a link proves the person reads where it was sent (written below only when not proven yet).
  const provesEmail = (live.purpose === 'email_link' || live.channel === 'email') && account.email_verified_at === null;
  const provesPhone = live.channel === 'phone' && account.phone_verified_at === null;
  const now = iso(ctx.clock.now());
  const afterConsume = {
    ...account,
    // Completing the unlock link of "this wasn't me" unlocks the account (written in `consume`).
    status: live.purpose === 'unlock' ? ('active' as const) : account.status,
    email_verified_at: provesEmail ? now : account.email_verified_at, phone_verified_at: provesPhone ? now : account.phone_verified_at };

  return signInWithNewPassword(ctx, {
    account,
    // An invitation's first password also makes a membership: its account is read again after that.
    ...(live.purpose === 'invitation' ? {} : { afterConsume }),
    hash,
    firstFactor,
    meta,
    consume: async (tx, at) => {
      const consumed = await consumeRecoveryToken(tx, sha256(input.token), at);
      if (!consumed || consumed.account_id !== account.id || !LINK_PURPOSES.has(consumed.purpose)) throw new AppError('invalid_token');
      if (provesEmail) await markEmailVerified(tx, account.id, at);
      if (provesPhone) await markPhoneVerified(tx, account.id, at);
      if (consumed.purpose === 'unlock' && (await setAccountStatus(tx, account.id, ['locked'], 'active', at))) {
        // In each of the person's portals' logs, beside the `account.not_me` that locked it.
        const portals = await listMemberPortalIds(tx, account.id);
        for (const portalId of portals.length > 0 ? portals : [null]) {
          await recordAudit(ctx, tx, { action: 'account.unlocked', actorKind: 'recovery', actorAccountId: account.id, targetAccountId: account.id, portalId, ip: meta.ip });
        }
      }
      if (consumed.purpose === 'invitation' && consumed.portal_id) {
        // Setting the first password is how someone without an account accepts an invitation (rule 22).
        await activateMembership(tx, account.id, consumed.portal_id);
        for (const invitation of await acceptInvitationsOf(tx, consumed.portal_id, account.id, at)) {
          await recordAudit(ctx, tx, { action: 'member.joined', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, portalId: consumed.portal_id, ip: meta.ip, detail: invitation.id });
        }
      }
    },
  });
}
