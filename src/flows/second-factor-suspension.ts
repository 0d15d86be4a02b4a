import { addMs, iso } from '../kernel/clock.js';
import { newId } from '../kernel/crypto.js';
import { AppError } from '../kernel/errors.js';
import type { Limit } from '../kernel/rate-limiter.js';
import { findAccountById, findAccountByIdentifier } from '../store/accounts.repo.js';
import { loginKey } from '../domain/identifiers.js';
import type { Executor } from '../store/db.js';
import type { Account } from '../store/schema.js';
import { closeAccountChallenges, deleteSecondFactor, hasActiveSecondFactor } from '../store/second-factor.repo.js';
import { endSuspensions, insertSuspension } from '../store/second-factor-suspensions.repo.js';
import { secondFactorLetter, type SecondFactorNotice } from '../ui/second-factor-letters.js';
import { notMeLink } from './not-me.js';
import { requireMember, type AdminActor } from './admin-access.js';
import { recordAudit } from './audit.js';
import type { FlowContext } from './context.js';
import { enforce } from './limits.js';

/**
 * A lost phone (issue 11, item 5): a portal admin pauses a member's second factor for 1–168 hours. While the
 * pause lives a first factor alone signs the person in, held to that portal (`finishSignIn`); enrolling a new
 * factor ends it. The operator's last resort is `latchkey user reset-2fa`, which removes the factor outright.
 */

export const SUSPEND_MIN_HOURS = 1;
export const SUSPEND_MAX_HOURS = 168;
const perAdmin: Limit = { max: 30, windowMs: 3600_000 };
const perTarget: Limit = { max: 5, windowMs: 24 * 3600_000 };

export async function suspendSecondFactor(ctx: FlowContext, actor: AdminActor, targetId: string, hours: unknown): Promise<{ expiresAt: string }> {
  if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < SUSPEND_MIN_HOURS || hours > SUSPEND_MAX_HOURS) {
    throw new AppError('invalid_request', { field: 'hours' }, `hours: a whole number from ${SUSPEND_MIN_HOURS} to ${SUSPEND_MAX_HOURS}`);
  }
  const member = await requireMember(ctx, actor, targetId);
  if (member.membership !== 'active') throw new AppError('not_found');
  await enforce(ctx, [
    ['2fa-suspend:admin', actor.account.id, perAdmin],
    ['2fa-suspend:target', member.id, perTarget],
  ]);
  const account = await findAccountById(ctx.store.db, member.id);
  if (!account || account.status !== 'active') throw new AppError('not_found');
  if (!(await hasActiveSecondFactor(ctx.store.db, account.id))) throw new AppError('invalid_request', { field: 'twoFactor' }, 'the member has no second factor');
  const now = ctx.clock.now();
  const expiresAt = addMs(now, hours * 3600_000);
  await ctx.store.db.transaction().execute(async (tx) => {
    await insertSuspension(tx, { id: newId(ctx.random), account_id: account.id, portal_id: actor.portal.id, suspended_by: actor.account.id, created_at: iso(now), expires_at: iso(expiresAt) });
    await recordAudit(ctx, tx, { action: 'admin.member.2fa_suspended', actorKind: 'admin', actorAccountId: actor.account.id, targetAccountId: account.id, portalId: actor.portal.id, ip: actor.ip, detail: `hours=${hours}` });
    await tellOwner(ctx, tx, account, 'suspended', { portal: actor.portal.title, until: expiresAt });
  });
  ctx.outbox.kick();
  return { expiresAt: iso(expiresAt) };
}

/** `latchkey user reset-2fa <login>`: the factor, its recovery codes, open challenges and pauses go; audited, the person told. */
export async function resetSecondFactorByOperator(ctx: FlowContext, login: string): Promise<boolean> {
  const account = await findAccountByIdentifier(ctx.store.db, { kind: 'login', key: loginKey(login) });
  if (!account) throw new AppError('not_found', { field: 'login' }, `no account with login ${login}`);
  const had = await hasActiveSecondFactor(ctx.store.db, account.id);
  const at = iso(ctx.clock.now());
  await ctx.store.db.transaction().execute(async (tx) => {
    await deleteSecondFactor(tx, account.id);
    await closeAccountChallenges(tx, account.id, at);
    await endSuspensions(tx, account.id, at);
    await recordAudit(ctx, tx, { action: 'operator.2fa.reset', actorKind: 'operator', targetAccountId: account.id, detail: had ? 'factor=on' : 'factor=off' });
    if (had) await tellOwner(ctx, tx, account, 'reset', {});
  });
  ctx.outbox.kick();
  return had;
}

async function tellOwner(ctx: FlowContext, tx: Executor, account: Account, notice: SecondFactorNotice, extra: { portal?: string; until?: Date }): Promise<void> {
  if (!account.email || !account.email_verified_at) return;
  const recoverUrl = new URL('/recover', ctx.settings.publicUrl).toString();
  const notMeUrl = await notMeLink(ctx, tx, { accountId: account.id, channel: 'email', contact: account.email, notice: `2fa.${notice}` });
  const letter = secondFactorLetter(account.locale, notice, { login: account.login, name: account.name, when: ctx.clock.now(), recoverUrl, notMeUrl, ...extra });
  await ctx.outbox.enqueueEmail(tx, `2fa.${notice}`, { to: account.email, ...letter });
}
