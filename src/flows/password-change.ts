import { checkPassword, normalizePassword } from '../domain/password-policy.js';
import { iso } from '../kernel/clock.js';
import { AppError } from '../kernel/errors.js';
import { setPasswordHash } from '../store/accounts.repo.js';
import { listMemberPolicies } from '../store/portals.repo.js';
import { recordAudit } from './audit.js';
import type { Executor } from '../store/db.js';
import type { Account } from '../store/schema.js';
import { revokeAccountSessions } from '../store/sessions.repo.js';
import { passwordChangedLetter } from '../ui/letters.js';
import type { FlowContext } from './context.js';
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
): Promise<string> {
  const policies = ctx.store && account.id ? await listMemberPolicies(ctx.store.db, account.id) : [];
  const minLength = policies.length > 0 ? Math.max(...policies.map((p) => Number(p.min_password_length))) : undefined;
  assertStrongPassword(password, account, minLength);
  return ctx.hasher.hash(normalizePassword(password));
}

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
}

/**
 * Everything a password change implies, inside the caller's transaction: the new hash, every outstanding
 * token and open phone flow killed (rule 5), sessions revoked (rule 10), a "your password was changed"
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
  await revokeAccountSessions(tx, account.id, at, change.keepSessionHash);
  if (account.email && account.email_verified_at) {
    const recoverUrl = new URL('/recover', ctx.settings.publicUrl).toString();
    await ctx.outbox.enqueueEmail(tx, 'password.changed', {
      to: account.email,
      ...passwordChangedLetter(account.locale, account.login, now, recoverUrl, account.name),
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
