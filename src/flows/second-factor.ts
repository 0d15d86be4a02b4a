import { limits } from '../domain/limits.js';
import { normalizePassword } from '../domain/password-policy.js';
import type { Limit } from '../kernel/rate-limiter.js';
import { iso } from '../kernel/clock.js';
import { Sealer, sha256 } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import { findAccountById } from '../store/accounts.repo.js';
import type { Executor } from '../store/db.js';
import type { Account } from '../store/schema.js';
import {
  acceptStep,
  closeChallenge,
  countRecoveryCodesLeft,
  countWrongCode,
  deleteSecondFactor,
  findOpenChallenge,
  findSecondFactor,
  putPendingSecret,
  replaceRecoveryCodes,
  useRecoveryCode,
  type SecondFactorRow,
} from '../store/second-factor.repo.js';
import { endSuspensions, findLiveSuspension } from '../store/second-factor-suspensions.repo.js';
import { secondFactorLetter, type SecondFactorNotice } from '../ui/second-factor-letters.js';
import { notMeLink } from './not-me.js';
import { recordAudit } from './audit.js';
import type { FlowContext, RequestMeta } from './context.js';
import { CHALLENGE_MAX_ATTEMPTS, finishSignIn, outcomeOf, type FirstFactor, type SignInOutcome } from './finish-sign-in.js';
import { accountBudgetKey, assertBudgetsLeft, countFailure } from './limits.js';
import { newRecoveryCodes, normalizeRecoveryCode, recoveryCodeHash } from './recovery-codes.js';
import { matchingStep, newTotpSecret, totpUri } from './totp.js';

/**
 * The second factor (SPEC §9, rules 16–17): TOTP enrolment (password first, one code confirms), recovery
 * codes, the answer to a pending challenge, renewal and turning it off. Wrong secrets are counted per
 * account and per client (failures only, rule 20).
 */

type Budget = [bucket: string, key: string, limit: Limit];
const totpSealer = (ctx: Pick<FlowContext, 'secretKey' | 'random'>) => new Sealer(ctx.secretKey, ctx.random, 'totp');
const manageBudgets = (account: Account, meta: RequestMeta): Budget[] => [
  ['2fa-manage:account', account.id, limits.secondFactorManagePerAccount],
  ['2fa:ip', meta.ip, limits.secondFactorPerIp],
];

export interface SecondFactorStatus {
  enabled: boolean;
  recoveryCodesLeft: number;
  /** A portal admin's pause lives (issue 11, item 5): a new factor may replace the one that is on. */
  suspended: boolean;
}

export async function secondFactorStatus(db: Executor, accountId: string, now: string): Promise<SecondFactorStatus> {
  const factor = await findSecondFactor(db, accountId);
  const enabled = factor !== undefined && factor.confirmed_at !== null;
  const suspended = (await findLiveSuspension(db, accountId, now)) !== undefined;
  return { enabled, recoveryCodesLeft: enabled ? await countRecoveryCodesLeft(db, accountId) : 0, suspended };
}

/** The password of the person changing their second factor; wrong ones count against the account. */
async function assertPassword(ctx: FlowContext, account: Account, password: string, meta: RequestMeta): Promise<void> {
  const budgets = manageBudgets(account, meta);
  await assertBudgetsLeft(ctx, budgets);
  const ok = account.password_hash ? await ctx.hasher.verify(account.password_hash, normalizePassword(password)) : await ctx.hasher.verifyDummy(normalizePassword(password));
  if (!ok) throw (await countFailure(ctx, budgets)) ?? new AppError('invalid_credentials');
}

function openSecret(ctx: Pick<FlowContext, 'secretKey' | 'random'>, factor: SecondFactorRow): string {
  return totpSealer(ctx).open(factor.totp_secret_sealed);
}

export interface Enrolment {
  /** Base32, for typing into the app by hand. */
  secret: string;
  /** `otpauth://totp/…`, for the QR code. */
  uri: string;
}

/** Step 1: with the password, a new secret (160 bits, sealed at rest), not active until a code confirms it. */
export async function startTotpEnrolment(ctx: FlowContext, input: { account: Account; password: string }, meta: RequestMeta): Promise<Enrolment> {
  const { account } = input;
  await assertPassword(ctx, account, input.password, meta);
  const status = await secondFactorStatus(ctx.store.db, account.id, iso(ctx.clock.now()));
  if (status.enabled && !status.suspended) throw new AppError('invalid_request', { field: 'twoFactor' }, 'second factor already on');
  // During a pause the lost factor gives way to the new one; the pause (not the old factor) keeps the
  // sign-in held to one portal until the new factor is confirmed.
  if (status.enabled) await deleteSecondFactor(ctx.store.db, account.id);
  const secret = newTotpSecret(ctx.random.bytes(20));
  await putPendingSecret(ctx.store.db, account.id, totpSealer(ctx).seal(secret), iso(ctx.clock.now()));
  return { secret, uri: totpUri(secret, account.login, ctx.settings.totpIssuer) };
}

/** The enrolment waiting for its code, if any (the page shows its QR code again after a wrong code). */
export async function pendingEnrolment(ctx: FlowContext, account: Account): Promise<Enrolment | undefined> {
  const factor = await findSecondFactor(ctx.store.db, account.id);
  if (!factor || factor.confirmed_at !== null) return undefined;
  const secret = openSecret(ctx, factor);
  return { secret, uri: totpUri(secret, account.login, ctx.settings.totpIssuer) };
}

/** Step 2: one code from the app turns the factor on and gives the 10 recovery codes, shown this once. */
export async function confirmTotp(ctx: FlowContext, input: { account: Account; code: string }, meta: RequestMeta): Promise<{ recoveryCodes: string[] }> {
  const { account } = input;
  const budgets = manageBudgets(account, meta);
  await assertBudgetsLeft(ctx, budgets);
  const factor = await findSecondFactor(ctx.store.db, account.id);
  if (!factor || factor.confirmed_at !== null) throw new AppError('invalid_request', { field: 'code' }, 'no enrolment waiting');
  const now = ctx.clock.now();
  const step = matchingStep(openSecret(ctx, factor), input.code, now);
  const recoveryCodes = newRecoveryCodes(ctx.random);
  const confirmed =
    step !== undefined &&
    (await ctx.store.db.transaction().execute(async (tx) => {
      if (!(await acceptStep(tx, account.id, step, { confirmAt: iso(now) }))) return false;
      await replaceRecoveryCodes(tx, account.id, recoveryCodes.map((code) => recoveryCodeHash(ctx.secretKey, account.id, normalizeRecoveryCode(code) ?? code)), iso(now));
      await endSuspensions(tx, account.id, iso(now));
      await notify(ctx, tx, account, 'enabled', meta);
      return true;
    }));
  if (!confirmed) throw (await countFailure(ctx, budgets)) ?? new AppError('invalid_code');
  ctx.outbox.kick();
  return { recoveryCodes };
}

/** A new set of recovery codes (with the password); every old one dies. */
export async function renewRecoveryCodes(ctx: FlowContext, input: { account: Account; password: string }, meta: RequestMeta): Promise<{ recoveryCodes: string[] }> {
  const { account } = input;
  await assertPassword(ctx, account, input.password, meta);
  if (!(await secondFactorStatus(ctx.store.db, account.id, iso(ctx.clock.now()))).enabled) throw new AppError('invalid_request', { field: 'twoFactor' }, 'second factor is off');
  const recoveryCodes = newRecoveryCodes(ctx.random);
  await ctx.store.db.transaction().execute(async (tx) => {
    await replaceRecoveryCodes(tx, account.id, recoveryCodes.map((code) => recoveryCodeHash(ctx.secretKey, account.id, normalizeRecoveryCode(code) ?? code)), iso(ctx.clock.now()));
    await notify(ctx, tx, account, 'codes_renewed', meta);
  });
  ctx.outbox.kick();
  return { recoveryCodes };
}

/** Turns the factor off: the password and a code (from the app or a recovery code), both. */
export async function disableSecondFactor(ctx: FlowContext, input: { account: Account; password: string; code: string }, meta: RequestMeta): Promise<void> {
  const { account } = input;
  await assertPassword(ctx, account, input.password, meta);
  const factor = await findSecondFactor(ctx.store.db, account.id);
  if (!factor || factor.confirmed_at === null) throw new AppError('invalid_request', { field: 'twoFactor' }, 'second factor is off');
  const done = await ctx.store.db.transaction().execute(async (tx) => {
    if (!(await useFactor(ctx, tx, account, factor, input.code))) return false;
    await deleteSecondFactor(tx, account.id);
    await notify(ctx, tx, account, 'disabled', meta);
    return true;
  });
  if (!done) throw (await countFailure(ctx, manageBudgets(account, meta))) ?? new AppError('invalid_code');
  ctx.outbox.kick();
}

/**
 * Uses one code, inside the caller's transaction: a TOTP code moves the account's last step forward (a step
 * is accepted once, rule 16), a recovery code is marked used; parallel uses of one code give one `true`.
 */
async function useFactor(ctx: FlowContext, tx: Executor, account: Account, factor: SecondFactorRow, code: string, only?: 'recovery_code'): Promise<'totp' | 'recovery_code' | undefined> {
  const step = only ? undefined : matchingStep(openSecret(ctx, factor), code, ctx.clock.now());
  if (step !== undefined) return (await acceptStep(tx, account.id, step)) ? 'totp' : undefined;
  const recovery = normalizeRecoveryCode(code);
  if (recovery && (await useRecoveryCode(tx, account.id, recoveryCodeHash(ctx.secretKey, account.id, recovery), iso(ctx.clock.now())))) return 'recovery_code';
  return undefined;
}

export interface ChallengeAnswer {
  /** The `lk_pending` cookie's value. */
  challenge: string | undefined;
  code?: string | undefined;
  recoveryCode?: string | undefined;
}

/**
 * The answer to a pending challenge (`POST /api/v1/session/second-factor`, `/login/2fa`). No live challenge:
 * `second_factor_required`. A wrong or replayed code: `invalid_code`, and the fifth one closes the challenge
 * (`too_many_attempts`), even for a right code after it. A right one closes the challenge and opens the
 * session in one transaction, through the one sign-in path.
 */
export async function answerChallenge(ctx: FlowContext, input: ChallengeAnswer, meta: RequestMeta): Promise<{ outcome: SignInOutcome; returnTo: string | null }> {
  const token = input.challenge;
  if (!token || token.length > 100) throw new AppError('second_factor_required');
  const idHash = sha256(token);
  const challenge = await findOpenChallenge(ctx.store.db, idHash, iso(ctx.clock.now()), CHALLENGE_MAX_ATTEMPTS);
  const account = challenge ? await findAccountById(ctx.store.db, challenge.account_id) : undefined;
  if (!challenge || !account || account.status !== 'active') throw new AppError('second_factor_required');
  const budgets: Budget[] = [
    ['2fa:account', accountBudgetKey(account.id, account), limits.secondFactorPerAccount],
    ['2fa:ip', meta.ip, limits.secondFactorPerIp],
  ];
  // The owner's browser (its device cookie vouches for the account) is held to its own budget, so wrong
  // codes typed elsewhere by someone who has the password never refuse the owner's right one (rule 20).
  const deviceBudget: Budget | undefined =
    meta.deviceId && meta.knownAccounts?.has(account.id) ? ['2fa:device', accountBudgetKey(`${account.id}:${meta.deviceId}`, account), limits.secondFactorPerDevice] : undefined;
  await assertBudgetsLeft(ctx, deviceBudget ? [deviceBudget] : budgets);

  const factor = await findSecondFactor(ctx.store.db, account.id);
  const typed = input.recoveryCode ?? input.code ?? '';
  const step = await ctx.store.db.transaction().execute(async (tx) => {
    const only = input.recoveryCode !== undefined ? 'recovery_code' : undefined;
    const used = factor && factor.confirmed_at !== null ? await useFactor(ctx, tx, account, factor, typed, only) : undefined;
    if (!used) return undefined;
    // Two right answers at once: one closes the challenge, the other is rolled back.
    if (!(await closeChallenge(tx, idHash, iso(ctx.clock.now())))) throw new AppError('second_factor_required');
    await recordAudit(ctx, tx, { action: 'signin.second_factor_passed', actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, ip: meta.ip, detail: used });
    if (used === 'recovery_code') await notify(ctx, tx, account, 'code_used', meta);
    return finishSignIn(ctx, tx, { account, firstFactor: challenge.first_factor as FirstFactor, meta, secondFactorPassed: used });
  });
  if (!step) {
    const refusal = await countFailure(ctx, deviceBudget ? [...budgets, deviceBudget] : budgets);
    const attempts = await countWrongCode(ctx.store.db, idHash, iso(ctx.clock.now()), CHALLENGE_MAX_ATTEMPTS);
    if (attempts >= CHALLENGE_MAX_ATTEMPTS) throw new AppError('too_many_attempts');
    throw refusal ?? new AppError('invalid_code');
  }
  ctx.outbox.kick();
  return { outcome: await outcomeOf(ctx, account, step), returnTo: challenge.return_to };
}

async function notify(ctx: FlowContext, tx: Executor, account: Account, notice: SecondFactorNotice, meta: RequestMeta): Promise<void> {
  const now = ctx.clock.now();
  await recordAudit(ctx, tx, { action: `2fa.${notice}`, actorKind: 'self', actorAccountId: account.id, targetAccountId: account.id, ip: meta.ip });
  if (!account.email || !account.email_verified_at) return;
  const codesLeft = notice === 'code_used' ? await countRecoveryCodesLeft(tx, account.id) : undefined;
  const recoverUrl = new URL('/recover', ctx.settings.publicUrl).toString();
  const notMeUrl = await notMeLink(ctx, tx, { accountId: account.id, channel: 'email', contact: account.email, notice: `2fa.${notice}` });
  const letter = secondFactorLetter(account.locale, notice, { login: account.login, name: account.name, when: now, recoverUrl, notMeUrl, ...(codesLeft !== undefined ? { codesLeft } : {}) });
  await ctx.outbox.enqueueEmail(tx, `2fa.${notice}`, { to: account.email, ...letter });
}
