import type { CheckwordRequestJob } from '../delivery/outbox.js';
import { parseIdentifier } from '../domain/identifiers.js';
import { limits } from '../domain/limits.js';
import { iso } from '../kernel/clock.js';
import { sha256 } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { findAccountByIdentifier, markEmailVerified } from '../store/accounts.repo.js';
import type { Executor } from '../store/db.js';
import { findPortalBySlug } from '../store/portals.repo.js';
import { consumeRecoveryToken, peekRecoveryToken } from '../store/recovery-tokens.repo.js';
import type { Account } from '../store/schema.js';
import { checkwordLetter } from '../ui/box-letters.js';
import type { FlowContext, RequestMeta } from './context.js';
import { recordAudit } from './audit.js';
import { assertEdition } from './edition.js';
import { countFailure, enforceRecoveryRequestLimits } from './limits.js';
import { canRecoverByEmail, issueToken } from './tokens.js';
import { signInWithNewPassword } from './finish-sign-in.js';
import { hashNewPassword } from './password-change.js';
import type { SignInResult } from './sign-in.js';

/**
 * The box edition's recovery (seed B1–B2). "Send checkword" records a job (the same single insert for
 * every login, SPEC §7 rule 6); the worker e-mails a link carrying the login and a checkword; the form
 * it opens sets the new password, using the checkword up in the same transaction.
 *
 *   requested ──worker──▶ issued (sha256 stored, 60 min) ──complete──▶ consumed
 *                           │ new request, password change ──▶ revoked
 *                           └ time ──▶ expired
 */

/** A checkword is 32 random bytes, base64url (43 characters); anything else is refused unread. */
const CHECKWORD_SHAPE = /^[A-Za-z0-9_-]{20,100}$/;

export interface CheckwordInput {
  login: string;
  checkword: string;
}

/** B1, request side: login or e-mail → a queued job; the answer says nothing about the account. */
export async function requestCheckword(ctx: FlowContext & { config: { boxPortal: { slug: string } } }, input: { login: string }, meta: RequestMeta): Promise<void> {
  assertEdition(ctx, 'box');
  const identifier = parseIdentifier(input.login, ctx.settings.smsDefaultRegion);
  await enforceRecoveryRequestLimits(ctx, identifier.key, meta.ip);
  await ctx.outbox.enqueueJob(ctx.store.db, 'recovery.checkword.request', { identifier: input.login, portal: ctx.config.boxPortal.slug, ip: meta.ip });
  ctx.outbox.kick();
}

/** The link in the letter: both values URL-encoded; the page moves them off the address bar at once. */
export function checkwordLink(publicUrl: URL, login: string, checkword: string): string {
  const url = new URL('/recover/checkword', publicUrl);
  url.search = new URLSearchParams({ login, checkword }).toString();
  return url.toString();
}

/**
 * B1, worker side: for an active account with a verified e-mail, kills every outstanding token (rule 5),
 * stores the new checkword's sha256 and queues the letter, all in the worker's transaction.
 */
export async function issueCheckword(ctx: Pick<FlowContext, 'clock' | 'random' | 'outbox' | 'settings'>, tx: Executor, job: CheckwordRequestJob): Promise<boolean> {
  const account = await findAccountByIdentifier(tx, parseIdentifier(job.identifier, ctx.settings.smsDefaultRegion));
  // Written here, not at request time, so the request stays the same single insert for every login (rule 6).
  if (account) await recordAudit(ctx, tx, { action: 'recovery.requested', actorKind: 'recovery', targetAccountId: account.id, ip: job.ip ?? null, detail: 'checkword' });
  if (!canRecoverByEmail(account)) return false;
  const checkword = await issueToken(ctx, tx, { accountId: account.id, purpose: 'checkword', lifetimeMs: ctx.settings.checkwordTtlMinutes * 60_000 });
  const portal = await findPortalBySlug(tx, job.portal);
  const link = checkwordLink(ctx.settings.publicUrl, account.login, checkword);
  const letter = checkwordLetter(account.locale, { login: account.login, name: account.name, portal: portal?.title ?? job.portal, color: portal?.color, link, minutes: ctx.settings.checkwordTtlMinutes });
  await ctx.outbox.enqueueEmail(tx, 'recovery.checkword', { to: account.email, ...letter });
  return true;
}

/** The account a login or e-mail names, when it may recover (active). */
async function accountOf(ctx: Pick<FlowContext, 'store' | 'settings'>, login: string): Promise<Account | undefined> {
  if (login.length > 320) return undefined;
  const account = await findAccountByIdentifier(ctx.store.db, parseIdentifier(login, ctx.settings.smsDefaultRegion));
  return account?.status === 'active' ? account : undefined;
}

/** True when `checkword` is a live `checkword` token of this very account. */
async function isLiveCheckwordOf(ctx: Pick<FlowContext, 'store' | 'clock'>, account: Account | undefined, checkword: string): Promise<boolean> {
  if (!CHECKWORD_SHAPE.test(checkword)) return false;
  const row = await peekRecoveryToken(ctx.store.db, sha256(checkword), iso(ctx.clock.now()));
  return account !== undefined && row !== undefined && row.purpose === 'checkword' && row.account_id === account.id;
}

/**
 * The account a live checkword opens: only a `checkword` token of the active account the login names.
 * Opening the link or the form consumes nothing (SPEC §7 rule 3).
 */
export async function inspectCheckword(ctx: Pick<FlowContext, 'store' | 'clock' | 'settings'>, input: CheckwordInput): Promise<Account | undefined> {
  const account = await accountOf(ctx, input.login);
  return (await isLiveCheckwordOf(ctx, account, input.checkword)) ? account : undefined;
}

export interface CompleteCheckwordInput extends CheckwordInput {
  password: string;
  passwordConfirm: string;
}

/**
 * B2: sets the new password with a checkword. The confirmation must match (`invalid_request`,
 * field `passwordConfirm`); a changed, used, expired or other login's checkword is `invalid_token`;
 * a weak password is refused before the checkword is touched. Only wrong checkwords are counted, per
 * client and per account (SPEC §7 rule 20): past either budget they answer `rate_limited`, while a live
 * one always passes, whatever others tried. The checkword is consumed in the transaction that sets the
 * password, so of N parallel calls exactly one succeeds (rule 2).
 */
export async function completeCheckword(ctx: FlowContext, input: CompleteCheckwordInput, meta: RequestMeta): Promise<SignInResult> {
  assertEdition(ctx, 'box');
  if (input.password !== input.passwordConfirm) throw new AppError('invalid_request', { field: 'passwordConfirm' }, 'password confirmation mismatch');
  const owner = await accountOf(ctx, input.login);
  // The checkword is looked up whether or not the login exists, so both cost the same.
  const live = await isLiveCheckwordOf(ctx, owner, input.checkword);
  if (!live || !owner) {
    // Counted per account (login and e-mail share one bucket), or per typed key when nobody has it.
    const accountKey = owner?.id ?? parseIdentifier(input.login, ctx.settings.smsDefaultRegion).key;
    const refusal = await countFailure(ctx, [
      ['complete:ip', meta.ip, limits.completePerIp],
      ['checkword:account', accountKey, limits.checkwordAttemptsPerLogin],
    ]);
    throw refusal ?? new AppError('invalid_token');
  }
  const account = owner;
  const hash = await hashNewPassword(ctx, input.password, account, { notCurrent: { hash: account.password_hash } });

  return signInWithNewPassword(ctx, {
    account,
    hash,
    firstFactor: 'checkword',
    meta,
    consume: async (tx, now) => {
      const consumed = await consumeRecoveryToken(tx, sha256(input.checkword), now);
      // Thrown inside the transaction: a token that is not this account's checkword is rolled back unused.
      if (!consumed || consumed.account_id !== account.id || consumed.purpose !== 'checkword') throw new AppError('invalid_token');
      // Following the e-mailed link proved the person reads this mailbox.
      await markEmailVerified(tx, account.id, now);
    },
  });
}
