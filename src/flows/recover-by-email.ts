import { parseIdentifier } from '../domain/identifiers.js';
import { limits } from '../domain/limits.js';
import { addMs, iso } from '../kernel/clock.js';
import { newSecretToken, sha256 } from '../kernel/crypto.js';
import type { RecoveryRequestJob } from '../delivery/outbox.js';
import { findAccountByIdentifier } from '../store/accounts.repo.js';
import type { Executor } from '../store/db.js';
import { insertRecoveryToken, revokeAccountTokens } from '../store/recovery-tokens.repo.js';
import { recoveryLetter } from '../ui/letters.js';
import type { FlowContext, RequestMeta } from './context.js';
import { assertEdition } from './edition.js';
import { enforce } from './limits.js';

/**
 * Seed C2, first half. The request only records a job: the same single insert for every login, so the
 * answer's status, body and timing say nothing about whether the account exists (SPEC §7 rule 6).
 */
export async function requestEmailRecovery(ctx: FlowContext, input: { login: string }, meta: RequestMeta): Promise<void> {
  // The box edition recovers by checkword instead (seed B1).
  assertEdition(ctx, 'cloud');
  const identifier = parseIdentifier(input.login, ctx.settings.smsDefaultRegion);
  await enforce(ctx, [
    ['recovery:ip', meta.ip, limits.recoveryPerIp],
    ['recovery:login', identifier.key, limits.recoveryPerLogin],
    ['recovery:global', '*', limits.recoveryGlobal],
  ]);
  await ctx.outbox.enqueueRecoveryRequest(ctx.store.db, { identifier: input.login });
  ctx.outbox.kick();
}

/** The recovery link; its token is the only copy of the secret (the database keeps its sha256). */
export function recoveryLink(publicUrl: URL, token: string): string {
  return new URL(`/recover/email/${token}`, publicUrl).toString();
}

/**
 * Worker side: resolves the request and, for an active account with a verified e-mail, kills older
 * links (rule 5), stores a new token's hash and queues the letter, all in the worker's transaction.
 */
export async function issueRecoveryLink(ctx: Pick<FlowContext, 'clock' | 'random' | 'outbox' | 'settings'>, tx: Executor, job: RecoveryRequestJob): Promise<boolean> {
  const account = await findAccountByIdentifier(tx, parseIdentifier(job.identifier, ctx.settings.smsDefaultRegion));
  if (!account || account.status !== 'active' || !account.email || !account.email_verified_at) return false;
  const now = ctx.clock.now();
  const token = newSecretToken(ctx.random);
  await revokeAccountTokens(tx, account.id, iso(now));
  await insertRecoveryToken(tx, {
    token_hash: sha256(token),
    account_id: account.id,
    purpose: 'email_link',
    created_at: iso(now),
    expires_at: iso(addMs(now, ctx.settings.emailLinkTtlMinutes * 60_000)),
    consumed_at: null,
    revoked_at: null,
  });
  const letter = recoveryLetter(account.locale, account.login, recoveryLink(ctx.settings.publicUrl, token), ctx.settings.emailLinkTtlMinutes);
  await ctx.outbox.enqueueEmail(tx, 'recovery.email', { to: account.email, ...letter });
  return true;
}
