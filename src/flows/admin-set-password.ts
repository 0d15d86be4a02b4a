import { AppError } from '../kernel/errors.js';
import { findAccountById, setMustChangePassword } from '../store/accounts.repo.js';
import { recordAudit } from './audit.js';
import type { AdminActor } from './admin-access.js';
import { requireMember } from './admin-access.js';
import type { FlowContext } from './context.js';
import { assertEdition } from './edition.js';
import { applyPasswordChange, hashNewPassword } from './password-change.js';

/**
 * Seed B3: a box admin sets an employee's password (twice, optionally "must change at next sign-in").
 * The employee's sessions are revoked and a notice is queued. A cloud admin never sets passwords (rule 13).
 */
export async function setPasswordByAdmin(
  ctx: FlowContext,
  actor: AdminActor,
  targetId: string,
  input: { password: string; passwordConfirm?: string | undefined; mustChange?: boolean | undefined },
): Promise<void> {
  assertEdition(ctx, 'box');
  const member = await requireMember(ctx, actor, targetId);
  if (input.passwordConfirm !== undefined && input.passwordConfirm !== input.password) {
    throw new AppError('invalid_request', { field: 'passwordConfirm' }, 'the passwords differ');
  }
  const account = await findAccountById(ctx.store.db, member.id);
  if (!account) throw new AppError('not_found');
  const hash = await hashNewPassword(ctx, input.password, account);
  await ctx.store.db.transaction().execute(async (tx) => {
    await applyPasswordChange(ctx, tx, { account, hash, actorKind: 'admin', actorAccountId: actor.account.id, ip: actor.ip, portalId: actor.portal.id });
    await setMustChangePassword(tx, account.id, input.mustChange === true);
    await recordAudit(ctx, tx, {
      action: 'admin.password.set',
      actorKind: 'admin',
      actorAccountId: actor.account.id,
      targetAccountId: account.id,
      portalId: actor.portal.id,
      ip: actor.ip,
      detail: input.mustChange ? 'must_change' : null,
    });
  });
  ctx.outbox.kick();
}
