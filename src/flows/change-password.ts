import { limits } from '../domain/limits.js';
import { normalizePassword } from '../domain/password-policy.js';
import { AppError } from '../kernel/errors.js';
import type { Account } from '../store/schema.js';
import type { FlowContext, RequestMeta } from './context.js';
import { enforce } from './limits.js';
import { applyPasswordChange, hashNewPassword } from './password-change.js';

/** `/account`: a signed-in person changes their own password; the current one is required. */
export async function changeOwnPassword(
  ctx: FlowContext,
  input: { account: Account; sessionHash: string; currentPassword: string; newPassword: string },
  meta: RequestMeta,
): Promise<void> {
  const { account } = input;
  await enforce(ctx, [['password:account', account.id, limits.changePasswordPerAccount]]);
  const ok = account.password_hash
    ? await ctx.hasher.verify(account.password_hash, normalizePassword(input.currentPassword))
    : await ctx.hasher.verifyDummy(input.currentPassword);
  if (!ok) throw new AppError('invalid_credentials', {}, 'current password mismatch');
  const hash = await hashNewPassword(ctx, input.newPassword, account, { notCurrent: { typed: input.currentPassword } });
  await ctx.store.db.transaction().execute((tx) =>
    applyPasswordChange(ctx, tx, { account, hash, actorKind: 'self', actorAccountId: account.id, ip: meta.ip, keepSessionHash: input.sessionHash }),
  );
  ctx.outbox.kick();
}
