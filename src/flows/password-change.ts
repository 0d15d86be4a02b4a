import { checkPassword, normalizePassword } from '../domain/password-policy.js';
import { iso } from '../kernel/clock.js';
import { AppError } from '../kernel/errors.js';
import { setPasswordHash } from '../store/accounts.repo.js';
import { cancelContactChanges } from '../store/contact-changes.repo.js';
import { listMemberPolicies } from '../store/portals.repo.js';
import { recordAudit } from './audit.js';
import type { Executor } from '../store/db.js';
import type { Account } from '../store/schema.js';
import { passwordChangedLetter } from '../ui/letters.js';
import type { FlowContext } from './context.js';
import { notMeLink } from './not-me.js';
import { endSessions } from './end-sessions.js';
import { killAccountSecrets } from './tokens.js';

/** Checks a new password against the policy for this account; throws `weak_password` with the reasons. */
export function assertStrongPassword(password: string, account: Pick<Account, 'login' | 'email' | 'name'>, minLength?: number): void {
  const reasons = checkPassword(password, { ...account, ...(minLength !== undefined ? { minLength } : {}) });
  if (reasons.length > 0) throw new AppError('weak_password', { reasons });
}

/**
 * Hashes a password that passed the policy (argon2id, outside any transaction: it takes tens of ms). An
 * existing account is held to the highest `--min-password-length` of the portals it is a member of.
 */
export async function hashNewPassword(
  ctx: Pick<FlowContext, 'hasher'> & Partial<Pick<FlowContext, 'store'>>,
  password: string,
  account: Pick<Account, 'login' | 'email' | 'name'> & { id?: string },
  options: { notCurrent?: CurrentPassword; minLength?: number | null } = {},
): Promise<string> {
  // The caller may have read the portals' policy along with the account (flows/complete-recovery.ts).
  const known = options.minLength !== undefined;
  const policies = known || !ctx.store || !account.id ? [] : await listMemberPolicies(ctx.store.db, account.id);
  const minLength = known ? (options.minLength ?? undefined) : policies.length > 0 ? Math.max(...policies.map((p) => Number(p.min_password_length))) : undefined;
  assertStrongPassword(password, account, minLength);
  const normalized = normalizePassword(password);
  const current = options.notCurrent;
  // The check against the stored hash runs beside the new hash, so a recovery takes no longer than before.
  const [hash, same] = await Promise.all([
    ctx.hasher.hash(normalized),
    current === undefined ? false : 'typed' in current ? normalizePassword(current.typed) === normalized : current.hash ? ctx.hasher.verify(current.hash, normalized) : false,
  ]);
  if (same) throw new AppError('weak_password', { reasons: ['same_as_current'] }, 'the new password is the current one');
  return hash;
}

/**
 * A person who sets their own password (recovery, checkword, change) must choose a new one (issue 14 item 7):
 * the current password as they just typed and proved it, or its stored hash when they did not type it.
 */
export type CurrentPassword = { typed: string } | { hash: string | null };

export interface PasswordChange {
  account: Account;
  hash: string;
  actorKind: 'self' | 'operator' | 'recovery' | 'admin';
  actorAccountId: string | null;
  ip: string | null;
  /** The session that made the change survives; every other one is revoked (SPEC §7 rule 10). */
  keepSessionHash?: string;
  /** The portal whose admin made the change, for its audit log. */
  portalId?: string;
  /**
   * The caller already ended the sessions (endSessions reads, so a caller writing through a write batch ends
   * them before the batch: flows/finish-sign-in.ts).
   */
  sessionsEnded?: boolean;
}

/**
 * Everything a password change implies, inside the caller's transaction: the new hash, every outstanding
 * token, open phone flow and pending contact change killed (rule 5), sessions revoked (rule 10), a "your password was changed"
 * notice, an audit event.
 */
export async function applyPasswordChange(ctx: Pick<FlowContext, 'clock' | 'random' | 'outbox' | 'settings'>, tx: Executor, change: PasswordChange): Promise<void> {
  const now = ctx.clock.now();
  const at = iso(now);
  const { account } = change;
  // A password the person chose themselves satisfies "must change at next sign-in" (one statement: each
  // round trip to the database is a large part of what a completion costs beyond its hash).
  await setPasswordHash(tx, account.id, change.hash, at, change.actorKind !== 'admin');
  await killAccountSecrets(tx, account.id, at);
  // A pending e-mail or phone change dies too: the password that asked for it may be the one just replaced.
  await cancelContactChanges(tx, account.id, at);
  // Every other session ends, with the applications signed in through it (SPEC §10 Logout).
  if (!change.sessionsEnded) await endSessions(ctx, tx, account.id, change.keepSessionHash ? { kind: 'all_but', keepSessionHash: change.keepSessionHash } : { kind: 'all' });
  if (account.email && account.email_verified_at) {
    const recoverUrl = new URL('/recover', ctx.settings.publicUrl).toString();
    const notMeUrl = await notMeLink(ctx, tx, { accountId: account.id, channel: 'email', contact: account.email, notice: 'password.changed' });
    await ctx.outbox.enqueueEmail(tx, 'password.changed', {
      to: account.email,
      ...passwordChangedLetter(account.locale, account.login, now, recoverUrl, notMeUrl, account.name),
    });
  }
  await recordAudit(ctx, tx, {
    action: 'password.changed',
    actorKind: change.actorKind,
    actorAccountId: change.actorAccountId,
    targetAccountId: account.id,
    portalId: change.portalId,
    ip: change.ip,
    at: now,
  });
}
