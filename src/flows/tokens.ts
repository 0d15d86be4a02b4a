import { addMs, iso } from '../kernel/clock.js';
import { newSecretToken, sha256 } from '../kernel/crypto.js';
import type { Executor } from '../store/db.js';
import { closeOpenFlowsOfAccount } from '../store/phone-flows.repo.js';
import { insertRecoveryToken, revokeAccountTokens, type RecoveryTokenRow } from '../store/recovery-tokens.repo.js';
import type { Account } from '../store/schema.js';
import type { FlowContext } from './context.js';

/**
 * Kills every outstanding secret of an account, inside the caller's transaction: its unused tokens and its
 * open phone flows (SPEC §7 rule 5). A new token, a password change, a contact change or disabling the
 * account each call this, so no secret issued before them is good after them.
 */
export async function killAccountSecrets(tx: Executor, accountId: string, now: string): Promise<void> {
  await revokeAccountTokens(tx, accountId, now);
  await closeOpenFlowsOfAccount(tx, accountId, now);
}

/**
 * Issues a fresh single-use secret for an account, inside the caller's transaction: every outstanding secret
 * of the account (tokens and open phone flows) dies first (SPEC §7 rule 5) and only the new one's sha256 is
 * stored (rule 1). The returned secret goes into exactly one message and nowhere else.
 */
export async function issueToken(
  ctx: Pick<FlowContext, 'clock' | 'random'>,
  tx: Executor,
  input: { accountId: string; purpose: RecoveryTokenRow['purpose']; lifetimeMs: number; portalId?: string; channel?: 'email' | 'phone' },
): Promise<string> {
  const now = ctx.clock.now();
  const token = newSecretToken(ctx.random);
  await killAccountSecrets(tx, input.accountId, iso(now));
  await insertRecoveryToken(tx, {
    token_hash: sha256(token),
    account_id: input.accountId,
    purpose: input.purpose,
    created_at: iso(now),
    expires_at: iso(addMs(now, input.lifetimeMs)),
    consumed_at: null,
    revoked_at: null,
    portal_id: input.portalId ?? null,
    channel: input.channel ?? null,
  });
  return token;
}

/** Self-service e-mail recovery goes only to active accounts with a verified address (SPEC §2). */
export function canRecoverByEmail(account: Account | undefined): account is Account & { email: string } {
  return account !== undefined && account.status === 'active' && account.email !== null && account.email_verified_at !== null;
}
