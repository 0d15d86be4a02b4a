import { parseIdentifier } from '../domain/identifiers.js';
import { limits } from '../domain/limits.js';
import { normalizePassword } from '../domain/password-policy.js';
import { AppError } from '../kernel/errors.js';
import type { Limit } from '../kernel/rate-limiter.js';
import { iso } from '../kernel/clock.js';
import { findAccountForSignIn } from '../store/accounts.repo.js';
import { writeTogether } from '../store/write-batch.js';
import type { Account } from '../store/schema.js';
import { recordAudit } from './audit.js';
import type { FlowContext, RequestMeta } from './context.js';
import { finishSignIn, outcomeOf, type SignInOutcome } from './finish-sign-in.js';
import { upgradeLegacyHash } from './legacy-password.js';
import { accountBudgetKey, countAttempt, countFailure, refundAttempt } from './limits.js';

/** What every sign-in flow returns: a session, or a second factor still owed (flows/finish-sign-in.ts). */
export type SignInResult = SignInOutcome;

type Budget = [bucket: string, key: string, limit: Limit];

/**
 * Sign-in by login, e-mail or phone (seed C1). Unknown accounts, accounts without a password and
 * inactive accounts cost one argon2 verification too and answer the same `invalid_credentials`; the right
 * password of a locked account answers `account_locked`, which points to the unlock link.
 *
 * Only failures are counted (SPEC §7 rule 20): per client, per typed login from that client, and per
 * typed login from everywhere (a larger budget no single client can spend), known logins or not, so 429s
 * say nothing about who exists either. A browser that signed in to the account before (its device cookie)
 * is checked against its own budget for that account instead, so a flood of wrong passwords from
 * elsewhere never refuses the owner's right one. A wrong password counts in every bucket that applies.
 */
export async function signIn(ctx: FlowContext, input: { login: string; password: string }, meta: RequestMeta): Promise<SignInResult> {
  // Nothing typed is a form left empty, not a guess: it is said so and counts against no limit (issue 14 item 7).
  if (input.login.trim() === '') throw new AppError('invalid_request', { field: 'login' }, 'no login');
  if (input.password === '') throw new AppError('invalid_request', { field: 'password' }, 'no password');
  const identifier = parseIdentifier(input.login, ctx.settings.smsDefaultRegion);
  // With what the sign-in path decides on (second factor, pause, first session): the one read before the hash.
  const account = await findAccountForSignIn(ctx.store.db, identifier, iso(ctx.clock.now()));
  // Per client, per login from that client, per login from everywhere; unknown logins alike.
  const budgets: Budget[] = [
    ['signin:ip', meta.ip, limits.signInPerIp],
    ['signin:client', accountBudgetKey(`${meta.ip} ${identifier.key}`, account), limits.signInPerAccountClient],
    ['signin:account', accountBudgetKey(identifier.key, account), limits.signInPerAccount],
  ];
  // The owner's browser is held to its own budget for the account instead.
  const deviceBudget: Budget | undefined =
    account && meta.deviceId && meta.knownAccounts?.has(account.id) ? ['signin:device', accountBudgetKey(`${account.id}:${meta.deviceId}`, account), limits.signInPerDevice] : undefined;
  // Counted before the password is checked and refunded when it proves right, so parallel guesses stay
  // inside the budget and a right password never counts.
  const held = deviceBudget ? [deviceBudget] : budgets;
  const refused = await countAttempt(ctx, held);
  if (refused) {
    await auditFailure(ctx, account, meta, 'rate_limited');
    throw refused;
  }

  const password = normalizePassword(input.password);
  // A locked account ("this wasn't me", SPEC §7 rule 23) still has its password checked, so its rightful
  // owner can be told it is locked and how to unlock it; a wrong password answers as for anyone.
  const ok =
    account?.password_hash && (account.status === 'active' || account.status === 'locked')
      ? await ctx.hasher.verify(account.password_hash, password)
      : await ctx.hasher.verifyDummy(password);
  if (!ok || !account) {
    // A wrong password from the owner's browser still counts against the account everywhere.
    if (deviceBudget) await countFailure(ctx, budgets);
    await auditFailure(ctx, account, meta, 'wrong_password');
    throw new AppError('invalid_credentials');
  }
  await refundAttempt(ctx, held);
  if (account.status === 'locked') {
    await auditFailure(ctx, account, meta, 'locked');
    throw new AppError('account_locked');
  }
  await upgradeLegacyHash(ctx, account, password);
  // Only writes are left (audit, session or challenge, notice): one statement on PostgreSQL.
  const step = await writeTogether(ctx.store, ctx.store.db, async (tx) => {
    await recordAudit(ctx, tx, { action: 'signin.succeeded', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, ip: meta.ip, detail: 'password' });
    return finishSignIn(ctx, tx, { account, firstFactor: 'password', meta });
  });
  return outcomeOf(ctx, account, step);
}

/** One audit row per refused sign-in: the account when the login names one, never the password. */
async function auditFailure(ctx: FlowContext, account: Account | undefined, meta: RequestMeta, reason: 'wrong_password' | 'rate_limited' | 'locked'): Promise<void> {
  await recordAudit(ctx, ctx.store.db, { action: 'signin.failed', actorKind: 'self', targetAccountId: account?.id ?? null, ip: meta.ip, detail: reason });
}
