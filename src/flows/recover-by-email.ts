import { recoveryChannelAllowed } from '../store/portals.repo.js';
import { parseIdentifier } from '../domain/identifiers.js';
import type { RecoveryRequestJob } from '../delivery/outbox.js';
import { findAccountByIdentifier } from '../store/accounts.repo.js';
import type { Executor } from '../store/db.js';
import { listLinkedProviders } from '../store/social-identities.repo.js';
import { recoveryLetter, socialRecoveryLetter } from '../ui/letters.js';
import type { FlowContext, RequestMeta } from './context.js';
import { recordAudit } from './audit.js';
import { assertEdition } from './edition.js';
import { enforceRecoveryRequestLimits } from './limits.js';
import { canRecoverByEmail, issueToken } from './tokens.js';
import { writeTogether } from '../store/write-batch.js';

/**
 * Seed C2, first half. The request only records a job: the same single insert for every login, so the
 * answer's status, body and timing say nothing about whether the account exists (SPEC §7 rule 6).
 */
export async function requestEmailRecovery(ctx: FlowContext, input: { login: string }, meta: RequestMeta): Promise<void> {
  // The box edition recovers by checkword instead (seed B1).
  assertEdition(ctx, 'cloud');
  const identifier = parseIdentifier(input.login, ctx.settings.smsDefaultRegion);
  await enforceRecoveryRequestLimits(ctx, identifier.key, meta.ip);
  await ctx.outbox.enqueueJob(ctx.store.db, 'recovery.email.request', { identifier: input.login, ip: meta.ip });
  ctx.outbox.kick();
}

/** The recovery link; its token is the only copy of the secret (the database keeps its sha256). */
export function recoveryLink(publicUrl: URL, token: string): string {
  return new URL(`/recover/email/${token}`, publicUrl).toString();
}

/**
 * Worker side: resolves the request (an audit event when the login names an account) and, for an active account
 * with a verified e-mail, kills older links (rule 5), stores a new token's hash and queues the letter, all in the
 * worker's transaction. Reads first; the writes then go as one batch (store/write-batch.ts): under a backlog the
 * worker's speed is its round trips, and a person waits for this letter.
 */
export async function issueRecoveryLink(ctx: Pick<FlowContext, 'clock' | 'random' | 'outbox' | 'settings' | 'social' | 'store'>, tx: Executor, job: RecoveryRequestJob): Promise<boolean> {
  const account = await findAccountByIdentifier(tx, parseIdentifier(job.identifier, ctx.settings.smsDefaultRegion));
  if (!account) return false;
  // The address the letter goes to; none when every portal of the person turned e-mail recovery off (no
  // letter, and the request answered as any other).
  const to = canRecoverByEmail(account) && (await recoveryChannelAllowed(tx, account.id, 'email')) ? account.email : undefined;
  // Seed C6: an account registered through a social network has no password to recover; its letter says
  // to sign in with the provider (or recover there) and offers the same link to create a password instead.
  const providers = to !== undefined && account.password_hash === null ? await listLinkedProviders(tx, account.id) : [];
  return writeTogether(ctx.store, tx, async (writes) => {
    // Written here, not at request time, so the request stays the same single insert for every login (rule 6).
    await recordAudit(ctx, writes, { action: 'recovery.requested', actorKind: 'recovery', targetAccountId: account.id, ip: job.ip ?? null, detail: 'email' });
    if (to === undefined) return false;
    const token = await issueToken(ctx, writes, { accountId: account.id, purpose: 'email_link', lifetimeMs: ctx.settings.emailLinkTtlMinutes * 60_000 });
    const link = recoveryLink(ctx.settings.publicUrl, token);
    const letter =
      providers.length > 0
        ? socialRecoveryLetter(account.locale, {
            login: account.login,
            name: account.name,
            providers: providers.map((id) => ({ title: ctx.social.get(id)?.title ?? id, recoveryUrl: ctx.social.get(id)?.recoveryUrl })),
            signInUrl: new URL('/login', ctx.settings.publicUrl).toString(),
            link,
            minutes: ctx.settings.emailLinkTtlMinutes,
          })
        : recoveryLetter(account.locale, account.login, link, ctx.settings.emailLinkTtlMinutes, account.name);
    await ctx.outbox.enqueueEmail(writes, providers.length > 0 ? 'recovery.email.social' : 'recovery.email', { to, ...letter });
    return true;
  });
}
